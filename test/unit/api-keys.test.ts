import { createHash } from "node:crypto";
import { describe, expect, it, vi } from "vitest";
import {
  ApiKeyService,
  checkKeyUsable,
  checkModelAllowed,
  digestsEqual,
  generateApiKey,
  hashApiKey,
  isModelAllowed,
  keyDisplayPrefix,
  looksLikeApiKey,
  newApiKey,
  toPublicKey,
} from "../../src/auth/api-keys.js";
import { GatewayAuthenticator } from "../../src/auth/authenticator.js";
import { ANONYMOUS, MASTER } from "../../src/auth/identity.js";
import { GatewayError } from "../../src/server/errors.js";
import { MemoryKeyStore } from "../../src/store/memory.js";
import type { ApiKeyRecord, KeyStore } from "../../src/store/types.js";

const bearer = (token: string): { authorization: string } => ({ authorization: `Bearer ${token}` });

/** Runs a sync-or-async call and returns what it threw. */
async function failure(fn: () => unknown): Promise<GatewayError> {
  try {
    await fn();
  } catch (e) {
    if (e instanceof GatewayError) return e;
    throw e;
  }
  throw new Error("expected a GatewayError");
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe("key material", () => {
  it("generates sk-ferro- + 32 random bytes in base64url", () => {
    const keys = new Set(Array.from({ length: 1000 }, generateApiKey));
    expect(keys.size).toBe(1000);
    for (const k of [...keys].slice(0, 20)) {
      expect(k).toMatch(/^sk-ferro-[A-Za-z0-9_-]{43}$/);
      expect(Buffer.from(k.slice(9), "base64url")).toHaveLength(32);
      expect(looksLikeApiKey(k)).toBe(true);
    }
    expect(looksLikeApiKey("sk-ferro-short")).toBe(false);
    expect(looksLikeApiKey("fgw_0123456789abcdef0123456789abcdef")).toBe(false);
  });

  it("hashes with SHA-256 (hex) and keeps only a short prefix for display", () => {
    const key = generateApiKey();
    expect(hashApiKey(key)).toBe(createHash("sha256").update(key).digest("hex"));
    expect(hashApiKey(key)).toMatch(/^[0-9a-f]{64}$/);
    expect(keyDisplayPrefix(key)).toBe(key.slice(0, 12));
    expect(keyDisplayPrefix(key)).toHaveLength(12);
  });

  it("builds a record that never contains the key itself", () => {
    const { key, record } = newApiKey({ name: " ci ", allowedModels: ["gpt-4o"], budgetUsd: 5, budgetPeriod: "monthly" }, 1000);
    expect(JSON.stringify(record)).not.toContain(key.slice(9));
    expect(record).toMatchObject({
      name: "ci",
      keyHash: hashApiKey(key),
      keyPrefix: key.slice(0, 12),
      createdAt: 1000,
      updatedAt: 1000,
      expiresAt: null,
      revokedAt: null,
      allowedModels: ["gpt-4o"],
      metadata: {},
      rateLimitRpm: null,
      budgetUsd: 5,
      budgetPeriod: "monthly",
    });
    expect(record.id).toMatch(/^key_[0-9a-f]{24}$/);
    expect(toPublicKey(record)).not.toHaveProperty("keyHash");
    expect(() => newApiKey({ name: "  " })).toThrow(/name/);
  });

  it("compares digests in constant time, refusing length mismatches", () => {
    const h = hashApiKey("a");
    expect(digestsEqual(h, hashApiKey("a"))).toBe(true);
    expect(digestsEqual(h, hashApiKey("b"))).toBe(false);
    expect(digestsEqual(h, h.slice(0, 62))).toBe(false);
    expect(digestsEqual("", "")).toBe(false);
  });
});

describe("validation", () => {
  it("rejects revoked and expired keys with 401 and says why", async () => {
    const revoked = await failure(() => checkKeyUsable({ revokedAt: 1, expiresAt: null }, 10));
    expect(revoked).toMatchObject({ status: 401, code: "invalid_api_key" });
    expect(revoked.message).toMatch(/revoked/);
    const expired = await failure(() => checkKeyUsable({ revokedAt: null, expiresAt: 10 }, 10));
    expect(expired).toMatchObject({ status: 401, code: "invalid_api_key" });
    expect(expired.message).toMatch(/expired at 1970-01-01T00:00:00.010Z/);
    expect(() => checkKeyUsable({ revokedAt: null, expiresAt: 11 }, 10)).not.toThrow();
    expect(() => checkKeyUsable({ revokedAt: null, expiresAt: null }, 10)).not.toThrow();
  });

  it("matches allowed models exactly or by trailing-* prefix; null allows all", () => {
    expect(isModelAllowed(null, "anything")).toBe(true);
    expect(isModelAllowed(["gpt-4o"], "gpt-4o")).toBe(true);
    expect(isModelAllowed(["gpt-4o"], "gpt-4o-mini")).toBe(false);
    expect(isModelAllowed(["gpt-4o*"], "gpt-4o-mini")).toBe(true);
    expect(isModelAllowed(["anthropic/*"], "anthropic/claude-sonnet-4-5")).toBe(true);
    expect(isModelAllowed(["anthropic/*"], "claude-sonnet-4-5")).toBe(false);
    expect(isModelAllowed(["*"], "x")).toBe(true);
    expect(isModelAllowed([], "x")).toBe(false);
  });

  it("answers a model outside allowed_models with 403 model_not_allowed", async () => {
    const err = await failure(() => checkModelAllowed({ allowedModels: ["gpt-4o-mini"] }, "gpt-4o"));
    expect(err).toMatchObject({ status: 403, type: "permission_error", code: "model_not_allowed", param: "model" });
    expect(err.message).toContain("gpt-4o");
    expect(() => checkModelAllowed(MASTER, "gpt-4o")).not.toThrow();
  });
});

/** A MemoryKeyStore with counted (and optionally delayed or failing) lookups. */
function countingStore(): { store: MemoryKeyStore; getByHash: ReturnType<typeof vi.spyOn> } {
  const store = new MemoryKeyStore();
  const getByHash = vi.spyOn(store, "getByHash");
  return { store, getByHash };
}

describe("ApiKeyService", () => {
  it("serves repeated lookups from the cache, synchronously", async () => {
    const { store, getByHash } = countingStore();
    const svc = new ApiKeyService(store);
    const { key, record } = await svc.create({ name: "a" });
    const first = svc.verify(key);
    expect(first).toBeInstanceOf(Promise);
    expect((await first).id).toBe(record.id);
    const second = svc.verify(key);
    expect(second).not.toBeInstanceOf(Promise);
    expect((second as ApiKeyRecord).id).toBe(record.id);
    expect(getByHash).toHaveBeenCalledTimes(1);
    expect(Object.isFrozen(second)).toBe(true);
  });

  it("coalesces concurrent misses into one store lookup", async () => {
    const { store, getByHash } = countingStore();
    const svc = new ApiKeyService(store);
    const { key } = await svc.create({ name: "a" });
    const all = await Promise.all(Array.from({ length: 20 }, () => svc.verify(key)));
    expect(new Set(all.map((r) => r.id)).size).toBe(1);
    expect(getByHash).toHaveBeenCalledTimes(1);
  });

  it("rejects unknown and malformed keys with 401, remembering unknown digests briefly", async () => {
    const { store, getByHash } = countingStore();
    let now = 1_000_000;
    const svc = new ApiKeyService(store, { now: () => now, negativeTtlMs: 5000 });
    expect((await failure(() => svc.verify("garbage"))).message).toBe("Invalid API key.");
    expect(getByHash).not.toHaveBeenCalled();
    const unknown = generateApiKey();
    expect((await failure(() => svc.verify(unknown))).status).toBe(401);
    expect((await failure(() => svc.verify(unknown))).status).toBe(401);
    expect(getByHash).toHaveBeenCalledTimes(1);
    now += 5001;
    await failure(() => svc.verify(unknown));
    expect(getByHash).toHaveBeenCalledTimes(2);
  });

  it("re-reads the store after the TTL (changes by another process show up)", async () => {
    const { store, getByHash } = countingStore();
    let now = 1_000_000;
    const svc = new ApiKeyService(store, { now: () => now, ttlMs: 30_000 });
    const { key, record } = await svc.create({ name: "a" });
    await svc.verify(key);
    await store.revoke(record.id, now); // another process
    now += 10_000;
    expect(svc.verify(key)).not.toBeInstanceOf(Promise); // still cached
    now += 20_001;
    expect((await failure(() => svc.verify(key))).message).toMatch(/revoked/);
    expect(getByHash).toHaveBeenCalledTimes(2);
  });

  it("invalidates at once on revoke, rotate and update through the service", async () => {
    const svc = new ApiKeyService(new MemoryKeyStore());
    const { key, record } = await svc.create({ name: "a", allowedModels: ["m1"] });
    expect((await svc.verify(key)).allowedModels).toEqual(["m1"]);

    await svc.update(record.id, { allowedModels: ["m2"], metadata: { team: "x" } });
    const updated = await svc.verify(key);
    expect(updated.allowedModels).toEqual(["m2"]);
    expect(updated.metadata).toEqual({ team: "x" });

    const rotated = await svc.rotate(record.id);
    expect(rotated?.record.id).toBe(record.id);
    expect(rotated?.key).not.toBe(key);
    expect((await failure(() => svc.verify(key))).status).toBe(401);
    const newKey = rotated?.key ?? "";
    expect((await svc.verify(newKey)).id).toBe(record.id);

    await svc.revoke(record.id);
    expect((await failure(() => svc.verify(newKey))).message).toMatch(/revoked/);
    expect(await svc.rotate("key_missing")).toBeUndefined();
  });

  it("does not cache a lookup that raced with an invalidation", async () => {
    const store = new MemoryKeyStore();
    const svc = new ApiKeyService(store);
    const { key, record } = await svc.create({ name: "a" });
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const real = store.getByHash.bind(store);
    const spy = vi.spyOn(store, "getByHash").mockImplementation(async (h) => {
      const r = await real(h);
      await gate;
      return r;
    });
    const pending = svc.verify(key);
    await store.revoke(record.id);
    svc.invalidate(record.id);
    release();
    await pending; // read before the revocation: valid for this request
    expect((await failure(() => svc.verify(key))).message).toMatch(/revoked/);
    expect(spy).toHaveBeenCalledTimes(2);
  });

  it("answers 503 when the store is down on a miss, and reports the error", async () => {
    const onError = vi.fn();
    const broken: KeyStore = Object.assign(new MemoryKeyStore(), {
      getByHash: () => Promise.reject(new Error("db down")),
    });
    const svc = new ApiKeyService(broken, { onError });
    const err = await failure(() => svc.verify(generateApiKey()));
    expect(err).toMatchObject({ status: 503, code: "auth_unavailable" });
    expect(onError).toHaveBeenCalledWith(expect.objectContaining({ message: "db down" }));
  });

  it("writes last_used_at at most once per interval, off the request path", async () => {
    const store = new MemoryKeyStore();
    const touch = vi.spyOn(store, "touchLastUsed");
    let now = 1_000_000;
    const svc = new ApiKeyService(store, { now: () => now, touchIntervalMs: 60_000, ttlMs: 3_600_000 });
    const { key, record } = await svc.create({ name: "a" });
    await svc.verify(key);
    expect(touch).not.toHaveBeenCalled(); // deferred to setImmediate
    await tick();
    svc.verify(key);
    now += 1000;
    svc.verify(key);
    await tick();
    expect(touch).toHaveBeenCalledTimes(1);
    now += 60_000;
    svc.verify(key);
    await tick();
    expect(touch).toHaveBeenCalledTimes(2);
    expect((await store.get(record.id))?.lastUsedAt).toBe(now);
  });

  it("keeps the cache bounded", async () => {
    const svc = new ApiKeyService(new MemoryKeyStore(), { maxEntries: 2 });
    const keys = await Promise.all([1, 2, 3].map((i) => svc.create({ name: `k${i}` })));
    for (const k of keys) await svc.verify(k.key);
    expect(svc.peek(keys[0]?.key ?? "")).toBeUndefined();
    expect(svc.peek(keys[2]?.key ?? "")).toMatchObject({ name: "k3" });
  });
});

describe("GatewayAuthenticator", () => {
  const MASTER_KEY = "fgw_0123456789abcdef0123456789abcdef";

  it("accepts the master key (Authorization or x-api-key) and rejects others", async () => {
    const auth = await GatewayAuthenticator.create({ masterKey: MASTER_KEY, keys: new ApiKeyService(new MemoryKeyStore()) });
    expect(auth.open).toBe(false);
    expect(auth.authenticate(bearer(MASTER_KEY))).toBe(MASTER);
    expect(auth.authenticate({ "x-api-key": MASTER_KEY })).toBe(MASTER);
    const missing = await failure(() => auth.authenticate({}));
    expect(missing).toMatchObject({ status: 401, code: "invalid_api_key" });
    expect(missing.message).toMatch(/Missing API key/);
    expect((await failure(() => auth.authenticate(bearer("fgw_wrong")))).message).toBe("Invalid API key.");
    expect((await failure(() => auth.authenticate(bearer(generateApiKey())))).status).toBe(401);
  });

  it("accepts API keys and returns their identity; cached calls are synchronous", async () => {
    const keys = new ApiKeyService(new MemoryKeyStore());
    const auth = await GatewayAuthenticator.create({ masterKey: MASTER_KEY, keys });
    const { key, record } = await keys.create({ name: "app", allowedModels: ["gpt-4o-mini"], rateLimitRpm: 5 });
    const id = await auth.authenticate(bearer(key));
    expect(id).toMatchObject({ kind: "api_key", keyId: record.id, isAdmin: false, allowedModels: ["gpt-4o-mini"] });
    if (id.kind !== "api_key") throw new Error("unreachable");
    expect(id.key.rateLimitRpm).toBe(5);
    expect(() => checkModelAllowed(id, "gpt-4o")).toThrow(GatewayError);
    const again = auth.authenticate(bearer(key));
    expect(again).not.toBeInstanceOf(Promise);
  });

  it("without MASTER_KEY and without keys runs open, until a key exists", async () => {
    const keys = new ApiKeyService(new MemoryKeyStore());
    const auth = await GatewayAuthenticator.create({ keys });
    expect(auth.open).toBe(true);
    expect(auth.authenticate({})).toBe(ANONYMOUS);
    expect(auth.authenticate(bearer("unused"))).toBe(ANONYMOUS);
    expect(await auth.authenticate(bearer(generateApiKey()))).toBe(ANONYMOUS);

    const { key, record } = await keys.create({ name: "first" });
    expect(auth.open).toBe(false);
    expect((await failure(() => auth.authenticate({}))).status).toBe(401);
    expect((await auth.authenticate(bearer(key))).keyId).toBe(record.id);

    // Revoking every key does not open the gateway again.
    await keys.revoke(record.id);
    const restarted = await GatewayAuthenticator.create({ keys });
    expect(restarted.open).toBe(false);
  });

  it("leaves open mode when a valid key created elsewhere is presented", async () => {
    const store = new MemoryKeyStore();
    const auth = await GatewayAuthenticator.create({ keys: new ApiKeyService(store) });
    expect(auth.open).toBe(true);
    const { key, record } = newApiKey({ name: "from the CLI" });
    await store.create(record);
    expect((await auth.authenticate(bearer(key))).keyId).toBe(record.id);
    expect(auth.open).toBe(false);
    expect((await failure(() => auth.authenticate({}))).status).toBe(401);
  });

  it("with only a master key, API-key-shaped tokens are rejected", async () => {
    const auth = await GatewayAuthenticator.create({ masterKey: MASTER_KEY });
    expect((await failure(() => auth.authenticate(bearer(generateApiKey())))).status).toBe(401);
  });

  it("admin endpoints take the master key only", async () => {
    const keys = new ApiKeyService(new MemoryKeyStore());
    const auth = await GatewayAuthenticator.create({ masterKey: MASTER_KEY, keys });
    const { key } = await keys.create({ name: "app" });
    expect(await auth.authenticateAdmin(bearer(MASTER_KEY))).toBe(MASTER);
    expect(await failure(() => auth.authenticateAdmin(bearer(key)))).toMatchObject({ status: 403, code: "admin_required" });
    expect((await failure(() => auth.authenticateAdmin({}))).status).toBe(401);
    expect((await failure(() => auth.authenticateAdmin(bearer("nope")))).status).toBe(401);
    const noMaster = await GatewayAuthenticator.create({ keys });
    expect(await failure(() => noMaster.authenticateAdmin(bearer(key)))).toMatchObject({ status: 403, code: "admin_disabled" });
  });
});
