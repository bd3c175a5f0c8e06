// The cloud platforms whose providers need more than a key and a base URL: the URL is built from
// a region, project or resource endpoint, requests are signed (SigV4) or carry short-lived OAuth
// tokens, or the path depends on the deployment. Each returns what the registry needs to build
// the provider, or why it cannot be built. Read once per config load; nothing here runs per request.
import { readFileSync } from "node:fs";
import type { ProviderConfig } from "../config/schema.js";
import { AZURE_FOUNDRY_API_VERSION, AZURE_OPENAI_API_VERSION, createAzureDeploymentsCodec, createAzureFoundryCodec } from "./azure.js";
import { awsEnvCredentials, awsEnvRegion, createSigV4Signer } from "./aws-sigv4.js";
import { GoogleTokenSource, parseGoogleCredentials, type GoogleCredentials } from "./google-oauth.js";
import type { UpstreamRequest, WireCodec } from "./types.js";
import type { VendorSpec } from "./vendors.js";
import { createOpenAICodec } from "../wire/openai/codec.js";


/** Per-request auth: extra headers for this request, given the provider's static headers. */
export type Authorize = (req: UpstreamRequest, url: URL, staticHeaders: Readonly<Record<string, string>>) => Promise<Record<string, string>>;

export interface CloudSetup {
  baseUrl: string;
  headers: Record<string, string>;
  /** A codec specific to this provider (API version, deployments); default: the vendor's wire. */
  codec?: WireCodec;
  authorize?: Authorize;
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, "");
}

function pathOf(url: string): string {
  try {
    return new URL(url).pathname.replace(/\/+$/, "");
  } catch {
    return "";
  }
}

/** The region in a bedrock-runtime host name, e.g. bedrock-runtime.eu-west-1.amazonaws.com. */
function regionFromHost(url: string | undefined): string | undefined {
  if (!url) return undefined;
  return /bedrock-runtime(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com/.exec(url)?.[1];
}

function bedrock(name: string, cfg: ProviderConfig | undefined, env: NodeJS.ProcessEnv, useEnv: boolean, envBase: string | undefined): CloudSetup | string {
  const region = (useEnv ? awsEnvRegion(env) : undefined) ?? regionFromHost(cfg?.base_url) ?? "us-east-1";
  const baseUrl = cfg?.base_url ?? envBase ?? `https://bedrock-runtime.${region}.amazonaws.com`;
  // A Bedrock API key (bearer token) wins over SigV4, as in the AWS SDKs.
  const bearer = cfg?.api_key || (useEnv ? env.AWS_BEARER_TOKEN_BEDROCK : undefined);
  if (bearer) return { baseUrl, headers: { authorization: `Bearer ${bearer}` } };
  const credentials = useEnv ? awsEnvCredentials(env) : undefined;
  if (!credentials)
    return `provider ${name}: no AWS credentials (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_BEARER_TOKEN_BEDROCK, or providers.${name}.api_key)`;
  const sign = createSigV4Signer({ service: "bedrock", region, credentials });
  return {
    baseUrl,
    headers: {},
    authorize: (req, url, staticHeaders) => sign({ method: req.method, url, headers: { ...staticHeaders, ...req.headers }, body: req.body }),
  };
}

function azureOpenAI(name: string, cfg: ProviderConfig | undefined, env: NodeJS.ProcessEnv, useEnv: boolean, envBase: string | undefined): CloudSetup | string {
  const endpoint = cfg?.base_url ?? envBase ?? (useEnv ? env.AZURE_OPENAI_ENDPOINT : undefined);
  if (!endpoint) return `provider ${name}: no endpoint (set AZURE_OPENAI_ENDPOINT or providers.${name}.base_url)`;
  const key = cfg?.api_key || (useEnv ? env.AZURE_OPENAI_API_KEY : undefined);
  const adToken = useEnv ? env.AZURE_OPENAI_AD_TOKEN : undefined;
  if (!key && !adToken) return `provider ${name}: no API key (set AZURE_OPENAI_API_KEY or AZURE_OPENAI_AD_TOKEN, or providers.${name}.api_key)`;
  const headers: Record<string, string> = key ? { "api-key": key } : { authorization: `Bearer ${adToken}` };
  const apiVersion = (useEnv ? env.AZURE_OPENAI_API_VERSION : undefined) || AZURE_OPENAI_API_VERSION;
  let base = trimSlash(endpoint);
  const path = pathOf(base);
  // The v1 GA surface: {endpoint}/openai/v1, OpenAI's own paths with the deployment as `model`.
  if (path.endsWith("/openai/v1") || apiVersion === "v1") {
    if (!path.endsWith("/openai/v1")) base = `${base.replace(/\/openai$/, "")}/openai/v1`;
    return { baseUrl: base, headers, codec: createOpenAICodec({}) };
  }
  return { baseUrl: base.replace(/\/openai$/, ""), headers, codec: createAzureDeploymentsCodec(apiVersion) };
}

function azureFoundry(name: string, cfg: ProviderConfig | undefined, env: NodeJS.ProcessEnv, useEnv: boolean, envBase: string | undefined): CloudSetup | string {
  const endpoint = cfg?.base_url ?? envBase ?? (useEnv ? env.AZURE_FOUNDRY_ENDPOINT : undefined);
  if (!endpoint) return `provider ${name}: no endpoint (set AZURE_FOUNDRY_ENDPOINT or providers.${name}.base_url)`;
  const key = cfg?.api_key || (useEnv ? env.AZURE_FOUNDRY_API_KEY : undefined);
  const adToken = useEnv ? env.AZURE_FOUNDRY_AD_TOKEN : undefined;
  if (!key && !adToken) return `provider ${name}: no API key (set AZURE_FOUNDRY_API_KEY or AZURE_FOUNDRY_AD_TOKEN, or providers.${name}.api_key)`;
  const headers: Record<string, string> = key ? { "api-key": key } : { authorization: `Bearer ${adToken}` };
  const apiVersion = (useEnv ? env.AZURE_FOUNDRY_API_VERSION : undefined) || AZURE_FOUNDRY_API_VERSION;
  let base = trimSlash(endpoint);
  // A Foundry resource (https://<resource>.services.ai.azure.com) serves the inference API under
  // /models; serverless and other endpoints are used as given.
  try {
    const u = new URL(base);
    if ((u.hostname.endsWith(".services.ai.azure.com") || u.hostname.endsWith(".cognitiveservices.azure.com")) && pathOf(base) === "") base = `${base}/models`;
  } catch {
    // the registry reports the invalid URL
  }
  return { baseUrl: base, headers, codec: createAzureFoundryCodec(apiVersion) };
}

function loadGoogleCredentials(cfg: ProviderConfig | undefined, env: NodeJS.ProcessEnv, useEnv: boolean): GoogleCredentials | string | undefined {
  const inline = cfg?.api_key?.trim().startsWith("{") ? cfg.api_key : useEnv ? env.VERTEX_CREDENTIALS_JSON : undefined;
  if (inline) return parseGoogleCredentials(inline);
  const file = useEnv ? env.GOOGLE_APPLICATION_CREDENTIALS : undefined;
  if (!file) return undefined;
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    return `cannot read GOOGLE_APPLICATION_CREDENTIALS (${(err as NodeJS.ErrnoException).code ?? "error"})`;
  }
  return parseGoogleCredentials(text);
}

function vertex(name: string, cfg: ProviderConfig | undefined, env: NodeJS.ProcessEnv, useEnv: boolean, envBase: string | undefined): CloudSetup | string {
  const creds = loadGoogleCredentials(cfg, env, useEnv);
  if (typeof creds === "string") return `provider ${name}: ${creds}`;
  // Without a key file, providers.<name>.api_key may hold a ready OAuth access token.
  const staticToken = !creds && cfg?.api_key && !cfg.api_key.trim().startsWith("{") ? cfg.api_key : undefined;
  if (!creds && !staticToken) return `provider ${name}: no credentials (set GOOGLE_APPLICATION_CREDENTIALS or VERTEX_CREDENTIALS_JSON)`;
  const project = (useEnv ? env.VERTEX_PROJECT || env.GOOGLE_CLOUD_PROJECT : undefined) || (creds?.type === "service_account" ? creds.project_id : undefined);
  if (!project) return `provider ${name}: no project (set VERTEX_PROJECT)`;
  const location = (useEnv ? env.VERTEX_LOCATION || env.GOOGLE_CLOUD_LOCATION : undefined) || "us-central1";
  const host = location === "global" ? "https://aiplatform.googleapis.com" : `https://${location}-aiplatform.googleapis.com`;
  const root = trimSlash(cfg?.base_url ?? envBase ?? host);
  const baseUrl = `${root}/v1/projects/${encodeURIComponent(project)}/locations/${encodeURIComponent(location)}`;
  if (!creds) return { baseUrl, headers: { authorization: `Bearer ${staticToken}` } };
  const tokenUrl = useEnv ? env.VERTEX_TOKEN_URL || undefined : undefined;
  const source = new GoogleTokenSource(creds, tokenUrl ? { tokenUrl } : {});
  return { baseUrl, headers: {}, authorize: async () => ({ authorization: `Bearer ${await source.token()}` }) };
}

/**
 * Builds a cloud provider's URL, headers, codec and per-request auth. Environment variables are
 * read for the provider named after its kind, and for config entries of that kind.
 */
export function cloudSetup(name: string, vendor: VendorSpec, cfg: ProviderConfig | undefined, env: NodeJS.ProcessEnv): CloudSetup | string | undefined {
  if (!vendor.cloud) return undefined;
  const useEnv = name === vendor.kind || cfg !== undefined;
  const envBase = name === vendor.kind ? env[`${vendor.envPrefix}_BASE_URL`] || undefined : undefined;
  switch (vendor.cloud) {
    case "bedrock":
      return bedrock(name, cfg, env, useEnv, envBase);
    case "azure-openai":
      return azureOpenAI(name, cfg, env, useEnv, envBase);
    case "azure-foundry":
      return azureFoundry(name, cfg, env, useEnv, envBase);
    case "vertex-ai":
      return vertex(name, cfg, env, useEnv, envBase);
  }
}
