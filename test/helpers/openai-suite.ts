// The setup the suites of OpenAI-only surfaces (the Responses API, files and batches) share: one
// OpenAI-wire mock for the file, and per test a gateway in front of it, reached with the master
// key, closed after the test whatever its outcome.
import { afterAll, afterEach, beforeAll } from "vitest";
import OpenAI from "openai";
import { MockUpstream, type MockOptions } from "../mock-upstream/server.js";
import { startGateway, type TestGateway } from "./gateway.js";

export const UPSTREAM_KEY = "sk-test-upstream-key-123456";
export const MASTER = "fgw_0123456789abcdef0123456789abcdef";

export interface OpenAISuite {
  readonly mock: MockUpstream;
  /** The mock's URL (no /v1), once the suite has started. */
  base: string;
  /** A gateway with one target, openai, pointed at the mock; `config` and `env` are added. */
  start(config?: Record<string, unknown>, env?: NodeJS.ProcessEnv): Promise<TestGateway>;
}

export function openaiSuite(options: Partial<MockOptions> = {}): OpenAISuite {
  const mock = new MockUpstream(options);
  const open: TestGateway[] = [];
  const suite: OpenAISuite = {
    mock,
    base: "",
    async start(config = {}, env = {}) {
      const gw = await startGateway({ targets: [{ virtual_key: "openai" }], ...config }, { OPENAI_API_KEY: UPSTREAM_KEY, OPENAI_BASE_URL: `${suite.base}/v1`, ...env }, { masterKey: MASTER });
      open.push(gw);
      return gw;
    },
  };
  beforeAll(async () => {
    suite.base = await mock.start();
  });
  afterEach(async () => {
    // A test may have closed its gateway itself.
    for (const gw of open.splice(0)) await gw.close().catch(() => undefined);
    mock.requests.length = 0;
  });
  afterAll(() => mock.close());
  return suite;
}

/** A new API key made through the admin API from `body` (name, limits), and an SDK client that uses it. */
export async function clientWithKey(gw: TestGateway, body: Record<string, unknown>): Promise<OpenAI> {
  const res = await fetch(`${gw.url}/admin/keys`, { method: "POST", headers: { authorization: `Bearer ${MASTER}`, "content-type": "application/json" }, body: JSON.stringify(body) });
  const made = (await res.json()) as { key: string };
  return new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: made.key, maxRetries: 0 });
}
