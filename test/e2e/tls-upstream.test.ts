// `ferrogw` as a process talking to an HTTPS upstream, the way every hosted provider is reached:
// certificate checked against a CA the operator adds with NODE_EXTRA_CA_CERTS, SNI sent, the
// provider's key in the request, and both a whole answer and a stream come back through the
// official SDK. Test certificate: test/helpers/tls (self-signed for localhost / 127.0.0.1).
import { describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { createServer } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TLSSocket } from "node:tls";
import OpenAI from "openai";
import { openaiFormat } from "../mock-upstream/openai.js";
import type { MockReply } from "../mock-upstream/format.js";
import { drain } from "../helpers/sdk.js";
import { until } from "../helpers/until.js";

const BIN = new URL("../../dist/cli/main.js", import.meta.url).pathname;
const CERT = new URL("../helpers/tls/cert.pem", import.meta.url).pathname;
const KEY = new URL("../helpers/tls/key.pem", import.meta.url).pathname;

describe("an HTTPS upstream", () => {
  it("is reached over TLS with the certificate checked and SNI sent, for whole answers and streams", { timeout: 60_000 }, async () => {
    const reply: MockReply = { model: "gpt-4o-mini", text: "Hello over TLS, in several pieces.", usage: { input: 9, output: 8 }, stop: "end" };
    const seen: Array<{ servername: string | false | null; host: string | undefined; auth: string | undefined; stream: boolean }> = [];
    const upstream = createServer({ cert: readFileSync(CERT), key: readFileSync(KEY) }, (req, res) => {
      const parts: Buffer[] = [];
      req.on("data", (c: Buffer) => parts.push(c));
      req.on("end", () => {
        const body = JSON.parse(Buffer.concat(parts).toString()) as { stream?: boolean };
        seen.push({ servername: (req.socket as TLSSocket).servername, host: req.headers.host, auth: req.headers.authorization, stream: body.stream === true });
        if (!body.stream) {
          res.writeHead(200, { "content-type": "application/json" });
          res.end(openaiFormat.chatBody(reply));
          return;
        }
        res.writeHead(200, { "content-type": "text/event-stream" });
        const frames = openaiFormat.chatStream(reply, 5);
        let i = 0;
        const next = (): void => {
          if (i === frames.length) {
            res.end();
            return;
          }
          res.write(frames[i++]);
          setTimeout(next, 5);
        };
        next();
      });
    });
    await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", r));
    const upstreamPort = (upstream.address() as { port: number }).port;

    const port = 18000 + Math.floor(Math.random() * 2000);
    const child = spawn(process.execPath, [BIN, "serve", "--workers", "1"], {
      cwd: mkdtempSync(join(tmpdir(), "fgw-tls-")),
      env: {
        PATH: process.env.PATH,
        PORT: String(port),
        HOST: "127.0.0.1",
        OPENAI_API_KEY: "sk-test-tls-0000000000",
        OPENAI_BASE_URL: `https://localhost:${upstreamPort}/v1`,
        NODE_EXTRA_CA_CERTS: CERT,
        LOG_LEVEL: "warn",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    try {
      const url = `http://127.0.0.1:${port}`;
      await until("the gateway to listen", async () => (await fetch(`${url}/health`)).ok, 30_000);
      const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: "unused", maxRetries: 0 });

      const whole = await client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] });
      expect(whole.choices[0]?.message.content).toBe(reply.text);
      expect(whole.usage?.total_tokens).toBe(17);

      const streamed = await drain(await client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }], stream: true }));
      expect(streamed.text).toBe(reply.text);
      expect(streamed.finish).toBe("stop");

      expect(seen).toEqual([
        { servername: "localhost", host: `localhost:${upstreamPort}`, auth: "Bearer sk-test-tls-0000000000", stream: false },
        { servername: "localhost", host: `localhost:${upstreamPort}`, auth: "Bearer sk-test-tls-0000000000", stream: true },
      ]);
    } finally {
      child.kill("SIGTERM");
      await exited;
      await new Promise((r) => upstream.close(r));
    }
  });
});
