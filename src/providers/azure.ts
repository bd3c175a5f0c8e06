// Azure's two OpenAI-shaped surfaces, as codecs over the OpenAI wire:
//  - Azure OpenAI (dated API versions): POST {endpoint}/openai/deployments/{deployment}/chat/completions
//    ?api-version=...; the model name is the deployment name (map it with a target's model_map).
//    The v1 GA surface ({endpoint}/openai/v1/chat/completions, model in the body) is plain OpenAI.
//  - Azure AI Foundry model inference: POST {endpoint}/models/chat/completions?api-version=...,
//    OpenAI-shaped body whose `model` names the deployment.
import { createOpenAICodec } from "../wire/openai/codec.js";
import type { CodecContext, UpstreamRequest, WireCodec } from "./types.js";

/** Latest GA data-plane inference version of Azure OpenAI's dated API. */
export const AZURE_OPENAI_API_VERSION = "2024-10-21";
/** The Azure AI model inference API version the Foundry /models endpoint serves. */
export const AZURE_FOUNDRY_API_VERSION = "2024-05-01-preview";

function withVersion(path: string, apiVersion: string): string {
  return `${path}${path.includes("?") ? "&" : "?"}api-version=${encodeURIComponent(apiVersion)}`;
}

/** Azure OpenAI with deployments: paths are relative to the resource endpoint. */
export function createAzureDeploymentsCodec(apiVersion: string): WireCodec {
  const inner = createOpenAICodec({});
  const route = (r: UpstreamRequest, ctx: CodecContext): UpstreamRequest => ({
    ...r,
    path: withVersion(`/openai/deployments/${encodeURIComponent(ctx.model)}${r.path}`, apiVersion),
  });
  return {
    ...inner,
    name: "azure-openai",
    chatRequest: (req, ctx, stream) => route(inner.chatRequest(req, ctx, stream), ctx),
    completionRequest: (req, ctx, stream) => route((inner.completionRequest as NonNullable<WireCodec["completionRequest"]>)(req, ctx, stream), ctx),
    embeddingsRequest: (req, ctx) => route((inner.embeddingsRequest as NonNullable<WireCodec["embeddingsRequest"]>)(req, ctx), ctx),
  };
}

/** OpenAI-wire paths with an api-version query (Azure AI Foundry's model inference API). */
export function createAzureFoundryCodec(apiVersion: string): WireCodec {
  return {
    ...createOpenAICodec({ chatPath: withVersion("/chat/completions", apiVersion), embeddingsPath: withVersion("/embeddings", apiVersion) }),
    name: "azure-foundry",
  };
}
