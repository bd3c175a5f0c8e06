// nginx's send_timeout for one socket: a response whose pending bytes have not moved for the
// limit is stalled (its client stopped reading), and the caller closes the connection, which
// cancels the upstream request behind it. Checked from a periodic sweep, not per write.
import type { Socket } from "node:net";

export class SendWatch {
  /** What waited to be sent at the last check, and since when it has not moved (0: it moved). */
  private pendingBytes = 0;
  private stuckSince = 0;

  /**
   * Progress is bytes leaving libuv's write queue, not a 'drain': one large write (a whole
   * body) drains only at its end, however steadily the client reads it.
   */
  stalled(socket: Socket, now: number, limitMs: number): boolean {
    // writableLength counts a write until it completes; the handle's queue shrinks as the kernel takes its bytes.
    const queued = (socket as unknown as { _handle?: { writeQueueSize?: number } | null })._handle?.writeQueueSize ?? 0;
    const pending = socket.writableLength + queued;
    if (socket.writableLength === 0 || pending !== this.pendingBytes) {
      this.pendingBytes = pending;
      this.stuckSince = 0;
      return false;
    }
    if (this.stuckSince === 0) this.stuckSince = now;
    return now - this.stuckSince > limitMs;
  }
}
