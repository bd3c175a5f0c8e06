import { bodyText } from "../../src/providers/request-body.js";

/** A codec's upstream request body, parsed (the OpenAI codec may hand over the client's bytes). */
export function parseBody(body: string | Uint8Array): unknown {
  return JSON.parse(bodyText(body));
}
