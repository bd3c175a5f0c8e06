// The admin API under /admin: a small method + path-pattern table. Every route requires an admin
// principal (the master key or an admin-scoped API key); answers are JSON, errors OpenAI-shaped.
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import type { RequestContext } from "../server/context.js";
import { readJsonBody } from "../server/body.js";
import { GatewayError, notFound } from "../server/errors.js";
import { sendJson } from "../server/respond.js";
import type { RouteGroup } from "../server/http.js";
import { Query } from "./params.js";

export interface AdminRequest {
  readonly ctx: RequestContext;
  readonly params: Readonly<Record<string, string>>;
  readonly query: Query;
  /** Who is calling, for config history authorship. */
  readonly principal: string;
  body(): Promise<unknown>;
}

/** A handler returns the JSON to send (status 200 unless it returns {status, body}). */
export type AdminHandler = (r: AdminRequest) => Promise<unknown>;

export class AdminResponse {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {}
}

interface Route {
  method: string;
  segments: string[];
  handler: AdminHandler;
}

const MAX_ADMIN_BODY = 10 * 1024 * 1024;

export class AdminRouter implements RouteGroup {
  readonly prefix = "/admin";
  private readonly routes: Route[] = [];

  constructor(private readonly authorize: (headers: IncomingHttpHeaders) => Promise<string>) {}

  add(method: string, pattern: string, handler: AdminHandler): this {
    this.routes.push({ method, segments: pattern.split("/").filter(Boolean), handler });
    return this;
  }

  async handle(ctx: RequestContext, req: IncomingMessage, res: ServerResponse, path: string, method: string): Promise<void> {
    const principal = await this.authorize(req.headers);
    const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
    let pathMatched = false;
    for (const route of this.routes) {
      const params = match(route.segments, parts);
      if (!params) continue;
      pathMatched = true;
      if (route.method !== method) continue;
      const out = await route.handler({
        ctx,
        params,
        query: new Query(req.url ?? ""),
        principal,
        body: () => readJsonBody(req, MAX_ADMIN_BODY).then((b) => b.value),
      });
      if (out instanceof AdminResponse) sendJson(res, ctx, out.status, JSON.stringify(out.body));
      else sendJson(res, ctx, 200, JSON.stringify(out));
      return;
    }
    if (pathMatched) throw new GatewayError(405, "invalid_request_error", "method_not_allowed", `${method} is not allowed on ${path}.`);
    throw notFound(`No admin route for ${method} ${path}.`, "route_not_found");
  }
}

function match(pattern: readonly string[], parts: readonly string[]): Record<string, string> | undefined {
  if (pattern.length !== parts.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i] as string;
    const v = parts[i] as string;
    if (p.startsWith(":")) params[p.slice(1)] = v;
    else if (p !== v) return undefined;
  }
  return params;
}
