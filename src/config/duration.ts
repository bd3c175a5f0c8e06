// Durations in config are Go-style strings ("30s", "500ms", "1m30s") or plain numbers of seconds.
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
const WHOLE = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h))+$/;

export function parseDurationMs(value: string | number): number | undefined {
  if (typeof value === "number") return value >= 0 ? value * 1000 : undefined;
  const text = value.trim();
  if (!WHOLE.test(text)) return undefined;
  let total = 0;
  for (const m of text.matchAll(PART)) total += Number(m[1]) * (UNIT_MS[m[2] ?? "s"] ?? 0);
  return total;
}
