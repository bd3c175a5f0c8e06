// Real MCP servers for tests, built with the official SDK: a Streamable HTTP one in-process
// (stateless: a fresh server per HTTP request, so any number of gateways may connect), and the
// stdio one in mcp-stdio-server.mjs, which the gateway starts as a subprocess.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";

export const STDIO_SERVER = fileURLToPath(new URL("./mcp-stdio-server.mjs", import.meta.url));

export interface TestMcpServer {
  url: string;
  /** Every tools/call it answered: the tool and its arguments. */
  calls: Array<{ tool: string; args: unknown }>;
  /** Headers of the last HTTP request it got. */
  lastHeaders: Record<string, string | string[] | undefined>;
  close(): Promise<void>;
}

export async function startMcpHttpServer(register: (server: McpServer, calls: TestMcpServer["calls"]) => void): Promise<TestMcpServer> {
  const calls: TestMcpServer["calls"] = [];
  const out: TestMcpServer = { url: "", calls, lastHeaders: {}, close: async () => undefined };
  const http: Server = createServer((req, res) => {
    out.lastHeaders = req.headers;
    const server = new McpServer({ name: "test-tools", version: "1.0.0" });
    register(server, calls);
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    res.on("close", () => {
      void transport.close();
      void server.close();
    });
    server
      .connect(transport)
      .then(() => transport.handleRequest(req, res))
      .catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  out.url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`;
  out.close = async () => {
    http.closeAllConnections();
    await new Promise<void>((resolve) => http.close(() => resolve()));
  };
  return out;
}
