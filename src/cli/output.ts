// Output of the CLI's client commands in the format the user asked for: text (aligned tables,
// optional colour), json, or yaml. Commands build plain data; this file decides how it looks.
import { stringify as toYaml } from "yaml";

export type OutputFormat = "text" | "json" | "yaml";

export interface GlobalOptions {
  gatewayUrl: string;
  apiKey: string | undefined;
  format: OutputFormat;
  color: boolean;
}

export function parseFormat(value: string | undefined): OutputFormat {
  if (value === undefined || value === "text" || value === "json" || value === "yaml") return value ?? "text";
  throw new Error(`--format must be text, json or yaml (got "${value}")`);
}

const paint = (on: boolean, code: number, s: string): string => (on ? `\u001b[${code}m${s}\u001b[0m` : s);
export const green = (on: boolean, s: string): string => paint(on, 32, s);
export const red = (on: boolean, s: string): string => paint(on, 31, s);
export const bold = (on: boolean, s: string): string => paint(on, 1, s);

export type Cell = string | number | boolean | null | undefined;

/** Renders rows as an aligned table with a header line. */
export function table(headers: readonly string[], rows: readonly (readonly Cell[])[], color: boolean): string {
  const text = rows.map((r) => r.map((c) => (c === null || c === undefined ? "-" : String(c))));
  const widths = headers.map((h, i) => Math.max(h.length, ...text.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join("  ").trimEnd();
  return [bold(color, line(headers)), ...text.map(line)].join("\n") + "\n";
}

/** Prints data as json/yaml, or calls `asText` for the human format. */
export function emit(opts: GlobalOptions, data: unknown, asText: () => string): void {
  if (opts.format === "json") process.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
  else if (opts.format === "yaml") process.stdout.write(toYaml(data));
  else process.stdout.write(asText());
}
