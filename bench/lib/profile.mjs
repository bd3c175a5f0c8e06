// Reads V8 .cpuprofile files (from `node --cpu-prof`) and sums self time per function and per
// origin (our dist/, undici, node internals, GC, idle). Used by bench/profile-top.mjs and run.mjs.
import { readFileSync } from "node:fs";

function origin(url) {
  if (!url) return "(native/V8)";
  if (url.includes("/node_modules/undici/")) return "undici";
  if (url.includes("/node_modules/")) return `npm:${url.split("/node_modules/").pop().split("/")[0]}`;
  if (url.startsWith("node:")) return "node internals";
  if (url.includes("/dist/")) return "ferrogw (dist/)";
  return url;
}

function shortUrl(url) {
  if (!url) return "";
  if (url.includes("/node_modules/")) return url.slice(url.lastIndexOf("/node_modules/") + 14);
  if (url.includes("/dist/")) return url.slice(url.lastIndexOf("/dist/") + 1);
  return url.replace(/^file:\/\//, "");
}

/** Self time in µs per frame and per origin over all files; idle is counted apart. */
export function summarise(files) {
  const byFrame = new Map();
  const byOrigin = new Map();
  let totalUs = 0;
  for (const file of files) {
    const prof = JSON.parse(readFileSync(file, "utf8"));
    const nodes = new Map(prof.nodes.map((n) => [n.id, n]));
    const selfUs = new Map();
    // timeDeltas[i + 1] is the time spent in samples[i]
    for (let i = 0; i < prof.samples.length; i++) selfUs.set(prof.samples[i], (selfUs.get(prof.samples[i]) ?? 0) + (prof.timeDeltas[i + 1] ?? 0));
    for (const [id, us] of selfUs) {
      const n = nodes.get(id);
      if (!n) continue;
      const cf = n.callFrame;
      const name = cf.functionName || "(anonymous)";
      const key = `${name} ${shortUrl(cf.url)}:${cf.lineNumber + 1}`;
      byFrame.set(key, (byFrame.get(key) ?? 0) + us);
      const o = name.startsWith("(") && !cf.url ? name : origin(cf.url);
      byOrigin.set(o, (byOrigin.get(o) ?? 0) + us);
      totalUs += us;
    }
  }
  const sorted = (m) => [...m.entries()].sort((a, b) => b[1] - a[1]);
  const idleUs = byOrigin.get("(idle)") ?? 0;
  return {
    total_ms: totalUs / 1000,
    busy_ms: (totalUs - idleUs) / 1000,
    origins: sorted(byOrigin).filter(([o]) => o !== "(idle)").map(([o, us]) => ({ origin: o, ms: us / 1000, pct_busy: (100 * us) / (totalUs - idleUs) })),
    frames: sorted(byFrame).filter(([f]) => !f.startsWith("(idle)")).map(([f, us]) => ({ frame: f, ms: us / 1000, pct_busy: (100 * us) / (totalUs - idleUs) })),
  };
}

export function formatSummary(s, top = 30) {
  const line = (pct, ms, what) => `  ${pct.toFixed(1).padStart(5)}%  ${ms.toFixed(0).padStart(7)} ms  ${what}\n`;
  let out = `profile: ${s.total_ms.toFixed(0)} ms sampled, ${s.busy_ms.toFixed(0)} ms busy (percentages of busy time)\n\nself time by origin:\n`;
  for (const o of s.origins) out += line(o.pct_busy, o.ms, o.origin);
  out += `\ntop ${top} functions by self time:\n`;
  for (const f of s.frames.slice(0, top)) out += line(f.pct_busy, f.ms, f.frame);
  return out;
}
