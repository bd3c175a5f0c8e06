// Query-string parsing for the admin API: every bad value is a 400 naming the parameter.
import { badRequest } from "../server/errors.js";

export class Query {
  private readonly params: URLSearchParams;

  constructor(url: string) {
    const q = url.indexOf("?");
    this.params = new URLSearchParams(q < 0 ? "" : url.slice(q + 1));
  }

  string(name: string): string | undefined {
    const v = this.params.get(name);
    return v === null || v === "" ? undefined : v;
  }

  int(name: string, min: number, max: number): number | undefined {
    const v = this.string(name);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) throw badRequest(`'${name}' must be an integer between ${min} and ${max}.`, "invalid_value", name);
    return n;
  }

  bool(name: string): boolean | undefined {
    const v = this.string(name);
    if (v === undefined) return undefined;
    if (v === "true" || v === "1") return true;
    if (v === "false" || v === "0") return false;
    throw badRequest(`'${name}' must be true or false.`, "invalid_value", name);
  }

  /** A time as epoch ms, an ISO date, or a relative "24h"/"7d"/"30m" meaning that long ago. */
  time(name: string, now = Date.now()): number | undefined {
    const v = this.string(name);
    if (v === undefined) return undefined;
    const rel = /^(\d+)([mhd])$/.exec(v);
    if (rel) return now - Number(rel[1]) * ({ m: 60_000, h: 3_600_000, d: 86_400_000 } as const)[rel[2] as "m" | "h" | "d"];
    const n = Number(v);
    if (Number.isFinite(n)) return n;
    const d = Date.parse(v);
    if (Number.isFinite(d)) return d;
    throw badRequest(`'${name}' must be epoch ms, an ISO date, or a relative time like 24h.`, "invalid_value", name);
  }

  oneOf<T extends string>(name: string, values: readonly T[]): T | undefined {
    const v = this.string(name);
    if (v === undefined) return undefined;
    if (!(values as readonly string[]).includes(v)) throw badRequest(`'${name}' must be one of ${values.join(", ")}.`, "invalid_value", name);
    return v as T;
  }
}
