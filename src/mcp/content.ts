// What a tool call gives back to the model: MCP content blocks flattened to the one string an
// OpenAI `tool` message carries, and fixed texts for calls that did not complete.

/** The parts of an MCP content block the model is shown; others (annotations, _meta) are dropped. */
interface ContentBlockLike {
  type: string;
  text?: unknown;
  data?: unknown;
  mimeType?: unknown;
  resource?: unknown;
}

/** No blocks: "". One text block: its text. Anything else: a JSON array of the blocks. */
export function toolResultText(blocks: readonly ContentBlockLike[] | undefined): string {
  if (blocks === undefined || blocks.length === 0) return "";
  const first = blocks[0] as ContentBlockLike;
  if (blocks.length === 1 && first.type === "text" && typeof first.text === "string") return first.text;
  return JSON.stringify(
    blocks.map((b) => {
      const out: Record<string, unknown> = { type: b.type };
      if (b.text !== undefined) out.text = b.text;
      if (b.data !== undefined) out.data = b.data;
      if (b.mimeType !== undefined) out.mimeType = b.mimeType;
      if (b.resource !== undefined) out.resource = b.resource;
      return out;
    }),
  );
}

/**
 * Why a call did not complete, as the model sees it. Fixed texts, not the error's message: a
 * transport error can carry a URL with credentials or a server's internals.
 */
export type ToolFailure = "timeout" | "unavailable" | "failed" | "unknown_tool";

export function toolFailureText(kind: ToolFailure, tool: string): string {
  switch (kind) {
    case "timeout":
      return '{"error":"the tool call timed out"}';
    case "unavailable":
      return '{"error":"the tool server is unavailable"}';
    case "unknown_tool":
      return JSON.stringify({ error: `tool ${tool} is not offered by any connected MCP server` });
    default:
      return '{"error":"the tool call failed"}';
  }
}
