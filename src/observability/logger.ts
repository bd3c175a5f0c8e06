// Structured JSON logs via pino. Headers that carry credentials are redacted by path so no code
// path can log a key by accident.
import { pino, type Logger } from "pino";

export function createLogger(level = process.env.LOG_LEVEL ?? "info"): Logger {
  return pino({
    level,
    base: { service: "ferrogw" },
    redact: {
      paths: ["*.authorization", "*.api_key", "*.apiKey", "*.master_key", '*["x-api-key"]', '*["x-goog-api-key"]', "*.headers.authorization"],
      censor: "[REDACTED]",
    },
  });
}

export type { Logger };
