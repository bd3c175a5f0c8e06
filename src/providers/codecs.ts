// One codec instance per wire (and per OpenAI quirk set), shared by every provider speaking it.
import { anthropicCodec } from "../wire/anthropic/index.js";
import { bedrockConverseCodec } from "../wire/bedrock-converse/index.js";
import { cohereCodec } from "../wire/cohere/index.js";
import { geminiCodec } from "../wire/gemini/index.js";
import { createOpenAICodec } from "../wire/openai/codec.js";
import { replicateCodec } from "../wire/replicate/index.js";
import { vertexCodec } from "../wire/vertex/index.js";
import type { WireCodec } from "./types.js";
import type { VendorSpec } from "./vendors.js";

const openaiCodecs = new Map<string, WireCodec>();

export function codecFor(vendor: VendorSpec): WireCodec {
  switch (vendor.wire) {
    case "anthropic":
      return anthropicCodec;
    case "gemini":
      return geminiCodec;
    case "bedrock-converse":
      return bedrockConverseCodec;
    case "vertex":
      return vertexCodec;
    case "cohere":
      return cohereCodec;
    case "replicate":
      return replicateCodec;
    case "openai": {
      let codec = openaiCodecs.get(vendor.kind);
      if (!codec) {
        codec = createOpenAICodec(vendor.quirks);
        openaiCodecs.set(vendor.kind, codec);
      }
      return codec;
    }
  }
}
