// Data-plane and admin authentication: MASTER_KEY (admin + every model) and gateway API keys
// (sk-ferro-…, through ApiKeyService and its cache). Same `authenticate(headers)` shape as
// master-key.ts, returning an Identity instead of a bare key id.
//
// Open mode: with no MASTER_KEY and no API key ever created the gateway accepts anonymous requests
// (and says so at start-up). It leaves open mode as soon as a key is created through this process
// or a valid key is presented, and never goes back (revoking or expiring every key does not open
// the gateway again).
import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { bearerToken } from "./bearer.js";
import { ANONYMOUS, keyIdentity, MASTER, type Identity, type MasterIdentity } from "./identity.js";
import { invalidKey, looksLikeApiKey, type ApiKeyService } from "./api-keys.js";
import { GatewayError, unauthorized } from "../server/errors.js";

const sha256 = (s: string): Buffer => createHash("sha256").update(s, "utf8").digest();

export interface GatewayAuthenticatorOptions {
  masterKey?: string | undefined;
  /** Without it only MASTER_KEY is accepted. */
  keys?: ApiKeyService | undefined;
}

export const missingKey = (): GatewayError => unauthorized("Missing API key: send it as 'Authorization: Bearer <key>'.");

export class GatewayAuthenticator {
  readonly keys: ApiKeyService | undefined;
  private readonly masterDigest: Buffer | undefined;
  private isOpen: boolean;

  /** Prefer `create`, which works out open mode from the store. */
  constructor(opts: GatewayAuthenticatorOptions, open: boolean) {
    this.keys = opts.keys;
    this.masterDigest = opts.masterKey ? sha256(opts.masterKey) : undefined;
    this.isOpen = open && this.masterDigest === undefined;
    this.keys?.onCreated(() => {
      this.isOpen = false;
    });
  }

  static async create(opts: GatewayAuthenticatorOptions): Promise<GatewayAuthenticator> {
    const open = !opts.masterKey && !(opts.keys && (await opts.keys.hasAnyKeys()));
    return new GatewayAuthenticator(opts, open);
  }

  /** True while the gateway accepts requests without a key. */
  get open(): boolean {
    return this.isOpen;
  }

  get hasMasterKey(): boolean {
    return this.masterDigest !== undefined;
  }

  /**
   * The caller's identity, or throws a 401 GatewayError (503 if the key store is down on a cache
   * miss). Synchronous for the master key and cached API keys; a Promise only on a cache miss —
   * always `await` it.
   */
  authenticate(headers: IncomingHttpHeaders): Identity | Promise<Identity> {
    const token = bearerToken(headers);
    if (!token) {
      if (this.isOpen) return ANONYMOUS;
      throw missingKey();
    }
    if (this.isMaster(token)) return MASTER;
    if (!this.keys || !looksLikeApiKey(token)) {
      if (this.isOpen) return ANONYMOUS;
      throw invalidKey();
    }
    let verified;
    try {
      verified = this.keys.verify(token);
    } catch (err) {
      if (this.isOpen) return ANONYMOUS;
      throw err;
    }
    if (!(verified instanceof Promise)) {
      this.isOpen = false;
      return keyIdentity(verified);
    }
    return verified.then(
      (record) => {
        this.isOpen = false;
        return keyIdentity(record);
      },
      (err: unknown) => {
        if (this.isOpen && err instanceof GatewayError && err.status === 401) return ANONYMOUS;
        throw err;
      },
    );
  }

  /**
   * For the admin API: only the master key. Missing/invalid → 401; a valid API key → 403; no
   * MASTER_KEY configured → 403 (the admin API is disabled).
   */
  async authenticateAdmin(headers: IncomingHttpHeaders): Promise<MasterIdentity> {
    if (!this.masterDigest) throw new GatewayError(403, "permission_error", "admin_disabled", "The admin API needs MASTER_KEY to be set.");
    const token = bearerToken(headers);
    if (!token) throw missingKey();
    if (this.isMaster(token)) return MASTER;
    if (this.keys && looksLikeApiKey(token)) {
      await this.keys.verify(token); // 401 if the key is not valid at all
      throw new GatewayError(403, "permission_error", "admin_required", "This endpoint needs the master key.");
    }
    throw invalidKey();
  }

  private isMaster(token: string): boolean {
    // Digests have a fixed length, so the comparison is constant-time whatever was presented.
    return this.masterDigest !== undefined && timingSafeEqual(sha256(token), this.masterDigest);
  }
}
