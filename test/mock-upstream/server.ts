// A mock LLM upstream speaking OpenAI, Anthropic and Gemini wire formats, for tests and the
// benchmark. It owns HTTP concerns (latency, stream pacing, scripted failures, recording); the
// per-wire modules build the bodies. Behaviour is deterministic: the mock model echoes the last
// user message, and calls the first offered tool unless the last turn is already a tool result.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { JsonObject } from "../../src/api/types.js";
import { anthropicFormat } from "./anthropic.js";
import { bedrockFormat } from "./bedrock.js";
import { cohereFormat } from "./cohere.js";
import type { MockFormat, MockReply } from "./format.js";
import { geminiFormat } from "./gemini.js";
import { openaiFormat } from "./openai.js";
import { ReplicateMock, replicateFormat } from "./replicate.js";
import { ResponsesMock } from "./responses.js";
import { BatchesMock } from "./batches.js";
import { tokenResponse, vertexAnthropicFormat, vertexPredictFormat } from "./vertex.js";

export interface MockOptions {
  /** Delay before the response headers (ms). */
  latencyMs: number;
  /** Delay between stream frames (ms). */
  chunkDelayMs: number;
  /** Content pieces per streamed reply. */
  chunks: number;
  /** Fixed reply text; default echoes the last user message. */
  text?: string;
  /** Call the first offered tool on every turn, even after a tool result (an agent that never stops). */
  alwaysCallTools?: boolean;
}

/** A scripted behaviour for the next request that reaches the mock. */
export interface ScriptedResponse {
  /** Answer with this HTTP status and the wire's error body. */
  status?: number;
  message?: string;
  headers?: Record<string, string>;
  /** Destroy the socket without answering (connection reset). */
  reset?: boolean;
  /** Stream this many frames, then destroy the socket. */
  resetAfterFrames?: number;
  /** Stream this many frames, then end the response cleanly (no finish, no [DONE]). */
  endAfterFrames?: number;
  /** Extra delay before answering (ms), e.g. to trigger a timeout. */
  delayMs?: number;
}

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage["headers"];
  body: JsonObject | undefined;
  /** The body's text exactly as it arrived. */
  rawBody?: string;
  format: string;
}

const sleep = (ms: number): Promise<void> => (ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve());

/** A deterministic pseudo-embedding so tests can compare vectors. */
export function mockVector(text: string, dims = 8): number[] {
  const v: number[] = [];
  for (let i = 0; i < dims; i++) v.push(((text.charCodeAt(i % Math.max(1, text.length)) || 0) % 17) / 17);
  return v;
}

function route(method: string, path: string): { format: MockFormat; kind: "chat" | "embeddings" | "completions" | "models" | "replicate" } | undefined {
  // Cohere v2, and Replicate's predictions (create; then poll, stream or cancel: see replicate.ts).
  if (method === "POST" && path === "/v2/chat") return { format: cohereFormat, kind: "chat" };
  if (method === "POST" && path === "/v2/embed") return { format: cohereFormat, kind: "embeddings" };
  if (ReplicateMock.isCreate(method, path)) return { format: replicateFormat, kind: "chat" };
  if (ReplicateMock.isFollowUp(method, path)) return { format: replicateFormat, kind: "replicate" };
  // Vertex AI: /v1/projects/{p}/locations/{l}/publishers/{google|anthropic}/models/{model}:{method}
  if (path.includes("/publishers/google/models/")) {
    if (path.includes(":generateContent") || path.includes(":streamGenerateContent")) return { format: geminiFormat, kind: "chat" };
    if (path.endsWith(":predict")) return { format: vertexPredictFormat, kind: "embeddings" };
  }
  if (path.includes("/publishers/anthropic/models/") && /:(stream)?[rR]awPredict$/.test(path)) return { format: vertexAnthropicFormat, kind: "chat" };
  // Bedrock Runtime: /model/{modelId}/converse | converse-stream | invoke
  if (method === "POST" && path.startsWith("/model/")) {
    if (path.endsWith("/converse") || path.endsWith("/converse-stream")) return { format: bedrockFormat, kind: "chat" };
    if (path.endsWith("/invoke")) return { format: bedrockFormat, kind: "embeddings" };
  }
  if (path.startsWith("/v1beta/models/") || path.startsWith("/v1/models/")) {
    if (path.includes(":generateContent") || path.includes(":streamGenerateContent")) return { format: geminiFormat, kind: "chat" };
    if (path.includes(":batchEmbedContents") || path.includes(":embedContent")) return { format: geminiFormat, kind: "embeddings" };
  }
  if (method === "POST" && path.endsWith("/messages")) return { format: anthropicFormat, kind: "chat" };
  if (method === "POST" && path.endsWith("/chat/completions")) return { format: openaiFormat, kind: "chat" };
  if (method === "POST" && path.endsWith("/embeddings")) return { format: openaiFormat, kind: "embeddings" };
  if (method === "POST" && path.endsWith("/completions")) return { format: openaiFormat, kind: "completions" };
  if (method === "GET" && path.endsWith("/models")) return { format: openaiFormat, kind: "models" };
  return undefined;
}

export class MockUpstream {
  readonly requests: RecordedRequest[] = [];
  readonly options: MockOptions;
  private readonly script: ScriptedResponse[] = [];
  private readonly server: Server;
  /** Set false to skip recording (benchmarks). */
  record = true;
  /** OpenAI Responses API: the responses it created and stored. */
  readonly responses = new ResponsesMock();
  /** OpenAI files and batches: what was uploaded and created. */
  readonly batches = new BatchesMock();
  /** Replicate predictions in flight, and knobs for their flow (pending polls, failures). */
  readonly replicate = new ReplicateMock();
  /** OAuth token endpoint (POST /token): lifetime of the access tokens it issues, and how many it issued. */
  tokenExpiresIn = 3599;
  tokensIssued = 0;

  constructor(options: Partial<MockOptions> = {}) {
    this.options = { latencyMs: 0, chunkDelayMs: 0, chunks: 4, ...options };
    this.server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
      void this.handle(req, res).catch(() => res.destroy());
    });
  }

  /** Queues behaviours for the next requests, in order; unscripted requests succeed. */
  enqueue(...items: ScriptedResponse[]): void {
    this.script.push(...items);
  }

  async start(port = 0, host = "127.0.0.1"): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(port, host, resolve));
    const addr = this.server.address() as AddressInfo;
    return `http://${host}:${addr.port}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req as AsyncIterable<Buffer>) chunks.push(c);
    const url = req.url ?? "/";
    const q = url.indexOf("?");
    const path = q < 0 ? url : url.slice(0, q);
    const method = req.method ?? "GET";
    if (method === "POST" && path === "/token") {
      const form = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString("utf8")));
      if (this.record) this.requests.push({ method, path: url, headers: req.headers, body: form, format: "oauth-token" });
      const t = tokenResponse(form, ++this.tokensIssued, this.tokenExpiresIn);
      res.writeHead(t.status, { "content-type": "application/json" }).end(t.body);
      return;
    }
    // Files and batches: multipart uploads and downloads, not JSON.
    const batchAt = path.search(/\/(files|batches)(\/|$)/);
    if (batchAt >= 0) {
      const raw = Buffer.concat(chunks);
      if (this.record) this.requests.push({ method, path: url, headers: req.headers, body: undefined, rawBody: raw.toString("utf8"), format: "openai-batches" });
      const out = this.batches.handle(method, path.slice(batchAt), req.headers, raw);
      res.writeHead(out.status, out.headers).end(out.body);
      return;
    }
    const responsesAt = path.indexOf("/responses");
    const r = responsesAt >= 0 ? undefined : route(method, path);
    let body: JsonObject | undefined;
    const rawBody = chunks.length > 0 ? Buffer.concat(chunks).toString("utf8") : undefined;
    if (rawBody !== undefined) {
      try {
        body = JSON.parse(rawBody) as JsonObject;
      } catch {
        res.writeHead(400, { "content-type": "application/json" }).end(openaiFormat.errorBody(400, "invalid JSON body"));
        return;
      }
    }
    if (this.record) this.requests.push({ method, path: url, headers: req.headers, body, rawBody, format: responsesAt >= 0 ? "openai-responses" : (r?.format.name ?? "none") });
    if (responsesAt >= 0) {
      await this.answerResponses(req, res, method, path.slice(responsesAt + "/responses".length), body);
      return;
    }
    if (!r) {
      res.writeHead(404, { "content-type": "application/json" }).end(openaiFormat.errorBody(404, `no route ${method} ${path}`));
      return;
    }

    const scripted = this.script.shift();
    await sleep(this.options.latencyMs + (scripted?.delayMs ?? 0));
    if (res.destroyed) return;
    if (scripted?.reset) {
      req.socket.destroy();
      return;
    }
    if (scripted?.status) {
      res.writeHead(scripted.status, { "content-type": "application/json", ...scripted.headers });
      res.end(r.format.errorBody(scripted.status, scripted.message ?? `mock error ${scripted.status}`));
      return;
    }

    if (r.kind === "replicate") {
      this.replicate.followUp(res, method, path, this.options.chunkDelayMs);
      return;
    }
    if (r.kind === "models") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ object: "list", data: [{ id: "gpt-4o-mini", object: "model", created: 1_700_000_000, owned_by: "system" }] }));
      return;
    }
    if (r.kind === "embeddings" && r.format.embeddingsBody) {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(r.format.embeddingsBody(path, body ?? {}, (t) => mockVector(t)));
      return;
    }
    if (r.kind === "completions") {
      const prompt = typeof body?.prompt === "string" ? body.prompt : "";
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          id: "cmpl-mock0001",
          object: "text_completion",
          created: 1_732_000_000,
          model: body?.model ?? "unknown",
          choices: [{ text: ` echo: ${prompt}`, index: 0, logprobs: null, finish_reason: "stop" }],
          usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 },
        }),
      );
      return;
    }

    const parsed = r.format.parseChat(path, body ?? {});
    const reply = this.reply(parsed);
    if (r.format === replicateFormat) {
      this.replicate.create(req, res, parsed, body ?? {}, reply, this.options.chunks);
      return;
    }
    if (!parsed.stream) {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(r.format.chatBody(reply));
      return;
    }
    const frames: ReadonlyArray<string | Uint8Array> = r.format.chatStreamFrames?.(reply, this.options.chunks) ?? r.format.chatStream(reply, this.options.chunks);
    res.writeHead(200, { "content-type": r.format.streamContentType ?? "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
    for (let i = 0; i < frames.length; i++) {
      if (scripted?.resetAfterFrames !== undefined && i >= scripted.resetAfterFrames) {
        req.socket.destroy();
        return;
      }
      if (scripted?.endAfterFrames !== undefined && i >= scripted.endAfterFrames) break;
      if (i > 0) await sleep(this.options.chunkDelayMs);
      if (res.destroyed) return;
      res.write(frames[i]);
    }
    res.end();
  }

  private async answerResponses(req: IncomingMessage, res: ServerResponse, method: string, rest: string, body: JsonObject | undefined): Promise<void> {
    const scripted = this.script.shift();
    await sleep(this.options.latencyMs + (scripted?.delayMs ?? 0));
    if (scripted?.status) {
      res.writeHead(scripted.status, { "content-type": "application/json", ...scripted.headers }).end(openaiFormat.errorBody(scripted.status, scripted.message ?? `mock error ${scripted.status}`));
      return;
    }
    const out = rest === "" && method === "POST" ? this.responses.create(body ?? {}, this.options.chunks) : this.responses.byId(method, rest.replace(/^\//, ""));
    if (out.frames === undefined) {
      res.writeHead(out.status, { "content-type": "application/json" }).end(out.body);
      return;
    }
    res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", connection: "keep-alive" });
    for (let i = 0; i < out.frames.length; i++) {
      if (scripted?.resetAfterFrames !== undefined && i >= scripted.resetAfterFrames) {
        req.socket.destroy();
        return;
      }
      if (i > 0) await sleep(this.options.chunkDelayMs);
      if (res.destroyed) return;
      res.write(out.frames[i]);
    }
    res.end();
  }

  private reply(p: ReturnType<MockFormat["parseChat"]>): MockReply {
    const input = Math.max(1, Math.ceil(p.lastUserText.length / 4)) + 8;
    if (p.firstToolName && (!p.lastIsToolResult || this.options.alwaysCallTools === true)) {
      return {
        model: p.model,
        text: "",
        toolCall: { id: "call_mock_0001", name: p.firstToolName, arguments: { input: p.lastUserText } },
        usage: { input, output: 12 },
        stop: "tool",
        includeUsage: p.includeUsage,
      };
    }
    const text = this.options.text ?? `Mock reply to: ${p.lastUserText}`;
    const output = Math.max(1, Math.ceil(text.length / 4));
    const truncated = p.maxTokens !== undefined && p.maxTokens < output;
    return { model: p.model, text, usage: { input, output: truncated ? (p.maxTokens ?? output) : output }, stop: truncated ? "length" : "end", includeUsage: p.includeUsage };
  }
}
