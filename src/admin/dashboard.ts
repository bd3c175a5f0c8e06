// GET /dashboard: the built-in web UI (dashboard/ at the repository root: a page, a script, a
// style sheet and an icon, no build step). The page holds no data; it reads the admin API with the master key
// the user types in, so it needs no auth of its own. Its policy allows scripts and styles from
// this origin only, and no framing.
import { readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { RequestContext } from "../server/context.js";
import { notFound } from "../server/errors.js";
import type { RouteGroup } from "../server/http.js";

const ROOT = new URL("../../dashboard/", import.meta.url);

const FILES: Readonly<Record<string, { file: string; type: string }>> = {
  "/dashboard": { file: "index.html", type: "text/html; charset=utf-8" },
  "/dashboard/": { file: "index.html", type: "text/html; charset=utf-8" },
  "/dashboard/app.js": { file: "app.js", type: "text/javascript; charset=utf-8" },
  "/dashboard/style.css": { file: "style.css", type: "text/css; charset=utf-8" },
  "/dashboard/icon.svg": { file: "icon.svg", type: "image/svg+xml" },
};

const SECURITY_HEADERS = {
  "content-security-policy": "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  // Served from the install: a new version is picked up by the next load.
  "cache-control": "no-cache",
};

export class Dashboard implements RouteGroup {
  readonly prefix = "/dashboard";
  private readonly cache = new Map<string, Buffer>();

  async handle(ctx: RequestContext, _req: IncomingMessage, res: ServerResponse, path: string, method: string): Promise<void> {
    const entry = FILES[path];
    if (entry === undefined || (method !== "GET" && method !== "HEAD")) throw notFound(`No route for ${method} ${path}.`, "route_not_found");
    let body = this.cache.get(entry.file);
    if (body === undefined) {
      try {
        body = readFileSync(new URL(entry.file, ROOT));
      } catch {
        // An install made of dist/ alone: say what is missing rather than a bare 500.
        throw notFound("The dashboard's files (dashboard/ next to dist/) are not in this install.", "dashboard_not_installed");
      }
      this.cache.set(entry.file, body);
    }
    ctx.status = 200;
    res.writeHead(200, { "content-type": entry.type, "content-length": body.length, "x-request-id": ctx.id, ...SECURITY_HEADERS });
    res.end(method === "HEAD" ? undefined : body);
  }
}
