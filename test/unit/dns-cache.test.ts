// Upstream host lookups: one lookup for a burst of connections, answers kept for a while and
// then asked again, failures not kept, and a real connection by host name through it.
import { createServer } from "node:http";
import type { LookupAddress, LookupAllOptions } from "node:dns";
import { describe, expect, it } from "vitest";
import { createCachedLookup, LOOKUP_TTL_MS, type ResolveAll } from "../../src/upstream/dns-cache.js";
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

function lookupAll(lookup: ReturnType<typeof createCachedLookup>, host: string): Promise<LookupAddress[]> {
  return new Promise((resolve, reject) => lookup(host, { all: true }, (err, addresses) => (err ? reject(err) : resolve(addresses as LookupAddress[]))));
}
function lookupOne(lookup: ReturnType<typeof createCachedLookup>, host: string): Promise<string> {
  return new Promise((resolve, reject) => lookup(host, {}, (err, address) => (err ? reject(err) : resolve(address as string))));
}

describe("upstream host lookups", () => {
  it("a burst of connections to one host makes one lookup, and every one gets its answer", async () => {
    const r = fakeResolver();
    const lookup = createCachedLookup(r.resolve);
    const all = Array.from({ length: 50 }, () => lookupAll(lookup, "api.example.com"));
    const one = lookupOne(lookup, "api.example.com");
    r.settle(null, V4);
    expect(r.asked).toHaveLength(1);
    expect(r.asked[0]).toMatchObject({ hostname: "api.example.com", options: { all: true } });
    for (const a of await Promise.all(all)) expect(a).toEqual(V4);
    expect(await one).toBe("10.0.0.1");
  });

  it("keeps an answer for the TTL, then asks again", async () => {
    const r = fakeResolver();
    let clock = 1_000;
    const lookup = createCachedLookup(r.resolve, () => clock);
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

  it("takes turns over a host's addresses for callers that want one", async () => {
    const r = fakeResolver();
    const lookup = createCachedLookup(r.resolve);
    const first = lookupOne(lookup, "api.example.com");
    r.settle(null, V4);
    expect([await first, await lookupOne(lookup, "api.example.com"), await lookupOne(lookup, "api.example.com")]).toEqual(["10.0.0.1", "10.0.0.2", "10.0.0.1"]);
  });

  it("does not keep a failure: every waiting caller gets it, and the next connection asks again", async () => {
    const r = fakeResolver();
    const lookup = createCachedLookup(r.resolve);
    const waiting = [lookupAll(lookup, "down.example.com"), lookupOne(lookup, "down.example.com")];
    r.settle(Object.assign(new Error("getaddrinfo EAI_AGAIN down.example.com"), { code: "EAI_AGAIN" }));
    for (const w of waiting) await expect(w).rejects.toMatchObject({ code: "EAI_AGAIN" });
    const again = lookupAll(lookup, "down.example.com");
    expect(r.asked).toHaveLength(2);
    r.settle(null, V4);
    expect(await again).toEqual(V4);
  });

  it("looks up each address family and host on its own", async () => {
    const r = fakeResolver();
    const lookup = createCachedLookup(r.resolve);
    void lookupAll(lookup, "a.example.com");
    void lookupAll(lookup, "b.example.com");
    lookup("a.example.com", { all: true, family: 6 }, () => undefined);
    expect(r.asked.map((a) => [a.hostname, a.options.family])).toEqual([
      ["a.example.com", 0],
      ["b.example.com", 0],
      ["a.example.com", 6],
    ]);
    r.settle(null, V4);
  });

  it("keeps at most 1024 hosts, letting the oldest go first", async () => {
    const r = fakeResolver();
    const lookup = createCachedLookup(r.resolve);
    for (let i = 0; i <= 1024; i++) {
      const p = lookupAll(lookup, `h${i}.example.com`);
      r.settle(null, V4);
      await p;
    }
    expect(r.asked).toHaveLength(1025);
    void lookupAll(lookup, "h1024.example.com");
    expect(r.asked).toHaveLength(1025);
    void lookupAll(lookup, "h0.example.com");
    expect(r.asked).toHaveLength(1026);
    r.settle(null, V4);
  });

  it("connects an upstream named by host name through it", async () => {
    const server = createServer((_req, res) => res.writeHead(200, { "content-type": "application/json" }).end('{"ok":true}'));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const { port } = server.address() as { port: number };
    const pool = new UpstreamPool(`http://localhost:${port}`);
    try {
      const call = { path: "/", method: "GET", headers: {}, body: undefined, cancel: new Cancellation(), headersTimeout: 5000, bodyTimeout: 5000 };
      const replies = await Promise.all([1, 2, 3].map(() => pool.requestBuffered(call)));
      for (const r of replies) expect(r.body.buffer().toString()).toBe('{"ok":true}');
    } finally {
      await pool.destroy();
      await new Promise((r) => server.close(r));
    }
  });
});
