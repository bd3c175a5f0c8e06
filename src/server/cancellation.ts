// Cancelling a request: the client went away, or request_timeout elapsed. A plain object with a
// listener list rather than an AbortController: creating an AbortController and adding/removing
// a listener on its signal cost 4-7 µs per request in Node 20, a third of the gateway's whole
// in-process budget. APIs that need a real AbortSignal get one, created on first use.

export interface CancelSignal {
  readonly aborted: boolean;
  /** Why: REQUEST_TIMEOUT-style markers or an Error; undefined until aborted. */
  readonly reason: unknown;
  onAbort(listener: () => void): void;
  offAbort(listener: () => void): void;
  /**
   * Told by the upstream client when this cancellation cut off a request the upstream already
   * had (sent on an open connection, answer not complete): the provider may bill it.
   */
  cutOffDelivered(): void;
}

export class Cancellation implements CancelSignal {
  aborted = false;
  reason: unknown = undefined;
  /** Whether cancelling cut off a request an upstream had already received (cutOffDelivered). */
  cutOffUpstream = false;
  private listeners: Array<() => void> | undefined;
  private controller: AbortController | undefined;

  abort(reason: unknown = new Error("The request was cancelled.")): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const listeners = this.listeners;
    this.listeners = undefined;
    if (listeners) for (const l of listeners) l();
    this.controller?.abort(reason);
  }

  onAbort(listener: () => void): void {
    (this.listeners ??= []).push(listener);
  }

  offAbort(listener: () => void): void {
    const ls = this.listeners;
    if (!ls) return;
    const i = ls.lastIndexOf(listener);
    if (i >= 0) ls.splice(i, 1);
  }

  cutOffDelivered(): void {
    this.cutOffUpstream = true;
  }

  /** A standard AbortSignal that follows this cancellation (for fetch, events.once, ...). */
  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }
}
