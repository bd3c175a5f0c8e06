// OpenAI's files and batches API in the mock: multipart uploads kept in memory, their content
// downloadable, and batches that refer to them (created validating, cancelled on request).
import type { IncomingHttpHeaders } from "node:http";

export interface BatchReply {
  status: number;
  body: string | Buffer;
  headers: Record<string, string>;
}

const json = (status: number, v: unknown): BatchReply => ({ status, body: JSON.stringify(v), headers: { "content-type": "application/json" } });
const missing = (what: string, id: string): BatchReply => json(404, { error: { message: `No such ${what}: ${id}`, type: "invalid_request_error", param: "id", code: null } });

/** The parts of a multipart/form-data body: field name → value, and the one file if any. */
function parseMultipart(body: Buffer, contentType: string): { fields: Record<string, string>; file?: { name: string; data: Buffer } } {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/.exec(contentType);
  const fields: Record<string, string> = {};
  let file: { name: string; data: Buffer } | undefined;
  if (!boundary) return { fields };
  const sep = Buffer.from(`--${boundary[1] ?? boundary[2]}`);
  let at = body.indexOf(sep);
  while (at >= 0) {
    const start = at + sep.length;
    if (body.subarray(start, start + 2).toString() === "--") break;
    const next = body.indexOf(sep, start);
    if (next < 0) break;
    const part = body.subarray(start + 2, next - 2);
    const headEnd = part.indexOf("\r\n\r\n");
    const head = part.subarray(0, headEnd).toString("utf8");
    const data = part.subarray(headEnd + 4);
    const name = /name="([^"]*)"/.exec(head)?.[1] ?? "";
    const filename = /filename="([^"]*)"/.exec(head)?.[1];
    if (filename !== undefined) file = { name: filename, data: Buffer.from(data) };
    else fields[name] = data.toString("utf8");
    at = next;
  }
  return { fields, file };
}

export class BatchesMock {
  readonly files = new Map<string, { meta: Record<string, unknown>; data: Buffer }>();
  readonly batches = new Map<string, Record<string, unknown>>();
  private next = 0;

  /** `rest` is the path after the API version: /files, /files/{id}, /files/{id}/content, /batches, ... */
  handle(method: string, rest: string, headers: IncomingHttpHeaders, body: Buffer): BatchReply {
    const [, kind, id, action] = rest.split("/");
    const n = ++this.next;
    if (kind === "files") {
      if (method === "POST" && id === undefined) {
        const { fields, file } = parseMultipart(body, headers["content-type"] ?? "");
        if (!file) return json(400, { error: { message: "Missing file.", type: "invalid_request_error", param: "file", code: null } });
        const meta = { object: "file", id: `file-mock${n}`, purpose: fields.purpose ?? "", filename: file.name, bytes: file.data.length, created_at: 1_772_000_000 + n, expires_at: null, status: "processed", status_details: null };
        this.files.set(meta.id, { meta, data: file.data });
        return json(200, meta);
      }
      if (method === "GET" && id === undefined) return json(200, { object: "list", data: [...this.files.values()].map((f) => f.meta), has_more: false });
      const f = this.files.get(id ?? "");
      if (!f) return missing("file", id ?? "");
      if (method === "GET" && action === "content") return { status: 200, body: f.data, headers: { "content-type": "application/octet-stream", "content-disposition": `attachment; filename="${String(f.meta.filename)}"` } };
      if (method === "GET") return json(200, f.meta);
      if (method === "DELETE") {
        this.files.delete(id ?? "");
        return json(200, { object: "file", id, deleted: true });
      }
    }
    if (kind === "batches") {
      if (method === "POST" && id === undefined) {
        const req = JSON.parse(body.toString("utf8")) as Record<string, unknown>;
        if (!this.files.has(String(req.input_file_id))) return missing("file", String(req.input_file_id));
        const batch = {
          id: `batch_mock${n}`,
          object: "batch",
          endpoint: req.endpoint,
          errors: null,
          input_file_id: req.input_file_id,
          completion_window: req.completion_window,
          status: "validating",
          output_file_id: null,
          error_file_id: null,
          created_at: 1_772_000_000 + n,
          in_progress_at: null,
          expires_at: 1_772_086_400 + n,
          finalizing_at: null,
          completed_at: null,
          failed_at: null,
          expired_at: null,
          cancelling_at: null,
          cancelled_at: null,
          request_counts: { total: 0, completed: 0, failed: 0 },
          metadata: req.metadata ?? null,
        };
        this.batches.set(batch.id, batch);
        return json(200, batch);
      }
      if (method === "GET" && id === undefined) return json(200, { object: "list", data: [...this.batches.values()], first_id: null, last_id: null, has_more: false });
      const b = this.batches.get(id ?? "");
      if (!b) return missing("batch", id ?? "");
      if (method === "POST" && action === "cancel") {
        b.status = "cancelling";
        b.cancelling_at = 1_772_000_500;
      }
      return json(200, b);
    }
    return json(404, { error: { message: `no route ${method} ${rest}`, type: "invalid_request_error", param: null, code: null } });
  }
}
