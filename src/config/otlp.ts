// Where OTLP traces go, read as the reference gateway reads observability.tracing.endpoint: a URL
// or a bare host:port (plaintext), a BASE endpoint to which http/protobuf appends v1/traces
// unless the value already ends with it. grpc takes the origin as given.

export type OtlpProtocol = "grpc" | "http/protobuf";

/** The exporter URL for `endpoint`; throws with a readable message when it cannot be understood. */
export function otlpTracesUrl(endpoint: string, protocol: OtlpProtocol): string {
  const raw = endpoint.trim();
  // Error messages quote the value without a user part (user:password@).
  const shown = raw.replace(/\/\/[^/@\s]*@/, "//");
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new Error(`"${shown}" is not a URL or host:port`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error(`"${shown}": the scheme must be http or https`);
  if (url.hostname === "") throw new Error(`"${shown}" names no host`);
  if (protocol === "grpc") return url.origin;
  const path = url.pathname.replace(/\/+$/, "");
  url.pathname = path.endsWith("/v1/traces") ? path : `${path}/v1/traces`;
  return url.toString();
}
