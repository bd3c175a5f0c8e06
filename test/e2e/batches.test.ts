// OpenAI's files and batches API through the gateway, driven by the official openai SDK: a
// multipart upload streamed to batch_target with the provider's key (never the client's), the
// file's content downloaded back, batches created, listed and cancelled; 501 without batch_target.
import { describe, expect, it } from "vitest";
import OpenAI, { toFile } from "openai";
import type { TestGateway } from "../helpers/gateway.js";
import { clientWithKey, MASTER, openaiSuite, UPSTREAM_KEY } from "../helpers/openai-suite.js";
import { until } from "../helpers/until.js";

const suite = openaiSuite();
const { mock } = suite;
const start = (config: Record<string, unknown> = { batch_target: "openai" }): Promise<TestGateway> => suite.start(config);

const JSONL = [1, 2, 3].map((i) => JSON.stringify({ custom_id: `req-${i}`, method: "POST", url: "/v1/chat/completions", body: { model: "gpt-4o-mini", messages: [{ role: "user", content: `q${i}` }] } })).join("\n");

describe("files and batches", () => {
  it("uploads a batch file, reads it back, and runs a batch on it at batch_target", async () => {
    const g = await start();
    const file = await g.client.files.create({ file: await toFile(Buffer.from(JSONL), "batch.jsonl"), purpose: "batch" });
    expect(file).toMatchObject({ object: "file", purpose: "batch", filename: "batch.jsonl", bytes: Buffer.byteLength(JSONL) });
    // The provider got the upload with its own key, not the gateway key the client sent.
    const upload = mock.requests[0];
    expect(upload).toMatchObject({ method: "POST", path: "/v1/files" });
    expect(upload?.headers.authorization).toBe(`Bearer ${UPSTREAM_KEY}`);
    expect(String(upload?.headers["content-type"])).toMatch(/^multipart\/form-data; boundary=/);
    expect(upload?.rawBody).toContain(JSONL);

    const content = await g.client.files.content(file.id);
    expect(content.headers.get("content-disposition")).toBe('attachment; filename="batch.jsonl"');
    expect(await content.text()).toBe(JSONL);
    expect((await g.client.files.retrieve(file.id)).id).toBe(file.id);

    const batch = await g.client.batches.create({ input_file_id: file.id, endpoint: "/v1/chat/completions", completion_window: "24h", metadata: { job: "nightly" } });
    expect(batch).toMatchObject({ object: "batch", status: "validating", input_file_id: file.id, metadata: { job: "nightly" } });
    const listed = [];
    for await (const b of g.client.batches.list()) listed.push(b.id);
    expect(listed).toContain(batch.id);
    expect((await g.client.batches.cancel(batch.id)).status).toBe("cancelling");
    expect((await g.client.batches.retrieve(batch.id)).status).toBe("cancelling");
    expect(await g.client.files.delete(file.id)).toMatchObject({ id: file.id, deleted: true });

    // The provider's own error, in OpenAI's shape, for an id it does not know.
    const gone = await g.client.files.retrieve(file.id).catch((e: unknown) => e);
    expect(gone).toBeInstanceOf(OpenAI.NotFoundError);
    expect((gone as InstanceType<typeof OpenAI.NotFoundError>).message).toContain(`No such file: ${file.id}`);
    expect((gone as InstanceType<typeof OpenAI.NotFoundError>).code).toBe("not_found");
    // Nine calls, each logged with the provider that served it; the unknown id as the provider's 404.
    await until("the calls are logged", () => g.finished.filter((c) => c.operation === "batches").length === 9, 5000);
    expect(g.finished.every((c) => c.provider === "openai")).toBe(true);
    expect(g.finished.map((c) => c.status)).toEqual([200, 200, 200, 200, 200, 200, 200, 200, 404]);
  });

  it("answers 501 without batch_target, and 404 for calls the API does not have", async () => {
    const g = await start({});
    try {
      const err = await g.client.batches.list().catch((e: unknown) => e);
      expect(err).toMatchObject({ status: 501, code: "not_implemented" });
    } finally {
      await g.close();
    }
    const g2 = await start();
    for (const path of ["/v1/files/file-1/unknown", "/v1/files/..", "/v1/batches/../cancel"]) {
      const odd = await fetch(`${g2.url}${path}`, { headers: { authorization: `Bearer ${MASTER}` } });
      expect(odd.status).toBe(404);
    }
    expect(mock.requests).toHaveLength(0);
  });

  it("refuses keys held to a model list, a budget or a rate limit, which batches cannot be held to", async () => {
    const g = await start();
    for (const limits of [{ allowed_models: ["gpt-4o-mini"] }, { budget_usd: 5 }, { rate_limit_rpm: 10 }]) {
      const client = await clientWithKey(g, { name: "limited", ...limits });
      const err = await client.files.list().catch((e: unknown) => e);
      expect(err).toMatchObject({ status: 403, code: "batches_not_allowed" });
    }
    const free = await clientWithKey(g, { name: "free" });
    expect((await free.batches.list()).data).toEqual(expect.any(Array));
  });

  it("needs a gateway key like every other route", async () => {
    const g = await start();
    const res = await fetch(`${g.url}/v1/batches`, { headers: { authorization: "Bearer not-a-key" } });
    expect(res.status).toBe(401);
    expect(mock.requests).toHaveLength(0);
  });
});
