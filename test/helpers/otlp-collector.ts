// A stand-in OpenTelemetry collector for tests: OTLP traces over http/protobuf (POST /v1/traces)
// and over grpc (TraceService/Export), decoded with a small reader of the protobuf wire format
// (opentelemetry-proto: ExportTraceServiceRequest → ResourceSpans → ScopeSpans → Span).
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import * as grpc from "@grpc/grpc-js";

export interface CollectedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  /** 1 internal, 2 server, 3 client. */
  kind: number;
  startNs: bigint;
  endNs: bigint;
  attributes: Record<string, string | number | boolean>;
  /** 0 unset, 1 ok, 2 error. */
  statusCode: number;
  resource: Record<string, string | number | boolean>;
}

type Field = { no: number; varint?: bigint; bytes?: Buffer; fixed64?: Buffer };

function fields(buf: Buffer): Field[] {
  const out: Field[] = [];
  let i = 0;
  const varint = (): bigint => {
    let v = 0n;
    let shift = 0n;
    for (;;) {
      const b = buf[i++] as number;
      v |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return v;
      shift += 7n;
    }
  };
  while (i < buf.length) {
    const tag = Number(varint());
    const no = tag >> 3;
    const wire = tag & 7;
    if (wire === 0) out.push({ no, varint: varint() });
    else if (wire === 1) {
      out.push({ no, fixed64: buf.subarray(i, i + 8) });
      i += 8;
    } else if (wire === 2) {
      const len = Number(varint());
      out.push({ no, bytes: buf.subarray(i, i + len) });
      i += len;
    } else if (wire === 5) i += 4;
    else throw new Error(`wire type ${wire}`);
  }
  return out;
}

const all = (fs: Field[], no: number): Field[] => fs.filter((f) => f.no === no);
const one = (fs: Field[], no: number): Field | undefined => fs.find((f) => f.no === no);

function anyValue(buf: Buffer): string | number | boolean {
  const f = fields(buf)[0];
  if (f === undefined) return "";
  if (f.no === 1) return (f.bytes as Buffer).toString("utf8");
  if (f.no === 2) return f.varint === 1n;
  if (f.no === 3) return Number(BigInt.asIntN(64, f.varint as bigint));
  if (f.no === 4) return (f.fixed64 as Buffer).readDoubleLE(0);
  return `(type ${f.no})`;
}

function attributes(fs: Field[], no: number): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const kv of all(fs, no)) {
    const k = fields(kv.bytes as Buffer);
    out[(one(k, 1)?.bytes as Buffer).toString("utf8")] = anyValue(one(k, 2)?.bytes ?? Buffer.alloc(0));
  }
  return out;
}

export function decodeTraces(body: Buffer): CollectedSpan[] {
  const spans: CollectedSpan[] = [];
  for (const rs of all(fields(body), 1)) {
    const rsf = fields(rs.bytes as Buffer);
    const resourceBytes = one(rsf, 1)?.bytes;
    const resource = resourceBytes ? attributes(fields(resourceBytes), 1) : {};
    for (const ss of all(rsf, 2)) {
      for (const sp of all(fields(ss.bytes as Buffer), 2)) {
        const s = fields(sp.bytes as Buffer);
        const status = one(s, 15)?.bytes;
        spans.push({
          traceId: (one(s, 1)?.bytes ?? Buffer.alloc(0)).toString("hex"),
          spanId: (one(s, 2)?.bytes ?? Buffer.alloc(0)).toString("hex"),
          parentSpanId: (one(s, 4)?.bytes ?? Buffer.alloc(0)).toString("hex"),
          name: (one(s, 5)?.bytes ?? Buffer.alloc(0)).toString("utf8"),
          kind: Number(one(s, 6)?.varint ?? 0n),
          startNs: (one(s, 7)?.fixed64 as Buffer).readBigUInt64LE(0),
          endNs: (one(s, 8)?.fixed64 as Buffer).readBigUInt64LE(0),
          attributes: attributes(s, 9),
          statusCode: status ? Number(one(fields(status), 3)?.varint ?? 0n) : 0,
          resource,
        });
      }
    }
  }
  return spans;
}

export interface Collector {
  /** http/protobuf: the base endpoint (http://127.0.0.1:port); grpc: host:port. */
  endpoint: string;
  spans: CollectedSpan[];
  /** Headers (http) or metadata (grpc) of the last export. */
  lastHeaders: Record<string, string>;
  paths: string[];
  close(): Promise<void>;
}

export async function startHttpCollector(): Promise<Collector> {
  const c: Collector = { endpoint: "", spans: [], lastHeaders: {}, paths: [], close: async () => undefined };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (d: Buffer) => chunks.push(d));
    req.on("end", () => {
      c.paths.push(req.url ?? "");
      c.lastHeaders = flat(req.headers);
      c.spans.push(...decodeTraces(Buffer.concat(chunks)));
      res.writeHead(200, { "content-type": "application/x-protobuf" }).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  c.endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  c.close = () => new Promise((r) => server.close(() => r()));
  return c;
}

export async function startGrpcCollector(): Promise<Collector> {
  const c: Collector = { endpoint: "", spans: [], lastHeaders: {}, paths: [], close: async () => undefined };
  const server = new grpc.Server();
  const path = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";
  const service: grpc.ServiceDefinition = {
    Export: {
      path,
      requestStream: false,
      responseStream: false,
      requestSerialize: (b: Buffer) => b,
      requestDeserialize: (b: Buffer) => b,
      responseSerialize: () => Buffer.alloc(0),
      responseDeserialize: (b: Buffer) => b,
    },
  };
  server.addService(service, {
    Export: (call: grpc.ServerUnaryCall<Buffer, Buffer>, done: grpc.sendUnaryData<Buffer>) => {
      c.paths.push(path);
      c.lastHeaders = Object.fromEntries(Object.entries(call.metadata.getMap()).map(([k, v]) => [k, String(v)]));
      c.spans.push(...decodeTraces(call.request));
      done(null, Buffer.alloc(0));
    },
  });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  c.endpoint = `127.0.0.1:${port}`;
  c.close = () => new Promise((r) => server.tryShutdown(() => r()));
  return c;
}

function flat(h: IncomingHttpHeaders): Record<string, string> {
  return Object.fromEntries(Object.entries(h).map(([k, v]) => [k, Array.isArray(v) ? v.join(", ") : String(v)]));
}
