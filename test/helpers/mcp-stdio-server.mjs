// A stdio MCP server for tests (the gateway starts it): its first tool reports what of the
// gateway's environment it can see, so tests can check that provider keys do not reach it.
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { z } from "zod";

const server = new McpServer({ name: "stdio-tools", version: "1.0.0" });
server.registerTool("env_probe", { description: "Reports environment variables", inputSchema: { input: z.string() } }, async () => ({
  content: [{ type: "text", text: `OPENAI_API_KEY=${process.env.OPENAI_API_KEY ?? "absent"} TOOL_TOKEN=${process.env.TOOL_TOKEN ?? "absent"} pid=${process.pid}` }],
}));
await server.connect(new StdioServerTransport());
