// A finished request's log row, numbered so tests can check order (id req-<i>, time + i).
import type { RequestLogRow } from "../../src/store/types.js";

export function logRow(i: number): RequestLogRow {
  return {
    id: `req-${i}`,
    time: 1_700_000_000_000 + i,
    keyId: "key_a",
    model: "gpt-4o",
    provider: "openai",
    target: "openai",
    status: 200,
    latencyMs: 12.5,
    upstreamLatencyMs: 10,
    tokensIn: 3,
    tokensOut: 4,
    costUsd: 0.001,
    cacheHit: false,
    error: null,
    attempts: 1,
    stream: false,
    requestBody: null,
    responseBody: null,
  };
}
