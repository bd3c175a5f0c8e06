// For test servers on raw sockets: splits what a connection receives into whole HTTP/1.1
// requests (head plus content-length body), so the test can answer each with exact bytes.
import type { Socket } from "node:net";

/** Calls `onRequest` with each whole request the socket receives, in order. */
export function onRequests(socket: Socket, onRequest: (request: string) => void): void {
  let buf = "";
  socket.on("error", () => {});
  socket.on("data", (d: Buffer) => {
    buf += d.toString("latin1");
    for (;;) {
      const end = buf.indexOf("\r\n\r\n");
      if (end < 0) return;
      const length = /content-length: (\d+)/i.exec(buf.slice(0, end));
      const total = end + 4 + (length ? Number(length[1]) : 0);
      if (buf.length < total) return;
      const request = buf.slice(0, total);
      buf = buf.slice(total);
      onRequest(request);
    }
  });
}
