// The vendor table: every provider we know, as data. An OpenAI-compatible vendor is one row
// (base URL, auth header, quirks); a native wire (Anthropic, Gemini) names its codec.
// Model prefixes let a bare model name find its provider until the model catalog knows better.
import type { OpenAIQuirks } from "../wire/openai/codec.js";
import type { Operation } from "./types.js";

export type WireName = "openai" | "anthropic" | "gemini" | "bedrock-converse" | "vertex" | "cohere" | "replicate";

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
  /** Serves OpenAI's files and batches API (/files, /batches) under its base URL: batch_target may name it. */
  readonly batches?: true;
  /** A few well-known models to list in /v1/models until the catalog provides the full list. */
  readonly knownModels: readonly string[];
  /**
   * Cloud platforms whose URL, credentials (SigV4, OAuth) or codec are built per account by
   * providers/cloud.ts instead of from <PREFIX>_API_KEY alone.
   */
  readonly cloud?: "bedrock" | "azure-openai" | "azure-foundry" | "vertex-ai";
  /**
   * Placeholders in baseUrl ("{account_id}") and the environment variables that fill them, tried
   * in order (Cloudflare's account id, Databricks' workspace host). A base URL from config or
   * <PREFIX>_BASE_URL replaces the template; an unfilled placeholder leaves the provider unbuilt.
   */
  readonly baseUrlEnv?: Readonly<Record<string, readonly string[]>>;
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
    { quirks: {}, operations: ["chat", "completions", "embeddings", "responses"], batches: true },
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
    // Groq answers 400 to logprobs, top_logprobs and logit_bias (console.groq.com/docs/openai).
    { quirks: { drop: ["logprobs", "top_logprobs", "logit_bias"] }, operations: CHAT_ONLY, batches: true },
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
  compat("novita", "Novita AI", "https://api.novita.ai/v3/openai", [], ["meta-llama/llama-3.1-8b-instruct"], { servesNamespacedIds: true, batches: true }),
  compat("cerebras", "Cerebras", "https://api.cerebras.ai/v1", ["llama3.1-", "llama-3.3-", "llama-4-", "qwen-3-", "gpt-oss-", "zai-glm-"], ["gpt-oss-120b", "llama3.1-8b"], {
    // Cerebras answers 400 to these OpenAI fields (inference-docs.cerebras.ai, OpenAI compatibility).
    quirks: { drop: ["frequency_penalty", "presence_penalty", "logit_bias", "parallel_tool_calls", "service_tier"] },
    operations: CHAT_ONLY,
  }),
  compat("moonshot", "Moonshot / Kimi", "https://api.moonshot.ai/v1", ["moonshot-", "kimi-"], ["kimi-k2-0905-preview", "moonshot-v1-8k"]),
  compat("qwen", "Qwen / DashScope", "https://dashscope-intl.aliyuncs.com/compatible-mode/v1", ["qwen-", "qwen2", "qwen3", "qwq-"], ["qwen-plus", "qwen-max", "text-embedding-v3"], {
    keyEnvAliases: ["DASHSCOPE_API_KEY"],
    batches: true,
  }),
  compat("ollama", "Ollama", "http://localhost:11434/v1", [], ["llama3.2"], { keyRequired: false, servesTaggedIds: true }),
  {
    kind: "cohere",
    displayName: "Cohere",
    wire: "cohere",
    baseUrl: "https://api.cohere.com",
    envPrefix: "COHERE",
    keyEnvAliases: ["CO_API_KEY"],
    authHeader: "authorization",
    keyRequired: true,
    modelPrefixes: ["command-", "c4ai-aya-", "embed-english-", "embed-multilingual-", "embed-v4"],
    operations: ["chat", "embeddings"],
    knownModels: ["command-a-03-2025", "command-r-plus-08-2024", "command-r7b-12-2024", "embed-v4.0"],
  },
  // Jamba documents only model, messages, tools, documents, response_format, max_tokens,
  // temperature, top_p, stop, n and stream (docs.ai21.com, Jamba API reference).
  compat("ai21", "AI21 (Jamba)", "https://api.ai21.com/studio/v1", ["jamba-"], ["jamba-large", "jamba-mini"], {
    quirks: {
      rename: { max_completion_tokens: "max_tokens" },
      drop: ["stream_options", "logprobs", "top_logprobs", "logit_bias", "seed", "parallel_tool_calls", "tool_choice", "user", "presence_penalty", "frequency_penalty", "metadata", "store", "service_tier"],
    },
    operations: CHAT_ONLY,
  }),
  {
    kind: "replicate",
    displayName: "Replicate",
    wire: "replicate",
    baseUrl: "https://api.replicate.com/v1",
    envPrefix: "REPLICATE",
    keyEnvAliases: ["REPLICATE_API_TOKEN"],
    authHeader: "authorization",
    keyRequired: true,
    // Ids are owner/name (official models) or owner/name:version: addressed as replicate/<id>.
    modelPrefixes: [],
    operations: CHAT_ONLY,
    knownModels: ["meta/meta-llama-3-70b-instruct", "meta/meta-llama-3-8b-instruct", "ibm-granite/granite-3.3-8b-instruct"],
  },
  compat("cloudflare", "Cloudflare Workers AI", "https://api.cloudflare.com/client/v4/accounts/{account_id}/ai/v1", ["@cf/", "@hf/"], ["@cf/meta/llama-3.1-8b-instruct", "@cf/openai/gpt-oss-120b", "@cf/baai/bge-large-en-v1.5"], {
    keyEnvAliases: ["CLOUDFLARE_API_TOKEN"],
    baseUrlEnv: { account_id: ["CLOUDFLARE_ACCOUNT_ID"] },
    operations: ["chat", "embeddings"],
  }),
  // Model = serving endpoint name; DATABRICKS_HOST is the workspace (with or without https://).
  compat("databricks", "Databricks", "https://{host}/serving-endpoints", ["databricks-"], ["databricks-meta-llama-3-3-70b-instruct", "databricks-claude-sonnet-4-5", "databricks-gte-large-en"], {
    keyEnvAliases: ["DATABRICKS_TOKEN"],
    baseUrlEnv: { host: ["DATABRICKS_HOST"] },
  }),
  // Inference Providers router: "org/model" (router picks) or "org/model:provider".
  compat("hugging-face", "Hugging Face", "https://router.huggingface.co/v1", [], ["openai/gpt-oss-120b", "meta-llama/Llama-3.1-8B-Instruct", "deepseek-ai/DeepSeek-R1"], {
    keyEnvAliases: ["HF_TOKEN"],
    servesNamespacedIds: true,
    operations: CHAT_ONLY,
  }),
  compat("ollama-cloud", "Ollama Cloud", "https://ollama.com/v1", [], ["gpt-oss:120b", "deepseek-v3.1:671b", "qwen3-coder:480b"], {
    keyEnvAliases: ["OLLAMA_API_KEY"],
    servesTaggedIds: true,
    operations: CHAT_ONLY,
  }),
  // Cloud platforms (providers/cloud.ts builds their URL, auth and, for Azure, the codec).
  {
    kind: "bedrock",
    displayName: "AWS Bedrock",
    wire: "bedrock-converse",
    baseUrl: "https://bedrock-runtime.us-east-1.amazonaws.com",
    envPrefix: "BEDROCK",
    authHeader: "authorization",
    keyRequired: true,
    cloud: "bedrock",
    // Model ids are "<provider>.<model>", cross-region inference profiles "<geo>.<provider>.<model>".
    modelPrefixes: ["anthropic.", "amazon.", "meta.", "mistral.", "cohere.", "ai21.", "deepseek.", "openai.", "qwen.", "writer.", "us.", "eu.", "apac.", "jp.", "au.", "global.", "arn:aws:bedrock:"],
    operations: ["chat", "embeddings"],
    knownModels: ["us.anthropic.claude-sonnet-4-5-20250929-v1:0", "anthropic.claude-3-5-haiku-20241022-v1:0", "amazon.nova-pro-v1:0", "amazon.nova-lite-v1:0", "meta.llama3-1-70b-instruct-v1:0", "amazon.titan-embed-text-v2:0", "cohere.embed-english-v3"],
  },
  {
    kind: "azure-openai",
    displayName: "Azure OpenAI",
    wire: "openai",
    baseUrl: "",
    envPrefix: "AZURE_OPENAI",
    authHeader: "api-key",
    keyRequired: true,
    cloud: "azure-openai",
    // The model is the deployment name; deployments are usually named after the model.
    modelPrefixes: ["gpt-", "o1", "o3", "o4", "text-embedding-3", "text-embedding-ada"],
    operations: CHAT_EMBED,
    knownModels: [],
  },
  {
    kind: "azure-foundry",
    displayName: "Azure AI Foundry",
    wire: "openai",
    baseUrl: "",
    envPrefix: "AZURE_FOUNDRY",
    authHeader: "api-key",
    keyRequired: true,
    cloud: "azure-foundry",
    modelPrefixes: ["Phi-", "MAI-DS-", "Cohere-", "AI21-", "Mistral-", "Ministral-", "Llama-"],
    operations: ["chat", "embeddings"],
    knownModels: [],
  },
  {
    kind: "vertex-ai",
    displayName: "Google Vertex AI",
    wire: "vertex",
    baseUrl: "https://us-central1-aiplatform.googleapis.com",
    envPrefix: "VERTEX",
    authHeader: "authorization",
    keyRequired: true,
    cloud: "vertex-ai",
    modelPrefixes: ["gemini-", "claude-", "text-embedding-00", "text-multilingual-embedding-"],
    operations: ["chat", "embeddings"],
    knownModels: ["gemini-2.5-pro", "gemini-2.5-flash", "claude-sonnet-4-5@20250929", "claude-opus-4-1@20250805", "text-embedding-005", "gemini-embedding-001"],
  },
];

const BY_KIND = new Map(VENDORS.map((v) => [v.kind, v]));

export function vendorByKind(kind: string): VendorSpec | undefined {
  return BY_KIND.get(kind);
}
