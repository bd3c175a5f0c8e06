// MCP tool results as the text of an OpenAI `tool` message.
import { describe, expect, it } from "vitest";
import { toolFailureText, toolResultText } from "../../src/mcp/content.js";

describe("toolResultText", () => {
  it("passes a single text block as its text, and no blocks as an empty string", () => {
    expect(toolResultText([{ type: "text", text: "Sunny, 21 C" }])).toBe("Sunny, 21 C");
    expect(toolResultText([])).toBe("");
    expect(toolResultText(undefined)).toBe("");
  });

  it("gives several blocks, or one that is not text, as a JSON array of their visible fields", () => {
    const text = toolResultText([
      { type: "text", text: "a", annotations: { priority: 1 } } as never,
      { type: "image", data: "iVBOR", mimeType: "image/png" },
      { type: "resource", resource: { uri: "file:///x", text: "x" } },
    ]);
    expect(JSON.parse(text)).toEqual([
      { type: "text", text: "a" },
      { type: "image", data: "iVBOR", mimeType: "image/png" },
      { type: "resource", resource: { uri: "file:///x", text: "x" } },
    ]);
    expect(JSON.parse(toolResultText([{ type: "image", data: "Zm9v", mimeType: "image/gif" }]))).toEqual([{ type: "image", data: "Zm9v", mimeType: "image/gif" }]);
  });
});

describe("toolFailureText", () => {
  it("says why without the error's own text", () => {
    expect(JSON.parse(toolFailureText("timeout", "t"))).toEqual({ error: "the tool call timed out" });
    expect(JSON.parse(toolFailureText("unavailable", "t"))).toEqual({ error: "the tool server is unavailable" });
    expect(JSON.parse(toolFailureText("failed", "t"))).toEqual({ error: "the tool call failed" });
    expect(JSON.parse(toolFailureText("unknown_tool", "lookup"))).toEqual({ error: "tool lookup is not offered by any connected MCP server" });
  });
});
