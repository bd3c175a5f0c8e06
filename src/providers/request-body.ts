// An upstream request body as text: codecs produce JSON text, except that the OpenAI codec may
// hand over the client's own bytes (CodecContext.clientBody).
export function bodyText(body: string | Uint8Array): string {
  return typeof body === "string" ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString("utf8");
}
