// Streaming a chat completion to the client. OpenAI-wire upstreams are piped byte for byte;
// other wires are decoded, translated chunk by chunk and re-encoded as OpenAI SSE. Nothing is
// held back to batch: whatever one upstream read yields is written in one write. When a plugin
// needs the chunks (ChunkHooks), OpenAI-wire streams are decoded too (decodeOpenAIStream).
import { once } from "node:events";
import type { HttpResponse } from "../server/response.js";
import type { ChatCompletion, ChatCompletionChunk, Usage } from "../api/types.js";
import type { CodecContext, Provider } from "../providers/types.js";
import type { RequestContext } from "../server/context.js";
import { commonHeaderList } from "../server/respond.js";
import type { UpstreamResponse } from "../upstream/send.js";
import { createDecoder } from "../wire/decode.js";
import { OpenAIStreamTranslator } from "../wire/openai/stream.js";
import { completionToChunks } from "../plugins/stream-accumulator.js";
import { PushBody } from "../upstream/push-body.js";
import { finalFailure, type AttemptError } from "../routing/attempts.js";
import { transportError } from "../upstream/send.js";
import { upstreamWaitNs } from "./upstream-call.js";
import { transportFailure } from "./upstream-error.js";
import { normalizeUsage } from "./usage.js";

/** Chunk-aware plugins (src/plugins): may change a chunk, drop it (false), or add some at the end. */
export interface ChunkHooks {
  onChunk(chunk: ChatCompletionChunk): boolean;
  onEnd(): ChatCompletionChunk[] | undefined;
}

const SSE_HEADERS = ["content-type", "text/event-stream; charset=utf-8", "cache-control", "no-cache", "connection", "keep-alive", "x-accel-buffering", "no"];

/** Thrown when the upstream stream failed before anything reached the client: safe to fail over. */
export class StreamNotStartedError extends Error {
  constructor(override readonly cause: unknown) {
    super("upstream stream failed before its first byte");
  }
}

/**
 * A stream that failed: before its first byte it may go to another attempt; after it, the client
 * already has part of this response, so the failure is reported in-stream and never retried.
 */
export function streamFailure(providerName: string, err: unknown): AttemptError {
  if (err instanceof StreamNotStartedError) return transportFailure(transportError(providerName, err.cause));
  return finalFailure(transportError(providerName, err));
}

async function write(res: HttpResponse, ctx: RequestContext, data: string | Uint8Array): Promise<void> {
  if (!res.write(data)) await once(res, "drain", { signal: ctx.abort.signal });
}

function startStream(res: HttpResponse, ctx: RequestContext): void {
  ctx.status = 200;
  const h = commonHeaderList(ctx);
  for (const x of SSE_HEADERS) h.push(x);
  res.writeHead(200, h);
}

/** Offset just past the last complete SSE event in `buf` (0 if none ends in it). */
export function completeEventsEnd(buf: Buffer): number {
  const n = buf.length;
  // The usual case, a read that ends on an event's blank line, without a search.
  if (n >= 2 && buf[n - 1] === 10 && (buf[n - 2] === 10 || (n >= 4 && buf[n - 2] === 13 && buf[n - 3] === 10 && buf[n - 4] === 13))) return n;
  const lf = buf.lastIndexOf("\n\n");
  const crlf = buf.lastIndexOf("\r\n\r\n");
  return Math.max(lf < 0 ? 0 : lf + 2, crlf < 0 ? 0 : crlf + 4);
}

/**
 * Pipes an OpenAI-wire stream unchanged, keeping the tail to read usage from after the fact.
 * Only whole events are forwarded: a partial event is held until its end arrives, so if the
 * upstream dies mid-event the client never sees half an event before our error event. Chunks
 * arrive by callback straight from the upstream parser and are written at once (those that come
 * with the upstream's end go out with the response's end, in one write); when the client is
 * slower than the upstream, upstream reads pause until the client's socket drains.
 */
export function pipeOpenAIStream(res: HttpResponse, ctx: RequestContext, upstream: UpstreamResponse, upstreamStartNs: bigint, usageNow = false): Promise<void> {
  const body = PushBody.from(upstream.body);
  return new Promise((resolve, reject) => {
    let started = false;
    let tail: Buffer | undefined;
    let prev: Buffer | undefined;
    let pending: Buffer | undefined;
    /** Whole events held back to go out with the end of the response. */
    let final: Buffer | undefined;
    const start = (): void => {
      started = true;
      ctx.upstreamNs += upstreamWaitNs(upstream, upstreamStartNs);
      startStream(res, ctx);
    };
    // The usage is read from the last two pieces with an event in them; keep-alive comments
    // and blank lines after it (": ping" after [DONE]) must not push it out.
    const keepTail = (out: Buffer): void => {
      if (onlyComments(out)) return;
      prev = tail;
      tail = out;
    };
    const forward = (out: Buffer): boolean => {
      if (!started) start();
      keepTail(out);
      return res.write(out);
    };
    const onDrain = (): void => body.resume();
    res.on("drain", onDrain);
    body.pipeTo({
      data(chunk, last) {
        const data = pending ? Buffer.concat([pending, chunk]) : chunk;
        const cut = completeEventsEnd(data);
        pending = cut === data.length ? undefined : data.subarray(cut);
        if (cut === 0) return true;
        const out = cut === data.length ? data : data.subarray(0, cut);
        // The stream's end came in the same read: these events leave with it, in one write.
        if (last) {
          final = out;
          return true;
        }
        return forward(out);
      },
      end() {
        res.off("drain", onDrain);
        // An upstream that ends without a final blank line still has its last bytes delivered.
        const rest = final && pending ? Buffer.concat([final, pending]) : (final ?? pending);
        if (rest) keepTail(rest);
        if (!started) start();
        res.end(rest);
        if (tail) {
          const last = prev ? Buffer.concat([prev, tail]) : tail;
          // Plugins settle budgets and log from the usage as soon as the stream ends.
          if (usageNow) ctx.usage = usageFromTail(last.toString("utf8"));
          else
            setImmediate(() => {
              ctx.usage = usageFromTail(last.toString("utf8"));
            });
        }
        resolve();
      },
      error(err) {
        res.off("drain", onDrain);
        reject(started ? err : new StreamNotStartedError(err));
      },
    });
  });
}

/**
 * Whether an SSE piece holds no event at all: only blank lines and comments (": ping"). A piece
 * that starts with a field (the usual `data:`) is answered at its first byte.
 */
export function onlyComments(buf: Buffer): boolean {
  let i = 0;
  const n = buf.length;
  while (i < n) {
    const c = buf[i];
    if (c === 10 || c === 13) i++;
    else if (c === 58 /* ":" */) {
      const lf = buf.indexOf(10, i);
      if (lf < 0) return true;
      i = lf + 1;
    } else return false;
  }
  return true;
}

/** Finds the usage object in the last data line that has one. */
export function usageFromTail(text: string): Usage | undefined {
  const at = text.lastIndexOf('"usage"');
  if (at < 0) return undefined;
  // The line's own start: "data:" may also occur inside the event's strings (echoed text).
  const lineStart = text.lastIndexOf("\n", at) + 1;
  if (!text.startsWith("data:", lineStart)) return undefined;
  const lineEnd = text.indexOf("\n", at);
  try {
    // The whole event, not the last "usage" in it: a Responses event also echoes the client's
    // metadata, which may hold a key of that name.
    const chunk = JSON.parse(text.slice(lineStart + 5, lineEnd < 0 ? undefined : lineEnd)) as ChatCompletionChunk & { x_groq?: { usage?: Usage }; response?: { usage?: unknown } };
    // Groq sends a stream's usage in its last chunk under x_groq unless include_usage was asked;
    // the Responses API in its response.completed event.
    if (chunk.usage) return chunk.usage;
    if (chunk.x_groq?.usage) return chunk.x_groq.usage;
    return normalizeUsage(chunk.response?.usage);
  } catch {
    return undefined;
  }
}

function encodeChunks(chunks: readonly ChatCompletionChunk[], hooks?: ChunkHooks): string {
  let out = "";
  for (const c of chunks) if (!hooks || hooks.onChunk(c)) out += `data: ${JSON.stringify(c)}\n\n`;
  return out;
}

function endChunks(hooks: ChunkHooks | undefined): string {
  const extra = hooks?.onEnd();
  return extra && extra.length > 0 ? encodeChunks(extra) : "";
}

/**
 * An OpenAI-wire stream decoded into chunks for the plugins that asked for them, re-encoded.
 * Events that are not chunks (an in-stream error object, unparsable data) pass through as sent.
 */
export async function decodeOpenAIStream(res: HttpResponse, ctx: RequestContext, upstream: UpstreamResponse, upstreamStartNs: bigint, hooks: ChunkHooks): Promise<void> {
  const decoder = createDecoder("sse");
  const translator = new OpenAIStreamTranslator({ model: ctx.model ?? "", requestId: ctx.id });
  let started = false;
  const handle = (events: ReturnType<typeof decoder.feed>): string => {
    let out = "";
    for (const ev of events) {
      let chunks: ChatCompletionChunk[];
      try {
        chunks = translator.push(ev);
      } catch {
        out += `data: ${ev.data}\n\n`;
        continue;
      }
      for (const c of chunks) {
        if (!Array.isArray(c.choices)) out += `data: ${ev.data}\n\n`;
        else if (hooks.onChunk(c)) out += `data: ${JSON.stringify(c)}\n\n`;
      }
    }
    return out;
  };
  try {
    for await (const bytes of upstream.body as AsyncIterable<Buffer>) {
      if (!started) {
        ctx.upstreamNs += upstreamWaitNs(upstream, upstreamStartNs);
        startStream(res, ctx);
        started = true;
      }
      const text = handle(decoder.feed(bytes));
      if (text) await write(res, ctx, text);
    }
  } catch (err) {
    if (!started) throw new StreamNotStartedError(err);
    throw err;
  }
  if (!started) {
    ctx.upstreamNs += upstreamWaitNs(upstream, upstreamStartNs);
    startStream(res, ctx);
  }
  const rest = handle(decoder.end());
  ctx.usage = translator.usage();
  res.end(`${rest}${endChunks(hooks)}data: [DONE]\n\n`);
}

/**
 * A whole completion (a response-cache hit, the MCP tool loop's answer) served to a streaming
 * request: a complete, well-formed SSE stream.
 */
export function writeCompletionStream(res: HttpResponse, ctx: RequestContext, completion: ChatCompletion, includeUsage: boolean, hooks?: ChunkHooks): void {
  startStream(res, ctx);
  res.end(`${encodeChunks(completionToChunks(completion, includeUsage), hooks)}${endChunks(hooks)}data: [DONE]\n\n`);
}

/** Decodes a non-OpenAI stream, translates it and writes OpenAI chunks. */
export async function translateStream(
  res: HttpResponse,
  ctx: RequestContext,
  provider: Provider,
  codecCtx: CodecContext,
  upstream: UpstreamResponse,
  upstreamStartNs: bigint,
  includeUsage: boolean,
  hooks?: ChunkHooks,
): Promise<void> {
  const decoder = createDecoder(provider.codec.streamFraming);
  const translator = provider.codec.chatStream(codecCtx);
  let started = false;
  let lastChunk: ChatCompletionChunk | undefined;
  const emit = async (chunks: ChatCompletionChunk[]): Promise<void> => {
    if (chunks.length === 0) return;
    lastChunk = chunks[chunks.length - 1];
    if (!started) {
      ctx.upstreamNs += upstreamWaitNs(upstream, upstreamStartNs);
      startStream(res, ctx);
      started = true;
    }
    const text = encodeChunks(chunks, hooks);
    if (text) await write(res, ctx, text);
  };
  try {
    for await (const bytes of upstream.body as AsyncIterable<Buffer>) {
      const events = decoder.feed(bytes);
      if (events.length === 0) continue;
      const out: ChatCompletionChunk[] = [];
      for (const ev of events) for (const c of translator.push(ev)) out.push(c);
      await emit(out);
    }
    const out: ChatCompletionChunk[] = [];
    for (const ev of decoder.end()) for (const c of translator.push(ev)) out.push(c);
    let last: ChatCompletionChunk[];
    try {
      last = translator.end();
    } catch (err) {
      // Cut short: what did arrive still reaches the client, ahead of the error event.
      await emit(out);
      throw err;
    }
    for (const c of last) out.push(c);
    await emit(out);
  } catch (err) {
    // The tokens counted so far are still owed (budgets, the request log), cut short or not.
    ctx.usage ??= translator.usage();
    if (!started) throw new StreamNotStartedError(err);
    throw err;
  }
  ctx.usage = translator.usage();
  if (!started) {
    ctx.upstreamNs += upstreamWaitNs(upstream, upstreamStartNs);
    startStream(res, ctx);
  }
  let tailText = endChunks(hooks);
  if (includeUsage && ctx.usage && lastChunk) {
    const usageChunk: ChatCompletionChunk = {
      id: lastChunk.id,
      object: "chat.completion.chunk",
      created: lastChunk.created,
      model: lastChunk.model,
      choices: [],
      usage: ctx.usage,
    };
    tailText += `data: ${JSON.stringify(usageChunk)}\n\n`;
  }
  res.end(`${tailText}data: [DONE]\n\n`);
}
