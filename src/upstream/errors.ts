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

export class ConnectTimeoutError extends UpstreamTransportError {
  constructor(message = "Connect Timeout Error") {
    super("ConnectTimeoutError", "UND_ERR_CONNECT_TIMEOUT", message);
  }
}

export class HeadersTimeoutError extends UpstreamTransportError {
  constructor(message = "Headers Timeout Error") {
    super("HeadersTimeoutError", "UND_ERR_HEADERS_TIMEOUT", message);
  }
}

export class BodyTimeoutError extends UpstreamTransportError {
  constructor(message = "Body Timeout Error") {
    super("BodyTimeoutError", "UND_ERR_BODY_TIMEOUT", message);
  }
}

export class HeadersOverflowError extends UpstreamTransportError {
  constructor(message = "Headers Overflow Error") {
    super("HeadersOverflowError", "UND_ERR_HEADERS_OVERFLOW", message);
  }
}

/** The connection closed or failed while a request was on it. */
export class SocketError extends UpstreamTransportError {
  constructor(message = "Socket Error") {
    super("SocketError", "UND_ERR_SOCKET", message);
  }
}

/** The upstream's response is not valid HTTP/1.1. */
export class HTTPParserError extends UpstreamTransportError {
  constructor(message: string) {
    super("HTTPParserError", "HPE_INVALID_RESPONSE", message);
  }
}

/** A request the client refuses to send (bad header, method or target). */
export class InvalidArgumentError extends UpstreamTransportError {
  constructor(message = "Invalid Argument Error") {
    super("InvalidArgumentError", "UND_ERR_INVALID_ARG", message);
  }
}

export class RequestAbortedError extends UpstreamTransportError {
  constructor(message = "Request aborted") {
    super("AbortError", "UND_ERR_ABORTED", message);
  }
}

export class ClientClosedError extends UpstreamTransportError {
  constructor(message = "The client is closed") {
    super("ClientClosedError", "UND_ERR_CLOSED", message);
  }
}

export class ClientDestroyedError extends UpstreamTransportError {
  constructor(message = "The client is destroyed") {
    super("ClientDestroyedError", "UND_ERR_DESTROYED", message);
  }
}
