// Gateway API keys: `sk-ferro-` + 32 random bytes (base64url), shown once at creation and stored
// only as a SHA-256 digest plus a short display prefix.
//
// Why a fast hash and not bcrypt/scrypt/argon2: those exist to slow down guessing of low-entropy
// passwords. A key carries 256 random bits, so brute-forcing its digest is infeasible at any hash
// speed, and a fast digest keeps the per-request check cheap. Lookups go by digest (Map in the
// cache, unique index in the DB): their timing depends only on the digest of what the caller
// sent, which an attacker cannot steer toward a valid key's digest without knowing the key; the
// final equality check is constant-time anyway.
//
// ApiKeyService puts a small TTL cache (digest → record) in front of the store so the hot path is
// a Map hit. Revocation, rotation and updates made through the same service invalidate the cache
// at once; changes made by another process are seen after at most `ttlMs`.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { GatewayError, unauthorized } from "../server/errors.js";
import type { ApiKeyPatch, ApiKeyRecord, BudgetPeriod, KeyStore, ListKeysOptions } from "../store/types.js";

export const API_KEY_PREFIX = "sk-ferro-";
/** Characters of the key kept for display ("sk-ferro-AbC"): enough to tell keys apart, useless to an attacker. */
export const DISPLAY_PREFIX_LENGTH = 12;
const KEY_BYTES = 32;
/** sk-ferro- + 43 base64url characters. */
const KEY_PATTERN = /^sk-ferro-[A-Za-z0-9_-]{43}$/;

export function generateApiKey(): string {
  return API_KEY_PREFIX + randomBytes(KEY_BYTES).toString("base64url");
}

/** SHA-256, lowercase hex (see the header comment for why a fast hash is right here). */
export function hashApiKey(key: string): string {
  return createHash("sha256").update(key, "utf8").digest("hex");
}

export function keyDisplayPrefix(key: string): string {
  return key.slice(0, DISPLAY_PREFIX_LENGTH);
}

/** Public key id, e.g. key_3f9a…; safe to log. */
export function newKeyId(): string {
  return `key_${randomBytes(12).toString("hex")}`;
}

/** Cheap shape check done before any lookup, so junk never reaches the store. */
export function looksLikeApiKey(token: string): boolean {
  return KEY_PATTERN.test(token);
}

/** Constant-time equality of two hex digests. */
export function digestsEqual(a: string, b: string): boolean {
  const ba = Buffer.from(a, "hex");
  const bb = Buffer.from(b, "hex");
  return ba.length === bb.length && ba.length > 0 && timingSafeEqual(ba, bb);
}

// ---------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------

export const invalidKey = (): GatewayError => unauthorized("Invalid API key.");

/** Throws 401 when the key is revoked or expired. */
export function checkKeyUsable(record: Pick<ApiKeyRecord, "revokedAt" | "expiresAt">, now: number = Date.now()): void {
  if (record.revokedAt !== null) throw unauthorized("This API key has been revoked.");
  if (record.expiresAt !== null && now >= record.expiresAt)
    throw unauthorized(`This API key expired at ${new Date(record.expiresAt).toISOString()}.`);
}

/** Exact ids, or prefixes ending in "*" ("anthropic/*", "gpt-4o*"); null or missing: every model. */
export function isModelAllowed(allowed: readonly string[] | null | undefined, model: string): boolean {
  if (allowed === null || allowed === undefined) return true;
  for (const pattern of allowed) {
    if (pattern === "*" || pattern === model) return true;
    if (pattern.endsWith("*") && model.startsWith(pattern.slice(0, -1))) return true;
  }
  return false;
}

/**
 * Throws 403 `model_not_allowed` unless the key may use the model. Call it with the model as the
 * client asked for it (and, if aliases should not be a way around the list, with the resolved one).
 * Accepts a key record or an Identity.
 */
export function checkModelAllowed(record: { readonly allowedModels: readonly string[] | null }, model: string): void {
  if (!isModelAllowed(record.allowedModels, model))
    throw new GatewayError(403, "permission_error", "model_not_allowed", `This API key is not allowed to use the model '${model}'.`, {
      param: "model",
    });
}

/** The record as the admin API may show it: no digest. */
export function toPublicKey(record: Readonly<ApiKeyRecord>): Omit<ApiKeyRecord, "keyHash"> {
  const { keyHash: _hash, ...rest } = record;
  return structuredClone(rest);
}

// ---------------------------------------------------------------------------------------------
// Creation
// ---------------------------------------------------------------------------------------------

export interface CreateApiKeyInput {
  name: string;
  expiresAt?: number | null;
  allowedModels?: string[] | null;
  metadata?: Record<string, unknown>;
  rateLimitRpm?: number | null;
  budgetUsd?: number | null;
  budgetPeriod?: BudgetPeriod | null;
}

export interface CreatedApiKey {
  /** The full key: return it to the caller once; it is not stored anywhere. */
  key: string;
  record: ApiKeyRecord;
}

/** A new key and the record to store for it (nothing is written). */
export function newApiKey(input: CreateApiKeyInput, now: number = Date.now()): CreatedApiKey {
  const name = input.name.trim();
  if (name === "") throw new Error("an API key needs a name");
  const key = generateApiKey();
  return {
    key,
    record: {
      id: newKeyId(),
      name,
      keyHash: hashApiKey(key),
      keyPrefix: keyDisplayPrefix(key),
      createdAt: now,
      updatedAt: now,
      expiresAt: input.expiresAt ?? null,
      revokedAt: null,
      lastUsedAt: null,
      allowedModels: input.allowedModels ?? null,
      metadata: input.metadata ?? {},
      rateLimitRpm: input.rateLimitRpm ?? null,
      budgetUsd: input.budgetUsd ?? null,
      budgetPeriod: input.budgetPeriod ?? null,
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Service: store + cache
// ---------------------------------------------------------------------------------------------

export interface ApiKeyServiceOptions {
  /** How long a found key is served from memory (default 30 s). */
  ttlMs?: number;
  /** How long an unknown digest is remembered, so a flood of bad keys does not hit the DB (default 5 s). */
  negativeTtlMs?: number;
  /** Cache bound; the oldest entries go first (default 10 000). */
  maxEntries?: number;
  /** Minimum gap between last_used_at writes per key; 0 disables them (default 60 s). */
  touchIntervalMs?: number;
  now?: () => number;
  /** Failures of background writes (last_used_at). */
  onError?: (err: unknown) => void;
}

interface CacheEntry {
  /** null: known not to exist. */
  record: Readonly<ApiKeyRecord> | null;
  expiresAt: number;
}

function freezeRecord(r: ApiKeyRecord): Readonly<ApiKeyRecord> {
  if (r.allowedModels) Object.freeze(r.allowedModels);
  Object.freeze(r.metadata);
  return Object.freeze(r);
}

export class ApiKeyService {
  readonly store: KeyStore;
  private readonly ttlMs: number;
  private readonly negativeTtlMs: number;
  private readonly maxEntries: number;
  private readonly touchIntervalMs: number;
  private readonly now: () => number;
  private readonly onError: (err: unknown) => void;
  private readonly cache = new Map<string, CacheEntry>();
  private readonly inflight = new Map<string, Promise<Readonly<ApiKeyRecord> | undefined>>();
  private readonly lastTouch = new Map<string, number>();
  /** Bumped by every invalidation, so a lookup that started before it cannot cache stale data. */
  private generation = 0;
  private createdListeners: (() => void)[] = [];

  constructor(store: KeyStore, opts: ApiKeyServiceOptions = {}) {
    this.store = store;
    this.ttlMs = opts.ttlMs ?? 30_000;
    this.negativeTtlMs = opts.negativeTtlMs ?? 5_000;
    this.maxEntries = opts.maxEntries ?? 10_000;
    this.touchIntervalMs = opts.touchIntervalMs ?? 60_000;
    this.now = opts.now ?? Date.now;
    this.onError = opts.onError ?? (() => undefined);
  }

  /** Called after a key is created through this service (the authenticator leaves open mode). */
  onCreated(listener: () => void): void {
    this.createdListeners.push(listener);
  }

  // --- admin operations (invalidate the cache) ---

  async create(input: CreateApiKeyInput): Promise<CreatedApiKey> {
    const created = newApiKey(input, this.now());
    await this.store.create(created.record);
    this.cache.delete(created.record.keyHash);
    for (const l of this.createdListeners) l();
    return created;
  }

  /** A new secret for the same key id; the old secret stops working at once. */
  async rotate(id: string): Promise<CreatedApiKey | undefined> {
    const key = generateApiKey();
    const record = await this.store.update(id, { keyHash: hashApiKey(key), keyPrefix: keyDisplayPrefix(key) });
    this.invalidate(id);
    return record && { key, record };
  }

  async revoke(id: string): Promise<ApiKeyRecord | undefined> {
    const record = await this.store.revoke(id, this.now());
    this.invalidate(id);
    return record;
  }

  /** Name, expiry, models, metadata, limits; use rotate() for the secret. */
  async update(id: string, patch: Omit<ApiKeyPatch, "keyHash" | "keyPrefix">): Promise<ApiKeyRecord | undefined> {
    const { keyHash: _h, keyPrefix: _p, ...safe } = patch as ApiKeyPatch;
    const record = await this.store.update(id, safe);
    this.invalidate(id);
    return record;
  }

  get(id: string): Promise<ApiKeyRecord | undefined> {
    return this.store.get(id);
  }

  list(opts?: ListKeysOptions): Promise<ApiKeyRecord[]> {
    return this.store.list(opts);
  }

  /** True when at least one key is neither revoked nor expired. */
  async hasActiveKeys(): Promise<boolean> {
    const now = this.now();
    return (await this.store.list()).some((k) => k.expiresAt === null || k.expiresAt > now);
  }

  /**
   * True once any key was ever created (revoked and expired ones included): the gateway must not
   * fall back to open mode just because every key expired or was revoked.
   */
  async hasAnyKeys(): Promise<boolean> {
    return (await this.store.list({ includeRevoked: true })).length > 0;
  }

  /** Drops every cached entry of the key (all digests it had), and any lookup in flight. */
  invalidate(id: string): void {
    this.generation++;
    for (const [digest, entry] of this.cache) if (entry.record?.id === id) this.cache.delete(digest);
    this.inflight.clear();
  }

  clearCache(): void {
    this.generation++;
    this.cache.clear();
    this.inflight.clear();
  }

  // --- the hot path ---

  /**
   * The key's record if usable; throws 401 (unknown, revoked, expired). Synchronous when the
   * digest is cached (the common case), a Promise only on a cache miss: `await` it either way.
   */
  verify(token: string): Readonly<ApiKeyRecord> | Promise<Readonly<ApiKeyRecord>> {
    if (!looksLikeApiKey(token)) throw invalidKey();
    const digest = hashApiKey(token);
    const now = this.now();
    const entry = this.cache.get(digest);
    if (entry && entry.expiresAt > now) return this.accept(entry.record, digest, now);
    return this.fetch(digest).then((record) => this.accept(record, digest, this.now()));
  }

  /** Cache lookup only: the record, null if known missing, undefined if not cached. */
  peek(token: string): Readonly<ApiKeyRecord> | null | undefined {
    const entry = this.cache.get(hashApiKey(token));
    return entry && entry.expiresAt > this.now() ? entry.record : undefined;
  }

  private accept(record: Readonly<ApiKeyRecord> | null | undefined, digest: string, now: number): Readonly<ApiKeyRecord> {
    if (!record || !digestsEqual(record.keyHash, digest)) throw invalidKey();
    checkKeyUsable(record, now);
    this.touch(record.id, now);
    return record;
  }

  private fetch(digest: string): Promise<Readonly<ApiKeyRecord> | undefined> {
    let p = this.inflight.get(digest);
    if (p) return p;
    const generation = this.generation;
    p = this.store.getByHash(digest).then(
      (found) => {
        const record = found ? freezeRecord(found) : undefined;
        if (this.inflight.get(digest) === p) this.inflight.delete(digest);
        if (generation === this.generation) this.remember(digest, record ?? null);
        return record;
      },
      (err: unknown) => {
        if (this.inflight.get(digest) === p) this.inflight.delete(digest);
        this.onError(err);
        throw new GatewayError(503, "api_error", "auth_unavailable", "The API key store is unavailable; try again shortly.", {
          headers: { "retry-after": "1" },
        });
      },
    );
    this.inflight.set(digest, p);
    return p;
  }

  private remember(digest: string, record: Readonly<ApiKeyRecord> | null): void {
    this.cache.delete(digest);
    while (this.cache.size >= this.maxEntries) {
      const oldest = this.cache.keys().next();
      if (oldest.done === true) break;
      this.cache.delete(oldest.value);
    }
    this.cache.set(digest, { record, expiresAt: this.now() + (record ? this.ttlMs : this.negativeTtlMs) });
  }

  /** last_used_at, at most once per touchIntervalMs per key, after the response path (setImmediate). */
  private touch(id: string, now: number): void {
    if (this.touchIntervalMs <= 0 || !this.store.touchLastUsed) return;
    const last = this.lastTouch.get(id);
    if (last !== undefined && now - last < this.touchIntervalMs) return;
    if (this.lastTouch.size >= this.maxEntries) this.lastTouch.clear();
    this.lastTouch.set(id, now);
    setImmediate(() => {
      this.store.touchLastUsed?.(id, now).catch(this.onError);
    });
  }
}
