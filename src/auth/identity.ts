// Who is calling, as established by the authenticator. `keyId` is what goes into
// RequestContext.keyId and the request log; plugins (rate limit, budget) read the key record.
import type { ApiKeyRecord } from "../store/types.js";

/** Open gateway (no MASTER_KEY and no API keys): every caller is anonymous. */
export interface AnonymousIdentity {
  readonly kind: "anonymous";
  readonly keyId: undefined;
  readonly isAdmin: false;
  readonly allowedModels: null;
}

/** The MASTER_KEY: admin API and every model. */
export interface MasterIdentity {
  readonly kind: "master";
  readonly keyId: "master";
  readonly isAdmin: true;
  readonly allowedModels: null;
}

/** A gateway API key (sk-ferro-…). */
export interface ApiKeyIdentity {
  readonly kind: "api_key";
  readonly keyId: string;
  readonly isAdmin: false;
  /** null: every model. */
  readonly allowedModels: readonly string[] | null;
  /** The stored record (frozen; shared with the auth cache, never mutate). */
  readonly key: Readonly<ApiKeyRecord>;
}

export type Identity = AnonymousIdentity | MasterIdentity | ApiKeyIdentity;

export const ANONYMOUS: AnonymousIdentity = Object.freeze({ kind: "anonymous", keyId: undefined, isAdmin: false, allowedModels: null });

export const MASTER: MasterIdentity = Object.freeze({ kind: "master", keyId: "master", isAdmin: true, allowedModels: null });

export function keyIdentity(key: Readonly<ApiKeyRecord>): ApiKeyIdentity {
  return { kind: "api_key", keyId: key.id, isAdmin: false, allowedModels: key.allowedModels, key };
}
