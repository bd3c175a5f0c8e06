// Google API errors: {"error":{"code":429,"message":"...","status":"RESOURCE_EXHAUSTED","details":[...]}},
// sometimes wrapped in an array (errors sent on a stream). Only message and status reach the client.
import type { UpstreamErrorInfo } from "../../providers/types.js";

interface GoogleError {
  error?: { code?: unknown; message?: unknown; status?: unknown };
}

export function parseGeminiError(status: number, text: string): UpstreamErrorInfo {
  try {
    const parsed = JSON.parse(text) as GoogleError | GoogleError[];
    const err = (Array.isArray(parsed) ? parsed[0] : parsed)?.error;
    if (err && typeof err === "object") {
      const message = typeof err.message === "string" && err.message ? err.message : `upstream returned HTTP ${status}`;
      const kind = typeof err.status === "string" && err.status ? err.status : undefined;
      return { message, type: kind, code: kind?.toLowerCase() };
    }
  } catch {
    // not JSON (an HTML page from a proxy, say): the raw text is never echoed
  }
  return { message: `upstream returned HTTP ${status}`, type: undefined, code: undefined };
}
