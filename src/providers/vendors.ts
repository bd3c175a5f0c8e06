// The vendor table: every provider we know, as data. An OpenAI-compatible vendor is one row
// (base URL, auth header, quirks); a native wire (Anthropic, Gemini) names its codec.
// Model prefixes let a bare model name find its provider until the model catalog knows better.
import type { OpenAIQuirks } from "../wire/openai/codec.js";
import type { Operation } from "./types.js";

export type WireName = "openai" | "anthropic" | "gemini";

export interface VendorSpec {
  readonly kind: string;
  readonly displayName: string;
  readonly wire: WireName;
  readonly baseUrl: string;
  /** Prefix of the environment variables: <PREFIX>_API_KEY, <PREFIX>_BASE_URL. */
  readonly envPrefix: string;
  /** Other variables that may hold the key, checked after <PREFIX>_API_KEY. */
  readonly keyEnvAliases?: readonly string[];
  readonly authHeader: "authorization" | "x-api-key" | "x-goog-api-key" | "api-key";
  /** False for local servers (Ollama) that take no key: configured by base URL alone. */
  readonly keyRequired: boolean;
  readonly quirks?: OpenAIQuirks;
  readonly modelPrefixes: readonly string[];
  /** Serves namespaced ids such as "meta-llama/Llama-3.3-70B-Instruct" (aggregators). */
  readonly servesNamespacedIds?: boolean;
  /** Serves tagged ids such as "llama3.2:1b" (Ollama). */
  readonly servesTaggedIds?: boolean;
  readonly operations: readonly Operation[];
  /** A few well-known models to list in /v1/models until the catalog provides the full list. */
  readonly knownModels: readonly string[];
}

const CHAT_EMBED: readonly Operation[] = ["chat", "completions", "embeddings"];
const CHAT_ONLY: readonly Operation[] = ["chat"];
// Most compatible vendors predate max_completion_tokens and only read max_tokens.
const LEGACY_MAX_TOKENS: OpenAIQuirks = { rename: { max_completion_tokens: "max_tokens" } };

function compat(
  kind: string,
  displayName: string,
  baseUrl: string,
  modelPrefixes: readonly string[],
  knownModels: readonly string[],
  extra: Partial<VendorSpec> = {},
): VendorSpec {
  return {
    kind,
    displayName,
    wire: "openai",
    baseUrl,
    envPrefix: kind.toUpperCase().replace(/-/g, "_"),
    authHeader: "authorization",
    keyRequired: true,
    quirks: LEGACY_MAX_TOKENS,
    modelPrefixes,
    operations: CHAT_EMBED,
    knownModels,
    ...extra,
  };
}

export const VENDORS: readonly VendorSpec[] = [
  compat(
    "openai",
    "OpenAI",
    "https://api.openai.com/v1",
    ["gpt-", "o1", "o3", "o4", "chatgpt-", "text-embedding-", "davinci-", "babbage-", "omni-moderation", "codex-"],
    ["gpt-4o", "gpt-4o-mini", "gpt-4.1", "gpt-4.1-mini", "o3", "o4-mini", "text-embedding-3-small", "text-embedding-3-large"],
    { quirks: {} },
  ),
  {
    kind: "anthropic",
    displayName: "Anthropic",
    wire: "anthropic",
    baseUrl: "https://api.anthropic.com",
    envPrefix: "ANTHROPIC",
    authHeader: "x-api-key",
    keyRequired: true,
    modelPrefixes: ["claude-"],
    operations: CHAT_ONLY,
    knownModels: ["claude-sonnet-4-5", "claude-opus-4-1", "claude-3-5-haiku-latest", "claude-3-5-sonnet-20241022"],
  },
  {
    kind: "gemini",
    displayName: "Google Gemini",
    wire: "gemini",
    baseUrl: "https://generativelanguage.googleapis.com",
    envPrefix: "GEMINI",
    keyEnvAliases: ["GOOGLE_API_KEY"],
    authHeader: "x-goog-api-key",
    keyRequired: true,
    modelPrefixes: ["gemini-", "gemma-", "text-embedding-004", "gemini-embedding-", "embedding-", "learnlm-"],
    operations: ["chat", "embeddings"],
    knownModels: ["gemini-2.5-pro", "gemini-2.5-flash", "gemini-2.0-flash", "gemini-embedding-001"],
  },
  compat("openrouter", "OpenRouter", "https://openrouter.ai/api/v1", [], ["openai/gpt-4o-mini", "anthropic/claude-sonnet-4.5"], {
    servesNamespacedIds: true,
    quirks: {},
  }),
  compat("deepseek", "DeepSeek", "https://api.deepseek.com/v1", ["deepseek-"], ["deepseek-chat", "deepseek-reasoner"], {
    operations: ["chat", "completions"],
  }),
  compat("perplexity", "Perplexity", "https://api.perplexity.ai", ["sonar"], ["sonar", "sonar-pro", "sonar-reasoning"], {
    operations: CHAT_ONLY,
  }),
  compat("xai", "xAI (Grok)", "https://api.x.ai/v1", ["grok-"], ["grok-4", "grok-3", "grok-3-mini"], { quirks: {} }),
  compat(
    "mistral",
    "Mistral",
    "https://api.mistral.ai/v1",
    ["mistral-", "open-mistral", "codestral-", "pixtral-", "ministral-", "magistral-", "devstral-"],
    ["mistral-large-latest", "mistral-small-latest", "codestral-latest", "mistral-embed"],
    { quirks: { rename: { max_completion_tokens: "max_tokens", seed: "random_seed" } } },
  ),
  compat(
    "groq",
    "Groq",
    "https://api.groq.com/openai/v1",
    ["llama-3", "llama3-", "gemma2-", "meta-llama/", "moonshotai/", "qwen/", "openai/gpt-oss"],
    ["llama-3.3-70b-versatile", "llama-3.1-8b-instant", "openai/gpt-oss-120b"],
    { quirks: {}, operations: CHAT_ONLY },
  ),
  compat("together", "Together AI", "https://api.together.xyz/v1", [], ["meta-llama/Llama-3.3-70B-Instruct-Turbo"], {
    servesNamespacedIds: true,
  }),
  compat("fireworks", "Fireworks", "https://api.fireworks.ai/inference/v1", ["accounts/fireworks/"], ["accounts/fireworks/models/llama-v3p1-8b-instruct"]),
  compat("deepinfra", "DeepInfra", "https://api.deepinfra.com/v1/openai", [], ["meta-llama/Meta-Llama-3.1-8B-Instruct"], {
    servesNamespacedIds: true,
  }),
  compat("nvidia-nim", "NVIDIA NIM", "https://integrate.api.nvidia.com/v1", [], ["meta/llama-3.1-8b-instruct"], {
    keyEnvAliases: ["NVIDIA_API_KEY"],
    servesNamespacedIds: true,
  }),
  compat("sambanova", "SambaNova", "https://api.sambanova.ai/v1", ["Meta-Llama-", "DeepSeek-"], ["Meta-Llama-3.3-70B-Instruct", "DeepSeek-V3-0324"]),
  compat("novita", "Novita AI", "https://api.novita.ai/v3/openai", [], ["meta-llama/llama-3.1-8b-instruct"], { servesNamespacedIds: true }),
  compat("cerebras", "Cerebras", "https://api.cerebras.ai/v1", ["llama3.1-", "llama-4-", "qwen-3-", "gpt-oss-"], ["llama3.1-8b", "qwen-3-32b"], {
    operations: CHAT_ONLY,
  }),
  compat("moonshot", "Moonshot / Kimi", "https://api.moonshot.ai/v1", ["moonshot-", "kimi-"], ["kimi-k2-0905-preview", "moonshot-v1-8k"]),
  compat("qwen", "Qwen / DashScope", "https://dashscope-intl.aliyuncs.com/compatible-mode/v1", ["qwen-", "qwen2", "qwen3", "qwq-"], ["qwen-plus", "qwen-max", "text-embedding-v3"], {
    keyEnvAliases: ["DASHSCOPE_API_KEY"],
  }),
  compat("ollama", "Ollama", "http://localhost:11434/v1", [], ["llama3.2"], { keyRequired: false, servesTaggedIds: true }),
];

const BY_KIND = new Map(VENDORS.map((v) => [v.kind, v]));

export function vendorByKind(kind: string): VendorSpec | undefined {
  return BY_KIND.get(kind);
}
