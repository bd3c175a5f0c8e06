// Config shown through the admin API never carries a secret, even one written literally in the
// file: values under credential-like keys are masked, and key-shaped strings anywhere are too.
import { redactSecrets } from "../server/errors.js";

const SECRET_KEYS = /(api[_-]?key|secret|token|password|authorization|credential|dsn)/i;
/** Maps whose every value may be a credential: an MCP server's env and headers, tracing headers. */
const SECRET_MAPS = new Set(["env", "headers"]);
/** A URL's user part, and query values named like credentials (an MCP server's URL or arguments). */
const URL_USER = /([a-z][a-z0-9+.-]*:\/\/)[^/@\s]+@/gi;
const URL_SECRET_PARAM = /([?&](?:[a-z_-]*(?:token|key|secret|password|sig)[a-z_-]*)=)[^&\s#]+/gi;

export function redactConfig<T>(value: T): T {
  return walk(value, false) as T;
}

function walk(value: unknown, secret: boolean): unknown {
  if (typeof value === "string") {
    // ${VAR} references are not secrets: they name where the secret lives.
    if (secret && !/^\$\{[A-Za-z_][A-Za-z0-9_]*(:-[^}]*)?\}$/.test(value)) return "[REDACTED]";
    return redactSecrets(value).replace(URL_USER, "$1[REDACTED]@").replace(URL_SECRET_PARAM, "$1[REDACTED]");
  }
  if (Array.isArray(value)) return value.map((v) => walk(v, secret));
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = walk(v, secret || SECRET_KEYS.test(k) || SECRET_MAPS.has(k));
    return out;
  }
  return value;
}
