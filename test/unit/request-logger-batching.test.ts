// The request-logger writes its lines in batches, off the request path: many requests' lines in
// one write, each line stamped with the time of its event, nothing held back at shutdown.
import { Writable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import type { ChatRequest } from "../../src/api/types.js";
import { configSchema } from "../../src/config/schema.js";
import { newContext } from "../../src/server/context.js";
import { buildPipeline, type PluginPipeline } from "../../src/plugins/pipeline.js";
import { setRequestLogDestination } from "../../src/plugins/request-logger.js";
import { until } from "../helpers/until.js";

interface Line {
  event: string;
  request_id: string;
  time: number;
}

const req: ChatRequest = { model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] };

let open: PluginPipeline | undefined;
afterEach(async () => {
  await open?.close();
  open = undefined;
});

/** A pipeline with the request-logger at before_request, and the writes that reach its destination. */
function logger(): { p: PluginPipeline; writes: Line[][] } {
  const writes: Line[][] = [];
  setRequestLogDestination(
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        writes.push(
          chunk
            .toString("utf8")
            .split("\n")
            .filter((l) => l !== "")
            .map((l) => JSON.parse(l) as Line),
        );
        cb();
      },
    }),
  );
  const plugins = configSchema.parse({ plugins: [{ name: "request-logger", stage: "before_request", enabled: true, config: { level: "info" } }] }).plugins;
  const p = buildPipeline(plugins, { env: { LOG_LEVEL: "silent" } });
  setRequestLogDestination(undefined);
  open = p;
  return { p, writes };
}

function request(p: PluginPipeline): string {
  const ctx = newContext({});
  void p.beforeRequest(p.begin(ctx, req));
  return ctx.id;
}

describe("request-logger batching", () => {
  it("writes the lines of requests close together in one write, each with its own event time", async () => {
    const { p, writes } = logger();
    const before = Date.now();
    const ids = [request(p), request(p), request(p)];
    const after = Date.now();
    await new Promise((r) => setImmediate(r));
    expect(writes).toEqual([]);
    await until("the batched write", () => writes.length > 0, 2000, 5);
    expect(writes).toHaveLength(1);
    expect(writes[0]?.map((l) => l.request_id)).toEqual(ids);
    for (const l of writes[0] ?? []) {
      expect(l.event).toBe("request");
      expect(l.time).toBeGreaterThanOrEqual(before);
      expect(l.time).toBeLessThanOrEqual(after);
    }
  });

  it("does not wait for the timer once many lines are waiting", async () => {
    const { p, writes } = logger();
    for (let i = 0; i < 256; i++) request(p);
    await new Promise((r) => setImmediate(r));
    expect(writes.flat()).toHaveLength(256);
  });

  it("writes what is waiting when the pipeline closes", async () => {
    const { p, writes } = logger();
    const id = request(p);
    await p.close();
    open = undefined;
    expect(writes.flat().map((l) => l.request_id)).toEqual([id]);
  });
});
