// OpenAI's Responses API in the mock, shaped like the recorded responses in
// ../shared/fixtures/openai (openai-phase.1.json and its stream): create, as a JSON body or as an
// SSE stream of typed events (`event: <type>` then `data: <json>`, with sequence numbers), and
// the routes of a stored response (retrieve, delete, cancel, input items).
import type { JsonObject, JsonValue } from "../../src/api/types.js";

export interface ResponsesReply {
  status: number;
  /** A JSON body, or SSE frames for a stream. */
  body?: string;
  frames?: string[];
}

function inputText(input: JsonValue | undefined): string {
  if (typeof input === "string") return input;
  if (!Array.isArray(input)) return "";
  let last = "";
  for (const item of input) {
    if (typeof item !== "object" || item === null || Array.isArray(item) || item.role !== "user") continue;
    const c = item.content;
    if (typeof c === "string") last = c;
    else if (Array.isArray(c)) last = c.map((p) => (typeof p === "object" && p !== null && !Array.isArray(p) && typeof p.text === "string" ? p.text : "")).join("");
  }
  return last;
}

const notFound = (id: string): ResponsesReply => ({
  status: 404,
  body: JSON.stringify({ error: { message: `No response found with id '${id}'.`, type: "invalid_request_error", param: null, code: null } }),
});

export class ResponsesMock {
  readonly stored = new Map<string, { response: JsonObject; input: string }>();
  private next = 0;

  create(body: JsonObject, chunks: number): ResponsesReply {
    const model = typeof body.model === "string" ? body.model : "unknown";
    const question = inputText(body.input);
    const text = `Mock reply to: ${question}`;
    const n = ++this.next;
    const id = `resp_mock${String(n).padStart(6, "0")}`;
    const itemId = `msg_mock${String(n).padStart(6, "0")}`;
    const input = Math.max(1, Math.ceil(question.length / 4)) + 8;
    const output = Math.max(1, Math.ceil(text.length / 4));
    const part = { type: "output_text", annotations: [], logprobs: [], text };
    const base: JsonObject = {
      id,
      object: "response",
      created_at: 1_772_062_745 + n,
      status: "in_progress",
      background: false,
      error: null,
      incomplete_details: null,
      instructions: typeof body.instructions === "string" ? body.instructions : null,
      max_output_tokens: typeof body.max_output_tokens === "number" ? body.max_output_tokens : null,
      model,
      output: [],
      parallel_tool_calls: true,
      previous_response_id: typeof body.previous_response_id === "string" ? body.previous_response_id : null,
      reasoning: { effort: null, summary: null },
      store: body.store !== false,
      temperature: 1,
      text: { format: { type: "text" } },
      tool_choice: "auto",
      tools: [],
      top_p: 1,
      truncation: "disabled",
      usage: null,
      user: null,
      // Echoed as sent, after usage, as OpenAI does.
      metadata: typeof body.metadata === "object" && body.metadata !== null ? body.metadata : {},
    };
    const done: JsonObject = {
      ...base,
      status: "completed",
      output: [{ id: itemId, type: "message", status: "completed", content: [part], role: "assistant" }],
      usage: { input_tokens: input, input_tokens_details: { cached_tokens: 0 }, output_tokens: output, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: input + output },
    };
    if (done.store === true) this.stored.set(id, { response: done, input: question });
    if (body.stream !== true) return { status: 200, body: JSON.stringify(done) };
    let seq = 0;
    const ev = (type: string, fields: JsonObject): string => `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: seq++, ...fields })}\n\n`;
    const frames = [ev("response.created", { response: base }), ev("response.in_progress", { response: base })];
    frames.push(ev("response.output_item.added", { output_index: 0, item: { id: itemId, type: "message", status: "in_progress", content: [], role: "assistant" } }));
    frames.push(ev("response.content_part.added", { item_id: itemId, output_index: 0, content_index: 0, part: { ...part, text: "" } }));
    const size = Math.ceil(text.length / Math.max(1, chunks));
    for (let i = 0; i < text.length; i += size) frames.push(ev("response.output_text.delta", { item_id: itemId, output_index: 0, content_index: 0, delta: text.slice(i, i + size), logprobs: [] }));
    frames.push(ev("response.output_text.done", { item_id: itemId, output_index: 0, content_index: 0, text, logprobs: [] }));
    frames.push(ev("response.content_part.done", { item_id: itemId, output_index: 0, content_index: 0, part }));
    frames.push(ev("response.output_item.done", { output_index: 0, item: (done.output as JsonObject[])[0] as JsonObject }));
    frames.push(ev("response.completed", { response: done }));
    return { status: 200, frames };
  }

  /** GET/DELETE /responses/{id}, POST /responses/{id}/cancel, GET /responses/{id}/input_items. */
  byId(method: string, rest: string): ResponsesReply {
    const [id = "", action] = rest.split("/");
    const found = this.stored.get(id);
    if (!found) return notFound(id);
    if (method === "GET" && action === undefined) return { status: 200, body: JSON.stringify(found.response) };
    if (method === "DELETE" && action === undefined) {
      this.stored.delete(id);
      return { status: 200, body: JSON.stringify({ id, object: "response", deleted: true }) };
    }
    if (method === "POST" && action === "cancel") return { status: 200, body: JSON.stringify({ ...found.response, status: "cancelled" }) };
    if (method === "GET" && action === "input_items") {
      const itemId = `msg_in${id.slice(-6)}`;
      return {
        status: 200,
        body: JSON.stringify({ object: "list", data: [{ id: itemId, type: "message", role: "user", status: "completed", content: [{ type: "input_text", text: found.input }] }], first_id: itemId, last_id: itemId, has_more: false }),
      };
    }
    return { status: 404, body: JSON.stringify({ error: { message: `no route ${method} /responses/${rest}`, type: "invalid_request_error", param: null, code: null } }) };
  }
}
