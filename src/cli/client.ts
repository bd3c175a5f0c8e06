// A small HTTP client for the CLI commands that talk to a running gateway.
import { request } from "undici";
import type { GlobalOptions } from "./output.js";

export class GatewayClientError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

export async function callGateway<T>(opts: GlobalOptions, method: "GET" | "POST" | "PUT" | "DELETE", path: string, body?: unknown): Promise<T> {
  const url = new URL(path, opts.gatewayUrl.endsWith("/") ? opts.gatewayUrl : `${opts.gatewayUrl}/`);
  const headers: Record<string, string> = { accept: "application/json" };
  if (opts.apiKey) headers.authorization = `Bearer ${opts.apiKey}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  let res;
  try {
    res = await request(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), headersTimeout: 10_000, bodyTimeout: 10_000 });
  } catch (err) {
    throw new GatewayClientError(`cannot reach the gateway at ${opts.gatewayUrl}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 0);
  }
  const text = await res.body.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (res.statusCode >= 400) {
    const msg = (json as { error?: { message?: string } } | undefined)?.error?.message ?? `HTTP ${res.statusCode}`;
    throw new GatewayClientError(msg, res.statusCode);
  }
  return json as T;
}
