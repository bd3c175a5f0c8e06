// One configured MCP server: connects (Streamable HTTP or a stdio subprocess), lists its tools,
// calls them, and reconnects with a backoff when it could not connect or was lost. The MCP SDK is
// loaded only when a config names a server, so workers without MCP do not carry it.
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { GatewayConfig } from "../config/schema.js";
import { unresolvedEnvRefs } from "../config/load.js";
import { redactSecrets } from "../server/errors.js";
import type { JsonObject } from "../api/types.js";
import { toolResultText, type ToolFailure } from "./content.js";
import { serverUp, toolCalled } from "./metrics.js";

export type McpServerConfig = GatewayConfig["mcp_servers"][number];

/** What the hub needs to log; pino's Logger fits. */
export interface McpLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

export const silentLog: McpLog = { info() {}, warn() {}, debug() {} };

export interface McpToolInfo {
  name: string;
  description: string | undefined;
  inputSchema: JsonObject;
}

export type ServerState = "connecting" | "ready" | "failed" | "closed";

/** A call that did not complete; the model is told `kind`, never the error's own text. */
export class ToolCallError extends Error {
  constructor(
    readonly kind: ToolFailure,
    readonly detail: string,
  ) {
    super(detail);
  }
}

/** The initialize handshake and tools/list together: slow stdio servers (npx) fetch packages first. */
const CONNECT_TIMEOUT_MS = 60_000;
const RETRY_FIRST_MS = 1_000;
const RETRY_MAX_MS = 60_000;
/** The variables a stdio server gets from the gateway's environment, besides its own `env`. */
const INHERITED = ["PATH", "HOME", "LANG", "TMPDIR"] as const;
/** OpenAI (and most providers) refuse a function name outside this; such tools are not offered. */
const FUNCTION_NAME = /^[A-Za-z0-9_-]{1,64}$/;
/** A connection that stayed up this long starts its reconnect backoff over when it is lost. */
const STABLE_MS = 60_000;
/** tools/list pages read at most: a server repeating its cursor must not hold the connect forever. */
const MAX_TOOL_PAGES = 100;

interface Sdk {
  Client: typeof Client;
  StreamableHTTPClientTransport: typeof StreamableHTTPClientTransport;
  StdioClientTransport: typeof StdioClientTransport;
}
let sdk: Promise<Sdk> | undefined;
function loadSdk(): Promise<Sdk> {
  sdk ??= Promise.all([
    import("@modelcontextprotocol/sdk/client/index.js"),
    import("@modelcontextprotocol/sdk/client/streamableHttp.js"),
    import("@modelcontextprotocol/sdk/client/stdio.js"),
  ]).then(([c, h, s]) => ({ Client: c.Client, StreamableHTTPClientTransport: h.StreamableHTTPClientTransport, StdioClientTransport: s.StdioClientTransport }));
  return sdk;
}

export class McpServerConnection {
  state: ServerState = "connecting";
  /** Tools it offers, after allowed_tools; empty unless ready. */
  tools: readonly McpToolInfo[] = [];
  /** Why it is not ready (no secrets: the environment variable's name, an error class and message). */
  lastError: string | undefined;
  /** Settles when the first connection attempt is over, whatever its outcome. */
  readonly firstAttempt: Promise<void>;
  private client: Client | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private connectedAt = 0;
  /** Whether this connection counts in ferrogw_mcp_server_up (two hubs may hold a server of one name during a reload). */
  private counted = false;
  private endFirstAttempt!: () => void;

  constructor(
    readonly config: McpServerConfig,
    private readonly env: NodeJS.ProcessEnv,
    private readonly log: McpLog,
    /** Told when the tools it offers change (ready, lost, closed). */
    private readonly onChange: () => void,
  ) {
    this.firstAttempt = new Promise((resolve) => {
      this.endFirstAttempt = resolve;
    });
  }

  get name(): string {
    return this.config.name;
  }

  get transport(): "http" | "stdio" {
    return this.config.url === undefined ? "stdio" : "http";
  }

  start(): void {
    serverUp(this.name, 0);
    void this.connect();
  }

  async call(name: string, argsJson: string, signal: AbortSignal | undefined): Promise<{ text: string; isError: boolean }> {
    const client = this.client;
    if (this.state !== "ready" || client === undefined) throw new ToolCallError("unavailable", `MCP server ${this.name} is not connected`);
    let args: unknown;
    try {
      args = argsJson.trim() === "" ? {} : JSON.parse(argsJson);
    } catch {
      args = undefined;
    }
    if (typeof args !== "object" || args === null || Array.isArray(args)) {
      toolCalled(this.name, name, "error", 0);
      throw new ToolCallError("failed", `arguments for ${name} are not a JSON object`);
    }
    const started = performance.now();
    try {
      const result = await client.callTool({ name, arguments: args as Record<string, unknown> }, undefined, { timeout: this.config.timeout_seconds * 1000, signal });
      const content = Array.isArray(result.content) ? (result.content as Parameters<typeof toolResultText>[0]) : undefined;
      // The older result form carries `toolResult` instead of content blocks.
      const text = content !== undefined ? toolResultText(content) : JSON.stringify(result.toolResult ?? null);
      const isError = result.isError === true;
      toolCalled(this.name, name, isError ? "error" : "ok", performance.now() - started);
      return { text, isError };
    } catch (err) {
      toolCalled(this.name, name, "error", performance.now() - started);
      if (signal?.aborted) throw err;
      // The SDK's own timeout carries its limit; an error code alone may be the server's answer.
      if ((err as { data?: { timeout?: unknown } }).data?.timeout !== undefined) throw new ToolCallError("timeout", `${name} timed out after ${this.config.timeout_seconds} s`);
      // The connection closed meanwhile (onclose already withdrew it), or the request never got an
      // answer over it (fetch failed, a session the server no longer knows): reconnect.
      if (this.client !== client || (err as Error).name !== "McpError") {
        this.lost(this.describe(err));
        throw new ToolCallError("unavailable", `MCP server ${this.name}: ${this.describe(err)}`);
      }
      throw new ToolCallError("failed", this.describe(err));
    }
  }

  async close(): Promise<void> {
    if (this.state === "closed") return;
    this.state = "closed";
    this.tools = [];
    clearTimeout(this.retryTimer);
    this.endFirstAttempt();
    const client = this.client;
    this.client = undefined;
    this.countUp(false);
    // A stdio server is sent SIGTERM, then SIGKILL, by the SDK's transport.
    await client?.close().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const missing = unresolvedEnvRefs(this.config);
    if (missing.length > 0) {
      // Not retried: only a reload can set it. The variable's name is not a secret, its value would be.
      this.state = "failed";
      this.lastError = `environment variable ${missing.join(", ")} is not set`;
      this.log.warn({ mcp_server: this.name, error: this.lastError }, "MCP server not started");
      this.endFirstAttempt();
      return;
    }
    let client: Client | undefined;
    try {
      const { Client, StreamableHTTPClientTransport, StdioClientTransport } = await loadSdk();
      // Closed while the SDK loaded: start nothing (a stdio process would outlive the hub).
      if (this.isClosed()) return;
      client = new Client({ name: "ferrogw", version: "0.1.0" }, { capabilities: {} });
      const c = this.config;
      let transport;
      if (c.url !== undefined) {
        transport = new StreamableHTTPClientTransport(new URL(c.url), { requestInit: { headers: c.headers ?? {} } });
      } else {
        transport = new StdioClientTransport({ command: c.command as string, args: c.args ?? [], env: this.childEnv(), stderr: "pipe" });
        transport.stderr?.on("data", (chunk: Buffer) => this.log.debug({ mcp_server: this.name, stderr: chunk.toString("utf8").slice(0, 2000) }, "MCP server stderr"));
      }
      await client.connect(transport, { timeout: CONNECT_TIMEOUT_MS });
      const tools = await this.listTools(client);
      if (this.isClosed()) {
        await client.close().catch(() => undefined);
        return;
      }
      client.onclose = () => this.lost("connection closed");
      this.client = client;
      this.tools = tools;
      this.state = "ready";
      this.connectedAt = Date.now();
      this.lastError = undefined;
      this.countUp(true);
      this.log.info({ mcp_server: this.name, tools: tools.map((t) => t.name) }, "MCP server connected");
      this.onChange();
    } catch (err) {
      await client?.close().catch(() => undefined);
      if (this.isClosed()) return;
      this.state = "failed";
      this.lastError = this.describe(err);
      this.retryLater();
    } finally {
      this.endFirstAttempt();
    }
  }

  /** tools/list, every page; allowed_tools filters by exact name; names no provider accepts are left out. */
  private async listTools(client: Client): Promise<McpToolInfo[]> {
    const allowed = this.config.allowed_tools && this.config.allowed_tools.length > 0 ? new Set(this.config.allowed_tools) : undefined;
    const out: McpToolInfo[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await client.listTools(cursor === undefined ? {} : { cursor }, { timeout: CONNECT_TIMEOUT_MS });
      for (const t of page.tools) {
        if (allowed && !allowed.has(t.name)) continue;
        // A tool that must run as a task cannot be called with a plain tools/call.
        if (t.execution?.taskSupport === "required") continue;
        if (!FUNCTION_NAME.test(t.name)) {
          this.log.warn({ mcp_server: this.name, tool: t.name }, "MCP tool not offered: its name is not a valid function name (letters, digits, _ and -, at most 64)");
          continue;
        }
        out.push({ name: t.name, description: t.description, inputSchema: t.inputSchema as JsonObject });
      }
      cursor = page.nextCursor === cursor ? undefined : page.nextCursor;
    } while (cursor !== undefined && ++pages < MAX_TOOL_PAGES);
    return out;
  }

  /** The connection closed under us (a stdio server exited, a transport error): withdraw its tools and reconnect. */
  private lost(why: string): void {
    if (this.state !== "ready") return;
    const client = this.client;
    this.client = undefined;
    this.state = "failed";
    this.tools = [];
    this.lastError = `connection lost: ${why}`;
    // One that keeps crashing right after it connects is retried ever more slowly.
    if (Date.now() - this.connectedAt >= STABLE_MS) this.failures = 0;
    this.countUp(false);
    this.log.warn({ mcp_server: this.name }, "MCP server connection lost; reconnecting");
    void client?.close().catch(() => undefined);
    this.onChange();
    this.retryLater();
  }

  private retryLater(): void {
    const delay = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** this.failures);
    this.failures++;
    this.log.warn({ mcp_server: this.name, error: this.lastError, retry_in_ms: delay }, "MCP server not connected");
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      if (this.state === "failed") {
        this.state = "connecting";
        void this.connect();
      }
    }, delay);
    this.retryTimer.unref();
  }

  /** A method, not a field test: close() may run during any await of connect(). */
  private isClosed(): boolean {
    return this.state === "closed";
  }

  private countUp(up: boolean): void {
    if (up === this.counted) return;
    this.counted = up;
    serverUp(this.name, up ? 1 : -1);
  }

  /**
   * An error's text for the log: key-shaped strings masked, and the server's URL shown without
   * its query or user part (either may hold a token).
   */
  private describe(err: unknown): string {
    let text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    const url = this.config.url;
    if (url !== undefined) {
      const u = new URL(url);
      text = text.split(url).join(`${u.origin}${u.pathname}`);
    }
    return redactSecrets(text).slice(0, 500);
  }

  /** A stdio server does not inherit the gateway's environment (its provider keys, MASTER_KEY). */
  private childEnv(): Record<string, string> {
    const env: Record<string, string> = {};
    for (const k of INHERITED) {
      const v = this.env[k];
      if (v !== undefined) env[k] = v;
    }
    return { ...env, ...this.config.env };
  }
}

