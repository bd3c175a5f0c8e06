// One listening socket for every worker thread. Threads cannot share a net.Server, but each can
// listen on its own file descriptor of the same socket; the kernel then spreads new connections
// over whichever threads are waiting in accept. Each thread needs its *own* descriptor: a thread
// that exits closes the descriptors it used, and a shared one would stop every other thread too.
// Node has no dup(), so descriptors are duplicated by sending the socket through a short-lived
// helper process and back (the kernel makes a new descriptor for each one received).
import { spawn } from "node:child_process";
import { createServer, type Server } from "node:net";

/** A raw libuv TCP handle as child_process passes it around; only its descriptor is used. */
interface RawHandle {
  readonly fd: number;
  close(): void;
}

const ECHO_HANDLES = "process.on('message',(m,h)=>process.send(m,h));process.on('disconnect',()=>process.exit(0));";

function duplicate(handle: RawHandle, count: number): Promise<RawHandle[]> {
  return new Promise((resolve, reject) => {
    // NODE_OPTIONS cleared: a profiler or preload meant for the gateway has no business here.
    const helper = spawn(process.execPath, ["-e", ECHO_HANDLES], { stdio: ["ignore", "ignore", "inherit", "ipc"], env: { ...process.env, NODE_OPTIONS: "" } });
    const out: RawHandle[] = [];
    helper.once("error", reject);
    helper.once("exit", (code) => {
      if (out.length < count) reject(new Error(`socket helper exited (${code}) before returning every descriptor`));
    });
    helper.on("message", (_m, h) => {
      out.push(h as unknown as RawHandle);
      if (out.length === count) {
        helper.disconnect();
        resolve(out);
      }
    });
    for (let i = 0; i < count; i++) helper.send(i, handle as unknown as Server);
  });
}

export interface SharedListener {
  readonly port: number;
  readonly address: string;
  /** New descriptors of the listening socket, one for each worker thread to own and close. */
  newDescriptors(count: number): Promise<number[]>;
  /**
   * Closes the master copy (shutdown): once the workers have closed theirs the socket stops
   * listening, and a client connecting meanwhile is refused at once instead of waiting in the
   * accept queue for a process that is going away.
   */
  close(): void;
}

export async function openSharedListener(port: number, host: string, backlog: number): Promise<SharedListener> {
  // Connections that reach this thread in the moment before it closes its own copy (start-up
  // only, before the gateway says it listens) are dropped; the workers accept all the others.
  const server = createServer({ pauseOnConnect: true }, (socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ port, host, backlog }, () => resolve());
  });
  const addr = server.address();
  if (addr === null || typeof addr === "string") throw new Error("listening socket has no TCP address");
  const own = (server as unknown as { _handle: RawHandle | null })._handle;
  if (!own) throw new Error("listening socket has no handle");
  // The master copy is never polled here and never closed: it keeps the socket open while
  // workers come and go.
  const [master] = await duplicate(own, 1);
  server.close();
  if (!master) throw new Error("could not duplicate the listening socket");
  return {
    port: addr.port,
    address: addr.address,
    newDescriptors: async (count) => (await duplicate(master, count)).map((copy) => copy.fd),
    close: () => master.close(),
  };
}
