// The /dashboard UI in a real browser (Debian's Chromium driven by playwright-core): sign-in with
// the master key, usage and requests read from the admin API, creating and revoking a key, and
// that data reaches the page as text only. Without Chromium the suite is skipped with the reason
// printed, except in CI, where .ci/run installs it and names it, and its absence is a failure.
import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromium, type Browser, type Page } from "playwright-core";
import { MockUpstream } from "../mock-upstream/server.js";
import { startGateway, type TestGateway } from "../helpers/gateway.js";

const CHROMIUM = process.env.FERROGW_TEST_CHROMIUM ?? "/usr/bin/chromium";
const MASTER = "fgw_0123456789abcdef0123456789abcdef";
const available = existsSync(CHROMIUM);
// Named explicitly (.ci/run does, after installing it) or in CI: a missing browser is a failure.
if (!available && (process.env.FERROGW_TEST_CHROMIUM || process.env.CI)) throw new Error(`Chromium not found at ${CHROMIUM} (Debian's chromium package)`);
if (!available) console.warn(`skipping the dashboard browser tests: no Chromium at ${CHROMIUM} (apt-get install chromium, or set FERROGW_TEST_CHROMIUM)`);

describe.skipIf(!available)("dashboard", { timeout: 60_000 }, () => {
  let mock: MockUpstream;
  let gw: TestGateway;
  let browser: Browser;
  let page: Page;
  /** What the page did that it should not: script errors, policy refusals, unexpected dialogs. */
  const problems: string[] = [];

  beforeAll(async () => {
    mock = new MockUpstream();
    const base = await mock.start();
    // The provider key is written in the config itself: the config view must mask it.
    gw = await startGateway({ providers: { openai: { api_key: "sk-literal-upstream-secret-123456" } } }, { OPENAI_BASE_URL: `${base}/v1` }, { masterKey: MASTER });
    await gw.client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hello" }] });
    await gw.client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "again" }] });
    // A model name that is markup: the page must show it as text.
    await gw.client.chat.completions.create({ model: "<b id=injected>bold</b>", messages: [{ role: "user", content: "x" }] }).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 20));
    await gw.app.logWriter.flush();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
    page = await browser.newPage();
    page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
    page.on("console", (msg) => {
      if (msg.type() === "error" && !msg.text().includes("401")) problems.push(`console: ${msg.text()}`);
    });
    // Only the revoke confirmation is expected.
    page.on("dialog", (d) => {
      if (d.type() === "confirm" && d.message().startsWith("Revoke dashboard-made?")) void d.accept();
      else {
        problems.push(`dialog: ${d.message()}`);
        void d.dismiss();
      }
    });
  });

  afterAll(async () => {
    await browser?.close();
    await gw?.close();
    await mock?.close();
    expect(problems).toEqual([]);
  });

  it("is served with a policy that allows only its own scripts", async () => {
    const res = await fetch(`${gw.url}/dashboard`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(res.headers.get("content-security-policy")).toContain("script-src 'self'");
    expect(res.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    expect((await fetch(`${gw.url}/dashboard/app.js`)).headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    const missing = await fetch(`${gw.url}/dashboard/secrets.txt`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { code: "route_not_found" } });
  });

  it("refuses a wrong key, then shows usage for the master key", async () => {
    await page.goto(`${gw.url}/dashboard`);
    await page.fill("#login-key", "fgw_not_the_master_key_000000000000");
    await page.click("#login-form button");
    // The admin API's own refusal is what the page shows.
    const refusal = (await (await fetch(`${gw.url}/admin/providers`, { headers: { authorization: "Bearer fgw_not_the_master_key_000000000000" } })).json()) as { error: { message: string } };
    await expect.poll(() => page.textContent("#login-error")).toBe(refusal.error.message);
    expect(await page.isVisible("#tabs")).toBe(false);

    await page.fill("#login-key", MASTER);
    await page.click("#login-form button");
    await page.waitForSelector("#totals .card");
    const cards = await page.$$eval("#totals .card", (els) => els.map((e) => e.textContent));
    expect(cards[0]).toBe("requests3");
    expect(cards[1]).toBe("errors1");
    const models = await page.$$eval("#by-model tbody tr", (rows) => rows.map((r) => r.children[0]?.textContent));
    expect(models).toContain("gpt-4o-mini");
    // The key is kept for this tab only.
    expect(await page.evaluate('[sessionStorage.getItem("ferrogw.adminKey"), localStorage.length]')).toEqual([MASTER, 0]);
  });

  it("lists requests, with every field of a row on click, and shows markup as text", async () => {
    await page.click("#tabs button[data-view=requests]");
    await page.waitForSelector("#requests tbody tr.row");
    const rows = await page.$$eval("#requests tbody tr.row", (trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent)));
    expect(rows).toHaveLength(3);
    expect(rows.filter((r) => r[1] === "200" && r[2] === "gpt-4o-mini")).toHaveLength(2);
    expect(rows.some((r) => r[2] === "<b id=injected>bold</b>")).toBe(true);
    expect(await page.$("#injected")).toBeNull();
    await page.click("#requests tbody tr.row >> nth=0");
    const detail = await page.textContent("#requests tr.detail");
    expect(JSON.parse(detail ?? "{}")).toMatchObject({ latencyMs: expect.any(Number), tokensIn: expect.any(Number) });
  });

  it("creates a key, shows it once, and revokes it", async () => {
    await page.click("#tabs button[data-view=keys]");
    await page.fill("#key-name", "dashboard-made");
    await page.fill("#key-budget", "5");
    await page.click("#key-form button");
    await page.waitForSelector("#new-key:not([hidden])");
    const key = /(sk-ferro-[A-Za-z0-9_-]+)/.exec((await page.textContent("#new-key")) ?? "")?.[1];
    expect(key).toBeDefined();
    // The key works against the gateway.
    const ok = await fetch(`${gw.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } });
    expect(ok.status).toBe(200);
    const row = page.locator("#keys tbody tr", { hasText: "dashboard-made" });
    await expect.poll(() => row.locator("td").nth(7).textContent()).toBe("active");
    expect(await row.locator("td").nth(5).textContent()).toBe("$5.00 total");
    await row.locator("button", { hasText: "Revoke" }).click();
    await expect.poll(() => row.locator("td").nth(7).textContent()).toBe("revoked");
    const refused = await fetch(`${gw.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } });
    expect(refused.status).toBe(401);
    // Shown once: gone from the page when the view changes.
    await page.click("#tabs button[data-view=overview]");
    await page.click("#tabs button[data-view=keys]");
    expect(await page.isVisible("#new-key")).toBe(false);
    expect(await page.content()).not.toContain(key as string);
  });

  it("shows providers and the running config with secrets masked", async () => {
    await page.click("#tabs button[data-view=providers]");
    await page.waitForSelector("#providers tbody tr");
    expect(await page.$$eval("#providers tbody tr", (rows) => rows.map((r) => r.children[0]?.textContent))).toContain("openai");
    await page.click("#tabs button[data-view=config]");
    await expect.poll(() => page.textContent("#config-version")).toBe("1");
    const config = JSON.parse((await page.textContent("#config")) ?? "{}") as { providers: { openai: { api_key: string } } };
    expect(config.providers.openai.api_key).toBe("[REDACTED]");
    expect(await page.content()).not.toContain("sk-literal-upstream-secret-123456");
  });

  it("signs out: the key and everything read with it leave the page", async () => {
    await page.click("#logout");
    expect(await page.isVisible("#login")).toBe(true);
    expect(await page.evaluate('sessionStorage.getItem("ferrogw.adminKey")')).toBeNull();
    expect(await page.$$("#keys tr, #requests tr, #by-model tr")).toHaveLength(0);
    expect(await page.textContent("#config")).toBe("");
    // A reload does not sign back in.
    await page.reload();
    expect(await page.isVisible("#login")).toBe(true);
    expect(await page.isVisible("#tabs")).toBe(false);
  });
});
