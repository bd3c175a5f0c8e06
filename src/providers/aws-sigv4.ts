// AWS Signature Version 4 for outbound requests (Bedrock), computed per request by the official
// @smithy/signature-v4 signer. Credentials come from the standard AWS environment variables.
// The signer is loaded on first use, so gateways without SigV4 providers never load it.
import type { SignatureV4 } from "@smithy/signature-v4";

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface SigV4Options {
  service: string;
  region: string;
  credentials: AwsCredentials;
  /** Send and sign x-amz-content-sha256 (the AWS SDKs' default). */
  contentSha256?: boolean;
}

export interface SignableRequest {
  method: string;
  url: URL;
  /** Every header the request will carry (except host, taken from the URL). */
  headers: Readonly<Record<string, string>>;
  body: string | Uint8Array;
}

export type SigV4Signer = (req: SignableRequest, signingDate?: Date) => Promise<Record<string, string>>;

/** Headers the signer adds; only these are returned to be merged into the outbound request. */
const SIGNING_HEADERS = ["authorization", "x-amz-date", "x-amz-security-token", "x-amz-content-sha256"];

export function createSigV4Signer(opts: SigV4Options): SigV4Signer {
  let signerPromise: Promise<SignatureV4> | undefined;
  const load = async (): Promise<SignatureV4> => {
    const [{ SignatureV4: Signer }, { Sha256 }] = await Promise.all([import("@smithy/signature-v4"), import("@aws-crypto/sha256-js")]);
    return new Signer({ service: opts.service, region: opts.region, credentials: opts.credentials, sha256: Sha256, applyChecksum: opts.contentSha256 ?? true });
  };
  return async (req, signingDate = new Date()) => {
    signerPromise ??= load();
    const signer = await signerPromise;
    const query: Record<string, string | string[]> = {};
    for (const [k, v] of req.url.searchParams) {
      const prev = query[k];
      query[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) headers[k.toLowerCase()] = v;
    // undici sends Host from the URL (with the port when it is not the default one).
    headers.host = req.url.host;
    const signed = await signer.sign(
      {
        method: req.method,
        protocol: req.url.protocol,
        hostname: req.url.hostname,
        port: req.url.port ? Number(req.url.port) : undefined,
        path: req.url.pathname,
        query,
        headers,
        body: req.method === "GET" ? undefined : req.body,
      },
      { signingDate },
    );
    const out: Record<string, string> = {};
    for (const name of SIGNING_HEADERS) {
      const v = signed.headers[name];
      if (v !== undefined) out[name] = v;
    }
    return out;
  };
}

/** AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, when the pair is set. */
export function awsEnvCredentials(env: NodeJS.ProcessEnv): AwsCredentials | undefined {
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) return undefined;
  return env.AWS_SESSION_TOKEN ? { accessKeyId, secretAccessKey, sessionToken: env.AWS_SESSION_TOKEN } : { accessKeyId, secretAccessKey };
}

/** AWS_REGION, then AWS_DEFAULT_REGION. */
export function awsEnvRegion(env: NodeJS.ProcessEnv): string | undefined {
  return env.AWS_REGION || env.AWS_DEFAULT_REGION || undefined;
}
