// The HTTP server: the fast lane (src/server/http1/, raw sockets) serves the data-plane routes,
// node:http everything else and every request the fast lane does not fully understand; a fixed
// route table; graceful shutdown that lets requests in flight finish.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Identity } from "../auth/identity.js";
import { chatCompletions } from "../gateway/chat.js";
import { completions, embeddings } from "../gateway/embeddings.js";
import { responseById, responses } from "../gateway/responses.js";
import { isBatchPath, passBatchCall } from "../gateway/batches.js";
import { isModelAllowed } from "../auth/api-keys.js";
import { listModels } from "../gateway/models.js";
import type { Runtime } from "../gateway/runtime.js";
import { closePools } from "../upstream/pool.js";
import { newContext, type RequestContext } from "./context.js";
import { parseJsonBody, readJsonBody, type JsonBody } from "./body.js";
import { Http1Server, type FastRequest } from "./http1/server.js";
import type { HttpResponse } from "./response.js";
import { GatewayError, notFound } from "./errors.js";
import { sendError, sendJson, sendText } from "./respond.js";
import { healthReport, readiness } from "./health.js";
import type { Metrics } from "../observability/metrics.js";
import { settleCost } from "../catalog/settle.js";

/** Answers a request that failed with the error, in OpenAI's shape. */
function failRequest(res: HttpResponse, ctx: RequestContext, err: unknown): void {
  if (err instanceof GatewayError && err.status === 413) res.setHeader("connection", "close");
  sendError(res, ctx, err);
}

/** The model list, narrowed to what the caller's key may use. */
function visibleModels(rt: Runtime, ctx: RequestContext): ReturnType<typeof listModels> {
  const list = listModels(rt);
  const allowed = ctx.identity.allowedModels;
  return allowed === null ? list : { ...list, data: list.data.filter((m) => isModelAllowed(allowed, m.id)) };
}

type DataHandler = (rt: Runtime, ctx: RequestContext, body: unknown, res: HttpResponse) => Promise<void>;

/** After the grace period: how long requests just cut off get to record their log row. */
const SETTLE_MS = 2_000;

/** A data-plane route: its handler, and the operation its request log row records. */
interface DataRoute {
  readonly handle: DataHandler;
  readonly operation: NonNullable<RequestContext["operation"]>;
}

const DATA_ROUTES: ReadonlyMap<string, DataRoute> = new Map<string, DataRoute>([
  ["/v1/chat/completions", { handle: chatCompletions, operation: "chat" }],
  ["/chat/completions", { handle: chatCompletions, operation: "chat" }],
  ["/v1/completions", { handle: completions, operation: "completions" }],
  ["/v1/embeddings", { handle: embeddings, operation: "embeddings" }],
  ["/v1/responses", { handle: responses, operation: "responses" }],
]);

/** Routes the fast lane serves; node:http serves the rest (admin, metrics, dashboard). */
function isFastRoute(method: string, path: string): boolean {
  if (method === "POST") return DATA_ROUTES.has(path);
  return method === "GET" && (path === "/health" || path === "/v1/models" || path === "/models" || path.startsWith("/v1/models/"));
}

/** Extra route groups (admin API, dashboard) mounted under a path prefix. */
export interface RouteGroup {
  readonly prefix: string;
  handle(ctx: RequestContext, req: IncomingMessage, res: ServerResponse, path: string, method: string): Promise<void>;
}

/** Establishes who is calling; synchronous on the hot path (cached keys), a Promise on a miss. */
export interface Authenticator {
  authenticate(headers: IncomingMessage["headers"]): Identity | Promise<Identity>;
}

export interface GatewayServerOptions {
  runtime: Runtime;
  auth: Authenticator;
  metrics?: Metrics;
  groups?: readonly RouteGroup[];
  /** Called once per finished request, off the request path. */
  onFinished?: (ctx: RequestContext) => void;
}

export class GatewayServer {
  private runtime: Runtime;
  private readonly auth: Authenticator;
  /** node:http: serves what the fast lane hands over; it never listens itself. */
  private readonly server: Server;
  private readonly fast: Http1Server;
  private readonly onFinished: ((ctx: RequestContext) => void) | undefined;
  private readonly metrics: Metrics | undefined;
  private readonly groups: readonly RouteGroup[];
  private inFlight = 0;
  /** Requests answered whose after-response work (cost, metrics, log row) has not run yet. */
  private finishing = 0;

  constructor(opts: GatewayServerOptions) {
    this.runtime = opts.runtime;
    this.auth = opts.auth;
    this.onFinished = opts.onFinished;
    this.metrics = opts.metrics;
    this.groups = opts.groups ?? [];
    this.server = createServer({ keepAliveTimeout: 65_000, requestTimeout: 0 }, (req, res) => {
      void this.handle(req, res);
    });
    this.fast = new Http1Server(
      {
        accepts: isFastRoute,
        maxBodyBytes: () => this.runtime.config.max_request_bytes,
        handle: (req, res) => void this.handle(req, res),
      },
      this.server,
      { keepAliveTimeoutMs: 65_000, headersTimeoutMs: 60_000, sendTimeoutMs: 60_000 },
    );
  }

  get currentRuntime(): Runtime {
    return this.runtime;
  }

  /** Swaps the config; requests already running keep the runtime they started with. */
  setRuntime(rt: Runtime): void {
    this.runtime = rt;
  }

  listen(port: number, host: string): Promise<AddressInfo> {
    // A deep accept queue: with Node's default of 511, a burst of new connections (1000
    // clients connecting at once) overflows it and the kernel drops handshakes, which clients
    // see as requests stalled for 1-3 s (SYN-ACK retransmits). The kernel caps it at somaxconn.
    return this.fast.listen({ port, host, backlog: 4096 });
  }

  listenOnDescriptor(fd: number): Promise<AddressInfo> {
    // listen() runs again on the shared socket: keep the deep backlog the supervisor set.
    return this.fast.listen({ fd, backlog: 4096 });
  }

  /** Stops accepting, waits for requests in flight (up to graceMs), then closes upstream pools. */
  async close(graceMs = 30_000): Promise<void> {
    const closed = this.fast.stopAccepting();
    // Connections node:http took over: it answers their requests in flight with
    // `connection: close`, as when it listened itself.
    this.server.closeIdleConnections();
    const deadline = Date.now() + graceMs;
    // A fast-lane request whose body is still arriving is in flight too, though not yet handled.
    while ((this.inFlight > 0 || this.fast.receiving > 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    this.fast.destroyAll();
    // Requests cut off at the deadline (and the last ones to finish) still record their log
    // row and metrics: their 'close' events and the after-response work run on later turns.
    const settleBy = Date.now() + SETTLE_MS;
    while ((this.inFlight > 0 || this.finishing > 0) && Date.now() < settleBy) await new Promise((r) => setTimeout(r, 5));
    await closed;
    await closePools();
  }

  /** Not async, like route(): the request's promise chain holds less than an awaiting frame. */
  private handle(req: IncomingMessage | FastRequest, res: HttpResponse): void {
    const ctx = newContext(req.headers, "receivedAt" in req ? req.receivedAt : undefined);
    const rt = this.runtime;
    this.inFlight++;
    res.on("close", () => {
      this.inFlight--;
      if (!res.writableFinished) ctx.abort.abort();
      // Usage of forwarded bodies is read in a setImmediate; record after it.
      this.finishing++;
      setImmediate(() => {
        this.finishing--;
        settleCost(rt, ctx);
        if (this.metrics) this.metrics.record(ctx);
        if (rt.tracing) rt.tracing.record(ctx);
        if (this.onFinished) this.onFinished(ctx);
      });
    });
    // Until the route's promise settles (plugins' after_response included), the runtime's
    // stateful parts (a Redis budget) must stay open, even if a reload replaced it meanwhile.
    rt.active.requests++;
    let routed: Promise<void>;
    try {
      routed = this.route(rt, ctx, req, res);
    } catch (err) {
      rt.active.requests--;
      failRequest(res, ctx, err);
      return;
    }
    routed.then(
      () => {
        rt.active.requests--;
      },
      (err: unknown) => {
        rt.active.requests--;
        failRequest(res, ctx, err);
      },
    );
  }

  private async authenticate(ctx: RequestContext, req: IncomingMessage | FastRequest): Promise<void> {
    const found = this.auth.authenticate(req.headers);
    const identity = found instanceof Promise ? await found : found;
    ctx.identity = identity;
    ctx.keyId = identity.keyId;
  }

  /**
   * The data-plane routes are served without an async frame of their own: a request's frames
   * are held for the whole upstream latency and copied by every young-generation GC meanwhile
   * (see upstream/send.ts). Errors may be thrown or rejected; handle() takes either.
   */
  private route(rt: Runtime, ctx: RequestContext, req: IncomingMessage | FastRequest, res: HttpResponse): Promise<void> {
    const url = req.url ?? "/";
    const q = url.indexOf("?");
    const path = q < 0 ? url : url.slice(0, q);
    const method = req.method ?? "GET";

    const route = DATA_ROUTES.get(path);
    if (!route) return this.routeOther(rt, ctx, req, res, path, method);
    ctx.operation = route.operation;
    const data = route.handle;
    if (method !== "POST") throw new GatewayError(405, "invalid_request_error", "method_not_allowed", `Use POST for ${path}.`);
    const found = this.auth.authenticate(req.headers);
    if (found instanceof Promise) return found.then((identity) => this.serveData(data, rt, ctx, req, res, identity));
    return this.serveData(data, rt, ctx, req, res, found);
  }

  private serveData(data: DataHandler, rt: Runtime, ctx: RequestContext, req: IncomingMessage | FastRequest, res: HttpResponse, identity: Identity): Promise<void> {
    ctx.identity = identity;
    ctx.keyId = identity.keyId;
    if ("body" in req) return this.serveJson(data, rt, ctx, parseJsonBody(req.body, rt.config.max_request_bytes), res);
    return readJsonBody(req, rt.config.max_request_bytes).then((body) => this.serveJson(data, rt, ctx, body, res));
  }

  private serveJson(data: DataHandler, rt: Runtime, ctx: RequestContext, body: JsonBody, res: HttpResponse): Promise<void> {
    ctx.clientBody = body.raw;
    return data(rt, ctx, body.value, res);
  }

  private async routeOther(rt: Runtime, ctx: RequestContext, req: IncomingMessage | FastRequest, res: HttpResponse, path: string, method: string): Promise<void> {
    if (isBatchPath(path)) {
      ctx.operation = "batches";
      await this.authenticate(ctx, req);
      // Only node:http gets here (isFastRoute): the body is still unread, to stream upstream.
      if ("body" in req) throw notFound(`No route for ${method} ${path}.`, "route_not_found");
      const url = req.url ?? "";
      const q = url.indexOf("?");
      await passBatchCall(rt, ctx, req, res as ServerResponse, method, path, q < 0 ? "" : url.slice(q));
      return;
    }
    if (path.startsWith("/v1/responses/")) {
      ctx.operation = "responses";
      await this.authenticate(ctx, req);
      const url = req.url ?? "";
      const q = url.indexOf("?");
      await responseById(rt, ctx, method, path.slice("/v1/responses/".length), q < 0 ? "" : url.slice(q), res);
      return;
    }
    if (method === "GET" && (path === "/v1/models" || path === "/models")) {
      await this.authenticate(ctx, req);
      sendJson(res, ctx, 200, JSON.stringify(visibleModels(rt, ctx)));
      return;
    }
    if (method === "GET" && path.startsWith("/v1/models/")) {
      await this.authenticate(ctx, req);
      const id = decodeURIComponent(path.slice("/v1/models/".length));
      const model = visibleModels(rt, ctx).data.find((m) => m.id === id);
      if (!model) throw notFound(`The model '${id}' does not exist.`, "model_not_found");
      sendJson(res, ctx, 200, JSON.stringify(model));
      return;
    }
    if (method === "GET" && path === "/health") {
      sendJson(res, ctx, 200, JSON.stringify(healthReport(rt)));
      return;
    }
    if (method === "GET" && path === "/readyz") {
      const ready = readiness(rt);
      sendJson(res, ctx, ready.status === "ready" ? 200 : 503, JSON.stringify(ready));
      return;
    }
    if (method === "GET" && path === "/metrics" && this.metrics) {
      const { contentType, body } = await this.metrics.render();
      sendText(res, ctx, 200, contentType, body);
      return;
    }
    // Only node:http requests get this far (isFastRoute), and with node:http's response.
    if ("body" in req) throw notFound(`No route for ${method} ${path}.`, "route_not_found");
    for (const group of this.groups) {
      if (path === group.prefix || path.startsWith(`${group.prefix}/`)) {
        await group.handle(ctx, req, res as ServerResponse, path, method);
        return;
      }
    }
    throw notFound(`No route for ${method} ${path}.`, "route_not_found");
  }
}
