// Rebuilds function arguments that Vertex streams piecewise (streamFunctionCallArguments):
// each PartialArg sets one JSON path, and string values may arrive in several fragments.
import type { JsonObject, JsonValue } from "../../api/types.js";
import type { GeminiPartialArg } from "./types.js";

type Container = JsonObject | JsonValue[];

/**
 * Splits an RFC 9535 path ("$.a.b[0]['c d']") into keys and indices; undefined if malformed.
 * A hand-rolled scanner: this runs for every streamed fragment.
 */
export function parsePath(path: string): Array<string | number> | undefined {
  if (path.charCodeAt(0) !== 36 /* $ */) return undefined;
  const out: Array<string | number> = [];
  let i = 1;
  while (i < path.length) {
    const ch = path[i];
    if (ch === ".") {
      let j = i + 1;
      while (j < path.length && path[j] !== "." && path[j] !== "[") j++;
      if (j === i + 1) return undefined;
      out.push(path.slice(i + 1, j));
      i = j;
    } else if (ch === "[") {
      const q = path[i + 1];
      if (q === "'" || q === '"') {
        let key = "";
        let j = i + 2;
        while (j < path.length && path[j] !== q) {
          if (path[j] === "\\" && j + 1 < path.length) j++;
          key += path[j];
          j++;
        }
        if (path[j + 1] !== "]") return undefined;
        out.push(key);
        i = j + 2;
      } else {
        const close = path.indexOf("]", i);
        if (close < 0) return undefined;
        const n = Number(path.slice(i + 1, close));
        if (!Number.isInteger(n) || n < 0) return undefined;
        out.push(n);
        i = close + 1;
      }
    } else return undefined;
  }
  return out;
}

function valueOf(arg: GeminiPartialArg): JsonValue | undefined {
  if (arg.stringValue !== undefined) return arg.stringValue;
  if (arg.numberValue !== undefined) return arg.numberValue;
  if (arg.boolValue !== undefined) return arg.boolValue;
  if (arg.nullValue !== undefined) return null;
  return undefined;
}

function get(c: Container, key: string | number): JsonValue | undefined {
  if (Array.isArray(c)) return typeof key === "number" ? c[key] : undefined;
  // Own properties only: a path through "__proto__" must never reach Object.prototype.
  return typeof key === "string" && Object.hasOwn(c, key) ? c[key] : undefined;
}

function set(c: Container, key: string | number, value: JsonValue): void {
  if (Array.isArray(c)) {
    if (typeof key === "number") c[key] = value;
  } else if (typeof key === "string") {
    if (key === "__proto__") Object.defineProperty(c, key, { value, writable: true, enumerable: true, configurable: true });
    else c[key] = value;
  }
}

/** Applies one fragment to the arguments object; malformed paths are skipped. */
export function applyPartialArg(root: JsonObject, arg: GeminiPartialArg): void {
  const value = valueOf(arg);
  if (value === undefined || typeof arg.jsonPath !== "string") return;
  const path = parsePath(arg.jsonPath);
  if (!path || path.length === 0) return;
  let c: Container = root;
  for (let i = 0; i < path.length - 1; i++) {
    const key = path[i] as string | number;
    let next = get(c, key);
    if (typeof next !== "object" || next === null) {
      next = typeof path[i + 1] === "number" ? [] : {};
      set(c, key, next);
    }
    c = next;
  }
  const last = path[path.length - 1] as string | number;
  const prev = get(c, last);
  set(c, last, typeof value === "string" && typeof prev === "string" ? prev + value : value);
}
