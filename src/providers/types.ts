// The provider adapter interface. A provider is split in two:
//  - a WireCodec: pure translation between our OpenAI-shaped types and one upstream wire format
//    (no I/O, unit-testable against recorded fixtures). One codec serves many vendors
//    (OpenAI's wire serves ~20 of them; Anthropic's serves Anthropic, Bedrock and Vertex).
//  - a Provider: one configured upstream (base URL, credentials, timeout, which models it serves)
//    that owns transport and auth, and names the codec it speaks.
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatRequest,
  CompletionRequest,
  EmbeddingRequest,
  EmbeddingResponse,
  Usage,
} from "../api/types.js";

/** What a codec asks the transport to send, relative to the provider's base URL. */
export interface UpstreamRequest {
  /** Path (and query) appended to the base URL's path, e.g. "/chat/completions". */
  path: string;
  method: "POST" | "GET" | "DELETE";
  /** Request-specific headers; the provider adds its static auth headers itself. */
  headers: Record<string, string>;
  /** JSON text, or the client's own JSON bytes when they go upstream unchanged. */
  body: string | Uint8Array;
  /**
   * Absolute URL for the follow-up calls of a multi-step exchange (see WireCodec.exchange), e.g. a
   * prediction's poll or stream URL. When set, `path` is ignored and the request goes to this URL.
   */
  url?: string;
  /** The client asked for a stream; multi-step exchanges use it to choose their flow. */
  stream?: boolean;
}

/** An upstream response whose body is not read yet (undici's ResponseData satisfies it). */
export interface UpstreamReply {
  readonly statusCode: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: UpstreamBody;
  /** Set by the gateway's own upstream client: when the request left and the answer came in. */
  readonly clock?: WireClock;
}

/**
 * The upstream's share of a request's time, as performance.now() milliseconds: `sentAt` as the
 * formatted request is handed to the socket, `readAt` at each read of the answer (the latest so
 * far). readAt - sentAt is socket I/O and the upstream's wait; the rest is the gateway's processing.
 */
export interface WireClock {
  sentAt: number;
  readAt: number;
}

export interface UpstreamBody extends AsyncIterable<Uint8Array> {
  text(): Promise<string>;
  arrayBuffer(): Promise<ArrayBuffer>;
}

/** What a multi-step exchange may use: one-call sends through the provider, and its settings. */
export interface ExchangeIO {
  /** Sends one request through the provider's pool, with its auth; resolves with any HTTP status. */
  send(req: UpstreamRequest): Promise<UpstreamReply>;
  readonly baseUrl: URL;
  /** The provider's timeout (ms): a bound for waiting on the whole exchange too. */
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
}

/** One server-sent event (or one decoded frame of a binary event stream). */
export interface StreamEvent {
  event: string | undefined;
  data: string;
}

/** Turns one upstream stream into OpenAI chat.completion.chunk objects, statefully. */
export interface StreamTranslator {
  push(event: StreamEvent): ChatCompletionChunk[];
  /** The upstream stream ended: emit whatever is still pending (e.g. a final finish_reason chunk). */
  end(): ChatCompletionChunk[];
  /** Token usage seen so far, normalised to OpenAI's fields. */
  usage(): Usage | undefined;
}

/** An upstream error reduced to what we may show the client (never the raw body). */
export interface UpstreamErrorInfo {
  message: string;
  type: string | undefined;
  code: string | undefined;
}

export type StreamFraming = "sse" | "aws-eventstream";

export interface CodecContext {
  /** The model name to send upstream (after aliasing and per-target mapping). */
  model: string;
  /** Our request id, used for synthesised response ids where the upstream has none. */
  requestId: string;
  /**
   * The client's JSON (text or bytes) for exactly this request, when nothing (a plugin) may have
   * changed it: a codec that would send the same object may send it instead of serialising again.
   */
  clientBody?: string | Uint8Array;
}

export interface WireCodec {
  readonly name: string;
  /**
   * True when the upstream speaks OpenAI's chat wire: the gateway then forwards response bodies
   * and stream bytes unchanged instead of decoding and re-encoding them.
   */
  readonly openaiWire: boolean;
  readonly streamFraming: StreamFraming;

  chatRequest(req: ChatRequest, ctx: CodecContext, stream: boolean): UpstreamRequest;
  chatResponse(body: unknown, ctx: CodecContext): ChatCompletion;
  chatStream(ctx: CodecContext): StreamTranslator;

  completionRequest?(req: CompletionRequest, ctx: CodecContext, stream: boolean): UpstreamRequest;
  embeddingsRequest?(req: EmbeddingRequest, ctx: CodecContext): UpstreamRequest;
  embeddingsResponse?(body: unknown, ctx: CodecContext): EmbeddingResponse;
  /** False when the wire has no way to offer the model tools (Replicate): the MCP loop sends its turns without them. */
  readonly tools?: false;
  /** OpenAI's Responses API (POST /responses): the request passes through, with the model as routed. */
  responsesRequest?(req: Record<string, unknown>, ctx: CodecContext): UpstreamRequest;

  /** Extracts a client-safe message from an upstream error body (JSON or not). */
  parseError(status: number, body: string): UpstreamErrorInfo;

  /**
   * Optional: for wires where one client request takes more than one upstream call (Replicate:
   * create a prediction, then poll it or open its event stream). When present, the transport calls
   * it instead of sending `req` once. `io.send` makes one call through the provider's pool and
   * auth (a relative `path`, or an absolute `url` the codec has checked). It resolves with the
   * response that chatResponse / chatStream / parseError read, exactly as if it had been the only
   * call: error statuses pass through unread, so the gateway maps them like any other upstream error.
   */
  exchange?(req: UpstreamRequest, io: ExchangeIO): Promise<UpstreamReply>;
}

export type Operation = "chat" | "completions" | "embeddings" | "responses";

/** A configured upstream, ready to take requests. Built once from config; immutable afterwards. */
export interface Provider {
  /** The name targets refer to (virtual_key), e.g. "openai" or a user-defined "openai-eu". */
  readonly name: string;
  /** The vendor kind from our provider table, e.g. "openai", "groq", "anthropic". */
  readonly kind: string;
  readonly codec: WireCodec;
  readonly baseUrl: URL;
  /** Auth and extra headers, computed once at load time. */
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly operations: ReadonlySet<Operation>;
  /** Serves OpenAI's files and batches API, so batch_target may name it. */
  readonly batches: boolean;
  /** True when this provider can serve the model (declared, known prefix, or catalog). */
  serves(model: string): boolean;
  /** Model ids this provider is known to serve, for GET /v1/models. */
  models(): readonly string[];
  /** Optional per-request signing (SigV4, OAuth tokens); static-key providers leave it out. */
  authorize?(req: UpstreamRequest, url: URL): Promise<Record<string, string>>;
}
