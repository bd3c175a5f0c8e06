// Reading `usage` from a forwarded body without parsing the rest (src/gateway/usage.ts): the same
// answer as a full JSON.parse for every recorded provider body that has one, and no confusion
// with text that merely looks like a usage object.
import { describe, expect, it } from "vitest";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { usageFromBody } from "../../src/gateway/usage.js";

const FIXTURES = fileURLToPath(new URL("../../../shared/fixtures/", import.meta.url));

function recordedBodies(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...recordedBodies(path));
    else if (name.endsWith(".json")) out.push(path);
  }
  return out;
}

describe("usageFromBody", () => {
  it("matches a full parse on every recorded response that carries usage", () => {
    let checked = 0;
    for (const path of recordedBodies(FIXTURES)) {
      const buf = readFileSync(path);
      let full: unknown;
      try {
        full = JSON.parse(buf.toString("utf8"));
      } catch {
        continue;
      }
      if (typeof full !== "object" || full === null || !("usage" in full)) continue;
      expect(usageFromBody(buf), path).toEqual((full as { usage: unknown }).usage ?? undefined);
      checked++;
    }
    expect(checked).toBeGreaterThan(50);
  });

  it("is not fooled by usage-like text in the answer", () => {
    const usage = { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7, prompt_tokens_details: { cached_tokens: 1 } };
    const answer = 'say "usage": {"prompt_tokens": 99} and } {';
    expect(usageFromBody(Buffer.from(JSON.stringify({ choices: [{ message: { content: answer } }], usage })))).toEqual(usage);
    expect(usageFromBody(Buffer.from(JSON.stringify({ usage, choices: [{ message: { content: answer } }] })))).toEqual(usage);
    expect(usageFromBody(Buffer.from(JSON.stringify({ choices: [{ message: { content: answer } }], usage: null })))).toBeUndefined();
    expect(usageFromBody(Buffer.from(JSON.stringify({ choices: [{ message: { content: answer } }] })))).toBeUndefined();
    expect(usageFromBody(Buffer.from('{"usage": {"prompt_tokens": 1'))).toBeUndefined();
  });
});
