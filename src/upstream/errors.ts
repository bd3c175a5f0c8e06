// Transport errors of the upstream client. They keep undici's names and codes (which our error
// messages quote, e.g. "Could not reach provider x (UND_ERR_SOCKET)"), but are our own: importing
// undici for its error classes loaded all of it, about 4.6 MB of heap in every worker.
export class UpstreamTransportError extends Error {
  readonly code: string;

  constructor(name: string, code: string, message: string) {
    super(message);
    this.name = name;
    this.code = code;
  }
}

/** One error class per failure, so callers and tests can tell them apart with instanceof. */
function kind(name: string, code: string, defaultMessage: string): new (message?: string) => UpstreamTransportError {
  return class extends UpstreamTransportError {
    constructor(message = defaultMessage) {
      super(name, code, message);
    }
  };
}

export const ConnectTimeoutError = kind("ConnectTimeoutError", "UND_ERR_CONNECT_TIMEOUT", "Connect Timeout Error");
export const HeadersTimeoutError = kind("HeadersTimeoutError", "UND_ERR_HEADERS_TIMEOUT", "Headers Timeout Error");
export const BodyTimeoutError = kind("BodyTimeoutError", "UND_ERR_BODY_TIMEOUT", "Body Timeout Error");
export const HeadersOverflowError = kind("HeadersOverflowError", "UND_ERR_HEADERS_OVERFLOW", "Headers Overflow Error");
/** The connection closed or failed while a request was on it. */
export const SocketError = kind("SocketError", "UND_ERR_SOCKET", "Socket Error");
/** The upstream's response is not valid HTTP/1.1. */
export const HTTPParserError = kind("HTTPParserError", "HPE_INVALID_RESPONSE", "Invalid HTTP response");
/** A request the client refuses to send (bad header, method or target). */
export const InvalidArgumentError = kind("InvalidArgumentError", "UND_ERR_INVALID_ARG", "Invalid Argument Error");
export const RequestAbortedError = kind("AbortError", "UND_ERR_ABORTED", "Request aborted");
export const ClientClosedError = kind("ClientClosedError", "UND_ERR_CLOSED", "The client is closed");
export const ClientDestroyedError = kind("ClientDestroyedError", "UND_ERR_DESTROYED", "The client is destroyed");
