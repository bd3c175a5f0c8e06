// The Bedrock Converse wire (AWS Bedrock Runtime): Converse for whole responses, ConverseStream
// over binary AWS event-stream framing for streams, InvokeModel for embeddings.
import type { WireCodec } from "../../providers/types.js";
import { registerDecoder } from "../decode.js";
import { bedrockEmbeddingsRequest, bedrockEmbeddingsResponse } from "./embeddings.js";
import { parseBedrockError } from "./errors.js";
import { AwsEventStreamDecoder } from "./eventstream.js";
import { converseRequest } from "./request.js";
import { converseResponse } from "./response.js";
import { ConverseStreamTranslator } from "./stream.js";

registerDecoder("aws-eventstream", () => new AwsEventStreamDecoder());

export const bedrockConverseCodec: WireCodec = {
  name: "bedrock-converse",
  openaiWire: false,
  streamFraming: "aws-eventstream",
  chatRequest: converseRequest,
  chatResponse: converseResponse,
  chatStream: (ctx) => new ConverseStreamTranslator(ctx),
  embeddingsRequest: bedrockEmbeddingsRequest,
  embeddingsResponse: bedrockEmbeddingsResponse,
  parseError: parseBedrockError,
};

export { converseBody, converseRequest, modelPath } from "./request.js";
export { converseResponse, converseUsage, finishReason } from "./response.js";
export { ConverseStreamTranslator } from "./stream.js";
export { AwsEventStreamDecoder, encodeEvent } from "./eventstream.js";
export { parseBedrockError } from "./errors.js";
