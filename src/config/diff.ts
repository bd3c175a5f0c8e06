// A structural diff of two config documents: one entry per changed leaf path, so the admin API
// and CLI can show what a version changed.
export interface ConfigChange {
  path: string;
  kind: "added" | "removed" | "changed";
  from?: unknown;
  to?: unknown;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function diffConfig(from: unknown, to: unknown, path = ""): ConfigChange[] {
  if (isPlainObject(from) && isPlainObject(to)) {
    const out: ConfigChange[] = [];
    const keys = new Set([...Object.keys(from), ...Object.keys(to)]);
    for (const k of [...keys].sort()) {
      const p = path ? `${path}.${k}` : k;
      if (!(k in to)) out.push({ path: p, kind: "removed", from: from[k] });
      else if (!(k in from)) out.push({ path: p, kind: "added", to: to[k] });
      else out.push(...diffConfig(from[k], to[k], p));
    }
    return out;
  }
  if (Array.isArray(from) && Array.isArray(to)) {
    const out: ConfigChange[] = [];
    const n = Math.max(from.length, to.length);
    for (let i = 0; i < n; i++) {
      const p = `${path}[${i}]`;
      if (i >= to.length) out.push({ path: p, kind: "removed", from: from[i] });
      else if (i >= from.length) out.push({ path: p, kind: "added", to: to[i] });
      else out.push(...diffConfig(from[i], to[i], p));
    }
    return out;
  }
  if (JSON.stringify(from) === JSON.stringify(to)) return [];
  return [{ path: path || "(root)", kind: "changed", from, to }];
}
