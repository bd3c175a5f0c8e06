// Upstream host lookups: one lookup for a burst of connections, answers kept for a while and
// then asked again, failures not kept, a host forgotten when a connection to it cannot open, and
// real connections by host name through it.
import { createServer as createHttpServer } from "node:http";
import { createServer as createNetServer } from "node:net";
import type { LookupAddress, LookupAllOptions } from "node:dns";
import type { LookupFunction } from "node:net";
import { describe, expect, it } from "vitest";
import { HostLookups, LOOKUP_TTL_MS, upstreamLookups, type ResolveAll } from "../../src/upstream/dns-cache.js";
import { UpstreamPool } from "../../src/upstream/pool.js";
import { Cancellation } from "../../src/server/cancellation.js";

const V4: LookupAddress[] = [
  { address: "10.0.0.1", family: 4 },
  { address: "10.0.0.2", family: 4 },
];

/** A resolver that answers when told to, counting what it was asked. */
function fakeResolver() {
  const asked: Array<{ hostname: string; options: LookupAllOptions }> = [];
  const pending: Array<(err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void> = [];
  const resolve: ResolveAll = (hostname, options, callback) => {
    asked.push({ hostname, options });
    pending.push(callback);
  };
  const settle = (err: NodeJS.ErrnoException | null, addresses: LookupAddress[] = []): void => {
    for (const cb of pending.splice(0)) cb(err, addresses);
  };
  return { resolve, asked, settle };
}

function lookupAll(lookup: LookupFunction, host: string, options: { family?: number | "IPv4" | "IPv6"; hints?: number } = {}): Promise<LookupAddress[]> {
  return new Promise((resolve, reject) => lookup(host, { ...options, all: true }, (err, addresses) => (err ? reject(err) : resolve(addresses as LookupAddress[]))));
}
function lookupOne(lookup: LookupFunction, host: string): Promise<string> {
  return new Promise((resolve, reject) => lookup(host, {}, (err, address) => (err ? reject(err) : resolve(address as string))));
}

describe("upstream host lookups", () => {
  it("a burst of connections to one host makes one lookup, and every one gets its answer", async () => {
    const r = fakeResolver();
    const { lookup } = new HostLookups(r.resolve);
    const all = Array.from({ length: 50 }, () => lookupAll(lookup, "api.example.com"));
    const one = lookupOne(lookup, "api.example.com");
    r.settle(null, V4);
    expect(r.asked).toHaveLength(1);
    expect(r.asked[0]).toMatchObject({ hostname: "api.example.com", options: { all: true } });
    for (const a of await Promise.all(all)) expect(a).toEqual(V4);
    // One address for a caller that wants one: the first, as dns.lookup gives it.
    expect(await one).toBe("10.0.0.1");
    expect(await lookupOne(lookup, "api.example.com")).toBe("10.0.0.1");
  });

  it("keeps an answer for the TTL, then asks again", async () => {
    const r = fakeResolver();
    let clock = 1_000;
    const { lookup } = new HostLookups(r.resolve, () => clock);
    const first = lookupAll(lookup, "api.example.com");
    r.settle(null, V4);
    await first;
    clock += LOOKUP_TTL_MS - 1;
    expect(await lookupAll(lookup, "api.example.com")).toEqual(V4);
    expect(r.asked).toHaveLength(1);
    clock += 2;
    const later = lookupAll(lookup, "api.example.com");
    expect(r.asked).toHaveLength(2);
    r.settle(null, [{ address: "10.0.0.9", family: 4 }]);
    expect(await later).toEqual([{ address: "10.0.0.9", family: 4 }]);
  });

  it("does not keep a failure: every waiting caller gets it, and the next connection asks again", async () => {
    const r = fakeResolver();
    const { lookup } = new HostLookups(r.resolve);
    const waiting = [lookupAll(lookup, "down.example.com"), lookupOne(lookup, "down.example.com")];
    r.settle(Object.assign(new Error("getaddrinfo EAI_AGAIN down.example.com"), { code: "EAI_AGAIN" }));
    for (const w of waiting) await expect(w).rejects.toMatchObject({ code: "EAI_AGAIN" });
    const again = lookupAll(lookup, "down.example.com");
    expect(r.asked).toHaveLength(2);
    r.settle(null, V4);
    expect(await again).toEqual(V4);
  });

  it("an empty answer is a not-found error, as from getaddrinfo", async () => {
    const r = fakeResolver();
    const { lookup } = new HostLookups(r.resolve);
    const p = lookupAll(lookup, "empty.example.com");
    r.settle(null, []);
    await expect(p).rejects.toMatchObject({ code: "ENOTFOUND", syscall: "getaddrinfo", hostname: "empty.example.com" });
  });

  it("a resolver that throws does not leave later lookups of the host waiting", async () => {
    const r = fakeResolver();
    let throwNext = true;
    const { lookup } = new HostLookups((hostname, options, callback) => {
      if (throwNext) {
        throwNext = false;
        throw new TypeError("bad hints");
      }
      r.resolve(hostname, options, callback);
    });
    expect(() => lookup("api.example.com", { all: true }, () => undefined)).toThrow("bad hints");
    const next = lookupAll(lookup, "api.example.com");
    r.settle(null, V4);
    expect(await next).toEqual(V4);
  });

  it("looks up each host, address family and hints on its own ('IPv4' is family 4)", async () => {
    const r = fakeResolver();
    const { lookup } = new HostLookups(r.resolve);
    const all = [lookupAll(lookup, "a.example.com"), lookupAll(lookup, "b.example.com"), lookupAll(lookup, "a.example.com", { family: 4 }), lookupAll(lookup, "a.example.com", { family: "IPv4" }), lookupAll(lookup, "a.example.com", { hints: 1024 })];
    expect(r.asked.map((a) => [a.hostname, a.options.family, a.options.hints])).toEqual([
      ["a.example.com", 0, undefined],
      ["b.example.com", 0, undefined],
      ["a.example.com", 4, undefined],
      ["a.example.com", 0, 1024],
    ]);
    r.settle(null, V4);
    await Promise.all(all);
  });

  it("forgets a host on request: the next connection asks again", async () => {
    const r = fakeResolver();
    const hosts = new HostLookups(r.resolve);
    const first = lookupAll(hosts.lookup, "api.example.com");
    r.settle(null, V4);
    await first;
    expect(hosts.has("api.example.com")).toBe(true);
    hosts.forget("api.example.com");
    expect(hosts.has("api.example.com")).toBe(false);
    void lookupAll(hosts.lookup, "api.example.com");
    expect(r.asked).toHaveLength(2);
    r.settle(null, V4);
  });

  it("keeps at most 1024 hosts: expired ones go first, then the oldest", async () => {
    const r = fakeResolver();
    let clock = 0;
    const hosts = new HostLookups(r.resolve, () => clock);
    const add = async (host: string): Promise<void> => {
      const p = lookupAll(hosts.lookup, host);
      r.settle(null, V4);
      await p;
    };
    await add("early.example.com");
    clock += LOOKUP_TTL_MS + 1; // early has expired
    for (let i = 0; i < 1023; i++) await add(`h${i}.example.com`);
    await add("last.example.com"); // full: early (expired) makes room, every live host stays
    expect(hosts.has("h0.example.com")).toBe(true);
    await add("one-more.example.com"); // full of live hosts: the oldest, h0, goes
    expect(hosts.has("h0.example.com")).toBe(false);
    expect(hosts.has("h1.example.com")).toBe(true);
    expect(hosts.has("one-more.example.com")).toBe(true);
  });

  it("connects an upstream named by host name through it, and forgets the host when a connection cannot open", async () => {
    const server = createHttpServer((_req, res) => res.writeHead(200, { "content-type": "application/json" }).end('{"ok":true}'));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const { port } = server.address() as { port: number };
    // A port nothing listens on: take one, then free it.
    const probe = createNetServer();
    await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
    const closedPort = (probe.address() as { port: number }).port;
    await new Promise((r) => probe.close(r));
    const pool = new UpstreamPool(`http://localhost:${port}`);
    const refused = new UpstreamPool(`http://localhost:${closedPort}`);
    const call = { path: "/", method: "GET", headers: {}, body: undefined, cancel: new Cancellation(), headersTimeout: 5000, bodyTimeout: 5000 };
    try {
      const replies = await Promise.all([1, 2, 3].map(() => pool.requestBuffered(call)));
      for (const r of replies) expect(r.body.buffer().toString()).toBe('{"ok":true}');
      expect(upstreamLookups.has("localhost")).toBe(true);
      await expect(refused.requestBuffered(call)).rejects.toMatchObject({ code: expect.stringMatching(/ECONNREFUSED/) });
      expect(upstreamLookups.has("localhost")).toBe(false);
    } finally {
      await pool.destroy();
      await refused.destroy();
      await new Promise((r) => server.close(r));
    }
  });
});
