// The MCP servers of one config: their tools as one list for the model, deduplicated across
// servers (the server listed first in the config wins a name), and which server runs each.
// Config versions with the same `mcp_servers` share one hub (no reconnect, no new stdio process
// on a reload); it closes when the last runtime holding it is retired.
import type { FunctionTool } from "../api/types.js";
import { McpServerConnection, silentLog, type McpLog, type McpServerConfig } from "./server.js";

/** The loop's depth when no server sets one. */
const DEFAULT_DEPTH = 5;

export interface McpServerStatus {
  name: string;
  transport: "http" | "stdio";
  ready: boolean;
  required: boolean;
  tools: number;
}

export class McpHub {
  readonly servers: readonly McpServerConnection[];
  /** The tools offered to the model, in config order, as OpenAI function tools. */
  tools: readonly FunctionTool[] = [];
  private owners = new Map<string, McpServerConnection>();
  private refs = 0;

  private constructor(
    readonly key: string,
    configs: readonly McpServerConfig[],
    env: NodeJS.ProcessEnv,
    log: McpLog,
  ) {
    this.servers = configs.map((c) => new McpServerConnection(c, env, log, () => this.reindex()));
  }

  /** The hub for `configs`: `previous` when it was built from the same ones, else a new one, connecting. */
  static for(configs: readonly McpServerConfig[], env: NodeJS.ProcessEnv, log: McpLog = silentLog, previous?: McpHub): McpHub | undefined {
    if (configs.length === 0) return undefined;
    const key = JSON.stringify(configs);
    if (previous !== undefined && previous.key === key && previous.refs > 0) {
      previous.refs++;
      return previous;
    }
    const hub = new McpHub(key, configs, env, log);
    hub.refs = 1;
    for (const s of hub.servers) s.start();
    return hub;
  }

  /** The server that runs `tool`, if a connected one offers it. */
  owner(tool: string): McpServerConnection | undefined {
    return this.owners.get(tool);
  }

  /** How many rounds of tool calls one request may run: the smallest max_call_depth of the connected servers. */
  maxDepth(): number {
    let depth = 0;
    for (const s of this.servers) {
      if (s.state === "ready" && (depth === 0 || s.config.max_call_depth < depth)) depth = s.config.max_call_depth;
    }
    return depth === 0 ? DEFAULT_DEPTH : depth;
  }

  /** /readyz: false while a server marked `required` is not connected. */
  get ready(): boolean {
    return this.servers.every((s) => !s.config.required || s.state === "ready");
  }

  status(): McpServerStatus[] {
    return this.servers.map((s) => ({ name: s.name, transport: s.transport, ready: s.state === "ready", required: s.config.required, tools: s.tools.length }));
  }

  /** Resolves once every server's first connection attempt is over (tests, start-up logs). */
  async settled(): Promise<void> {
    await Promise.all(this.servers.map((s) => s.firstAttempt));
  }

  /** One runtime lets go of it; the last one closes every connection (stdio servers are stopped). */
  async release(): Promise<void> {
    if (--this.refs > 0) return;
    await Promise.all(this.servers.map((s) => s.close()));
    this.reindex();
  }

  private reindex(): void {
    const owners = new Map<string, McpServerConnection>();
    const tools: FunctionTool[] = [];
    for (const s of this.servers) {
      if (s.state !== "ready") continue;
      for (const t of s.tools) {
        if (owners.has(t.name)) continue;
        owners.set(t.name, s);
        tools.push({ type: "function", function: { name: t.name, ...(t.description ? { description: t.description } : {}), parameters: t.inputSchema } });
      }
    }
    this.owners = owners;
    this.tools = tools;
  }
}
