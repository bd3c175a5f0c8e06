// The ferrogw dashboard: a client of the admin API (/admin/*) and /health, no build step. Every
// value reaches the page as text (textContent), never as markup. The master key is kept in
// sessionStorage, so it is gone when the tab closes.
const KEY_STORE = "ferrogw.adminKey";
const REFRESH_MS = 5000;
const $ = (id) => document.getElementById(id);

let view = "overview";
let timer;
let olderCursor = null;

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c ?? "")));
  return node;
}

class AuthError extends Error {}

async function api(path, init = {}) {
  const res = await fetch(path, { ...init, headers: { ...(init.headers ?? {}), authorization: `Bearer ${sessionStorage.getItem(KEY_STORE) ?? ""}`, "content-type": "application/json" } });
  const body = res.headers.get("content-type")?.includes("json") ? await res.json() : await res.text();
  if (res.status === 401 || res.status === 403) throw new AuthError(body?.error?.message ?? `HTTP ${res.status}`);
  if (!res.ok) throw new Error(body?.error?.message ?? `HTTP ${res.status}`);
  return body;
}

// Cents for whole dollars; a single request often costs a fraction of a cent.
const usd = (n) => `$${Number(n ?? 0).toFixed(n >= 1 ? 2 : n >= 0.01 ? 4 : 6)}`;
const int = (n) => Number(n ?? 0).toLocaleString("en-US");
const when = (ms) => (ms ? new Date(ms).toISOString().replace("T", " ").slice(0, 19) : "");

/** Fills `table` with a header and one row per item; a column is {title, get, num?, cls?}. */
function fill(table, columns, items, onRow) {
  const head = el("thead", {}, el("tr", {}, ...columns.map((c) => el("th", { class: c.num ? "num" : "" }, c.title))));
  const body = el("tbody");
  if (items.length === 0) body.append(el("tr", {}, el("td", { colspan: String(columns.length), class: "empty" }, "nothing yet")));
  for (const item of items) {
    const tr = el("tr", { class: onRow ? "row" : "" }, ...columns.map((c) => el("td", { class: [c.num ? "num" : "", c.cls?.(item) ?? ""].join(" ").trim() }, c.get(item))));
    if (onRow) tr.addEventListener("click", () => onRow(item, tr));
    body.append(tr);
  }
  table.replaceChildren(head, body);
}

const usageColumns = (title, label) => [
  { title, get: label },
  { title: "requests", get: (s) => int(s.requests), num: true },
  { title: "errors", get: (s) => int(s.errors), num: true, cls: (s) => (s.errors > 0 ? "bad" : "") },
  { title: "tokens in", get: (s) => int(s.tokens_in), num: true },
  { title: "tokens out", get: (s) => int(s.tokens_out), num: true },
  { title: "cost", get: (s) => usd(s.cost_usd), num: true },
  { title: "avg latency ms", get: (s) => Math.round(s.avg_latency_ms ?? 0), num: true },
];

async function showOverview() {
  const since = $("period").value;
  const [byModel, byProvider, byKey, health] = await Promise.all([
    api(`/admin/stats?group_by=model&since=${since}`),
    api(`/admin/stats?group_by=provider&since=${since}`),
    api(`/admin/stats?group_by=key&since=${since}`),
    api("/health"),
  ]);
  const t = byModel.totals;
  const card = (label, value) => el("div", { class: "card" }, el("div", { class: "label" }, label), el("div", { class: "value" }, value));
  $("totals").replaceChildren(
    card("requests", int(t.requests)),
    card("errors", int(t.errors)),
    card("error rate", t.requests ? `${((100 * t.errors) / t.requests).toFixed(1)} %` : "–"),
    card("tokens in / out", `${int(t.tokens_in)} / ${int(t.tokens_out)}`),
    card("cost", usd(t.cost_usd)),
  );
  const badge = $("health");
  badge.textContent = `gateway ${health.status}`;
  badge.className = `badge ${health.status === "ok" ? "ok" : "bad"}`;
  fill($("by-model"), usageColumns("model", (s) => s.group ?? "(none)"), byModel.data);
  fill($("by-provider"), usageColumns("provider", (s) => s.group ?? "(none)"), byProvider.data);
  fill($("by-key"), usageColumns("API key", (s) => s.group ?? "(anonymous)"), byKey.data);
}

const requestColumns = [
  { title: "time (UTC)", get: (r) => when(r.time) },
  { title: "status", get: (r) => r.status, cls: (r) => (r.status >= 400 ? "bad" : "ok") },
  { title: "model", get: (r) => r.model ?? "" },
  { title: "provider", get: (r) => r.provider ?? "" },
  { title: "key", get: (r) => r.keyId ?? "" },
  { title: "latency ms", get: (r) => Math.round(r.latencyMs), num: true },
  { title: "tokens in / out", get: (r) => `${r.tokensIn} / ${r.tokensOut}`, num: true },
  { title: "cost", get: (r) => usd(r.costUsd), num: true },
  { title: "", get: (r) => [r.stream ? "stream" : "", r.cacheHit ? "cache hit" : "", r.error ?? ""].filter(Boolean).join(" · ") },
];

/** A click on a request shows (or hides) every field of its log row under it. */
function toggleDetail(row, tr) {
  if (tr.nextSibling?.classList?.contains("detail")) return tr.nextSibling.remove();
  tr.after(el("tr", { class: "detail" }, el("td", { colspan: String(requestColumns.length) }, JSON.stringify(row, null, 2))));
}

async function showRequests(older = false) {
  const q = new URLSearchParams({ limit: "50" });
  if ($("errors-only").checked) q.set("errors", "true");
  if ($("filter-model").value.trim()) q.set("model", $("filter-model").value.trim());
  if (older && olderCursor) q.set("cursor", olderCursor);
  const page = await api(`/admin/logs?${q}`);
  const table = $("requests");
  if (older) {
    const probe = el("table");
    fill(probe, requestColumns, page.data, toggleDetail);
    table.tBodies[0].append(...probe.tBodies[0].children);
  } else fill(table, requestColumns, page.data, toggleDetail);
  olderCursor = page.next_cursor;
  $("requests-more").hidden = !olderCursor;
}

const keyState = (k) => (k.revoked_at ? "revoked" : k.expires_at && Date.parse(k.expires_at) < Date.now() ? "expired" : "active");

async function showKeys() {
  const keys = await api("/admin/keys?include_revoked=true");
  fill($("keys"), [
    { title: "name", get: (k) => k.name },
    { title: "id", get: (k) => k.id },
    { title: "prefix", get: (k) => k.key_prefix },
    { title: "created", get: (k) => (k.created_at ?? "").slice(0, 19) },
    { title: "last used", get: (k) => (k.last_used_at ?? "").slice(0, 19) },
    { title: "budget", get: (k) => (k.budget_usd == null ? "" : `${usd(k.budget_usd)} ${k.budget_period ?? ""}`) },
    { title: "rpm", get: (k) => k.rate_limit_rpm ?? "", num: true },
    { title: "state", get: keyState, cls: (k) => (keyState(k) === "active" ? "ok" : "bad") },
    {
      title: "",
      get: (k) =>
        k.revoked_at
          ? ""
          : el("button", {
              onclick: async (e) => {
                e.stopPropagation();
                if (!confirm(`Revoke ${k.name}? Requests with it fail at once.`)) return;
                await run(() => api(`/admin/keys/${encodeURIComponent(k.id)}/revoke`, { method: "POST" }));
                await run(showKeys);
              },
            }, "Revoke"),
    },
  ], keys.data);
}

async function createKey(event) {
  event.preventDefault();
  const body = { name: $("key-name").value.trim() };
  if ($("key-budget").value) body.budget_usd = Number($("key-budget").value);
  if ($("key-rpm").value) body.rate_limit_rpm = Number($("key-rpm").value);
  const created = await api("/admin/keys", { method: "POST", body: JSON.stringify(body) });
  const notice = $("new-key");
  notice.textContent = `New key for ${created.name} (shown once, copy it now): ${created.key}`;
  notice.hidden = false;
  $("key-form").reset();
  await showKeys();
}

async function showProviders() {
  const [providers, plugins, health] = await Promise.all([api("/admin/providers"), api("/admin/plugins"), api("/health")]);
  fill($("providers"), [
    { title: "name", get: (p) => p.name },
    { title: "kind", get: (p) => p.kind },
    { title: "base URL", get: (p) => p.base_url },
  ], providers.providers);
  fill($("targets"), [
    { title: "target", get: (t) => t.key },
    { title: "provider", get: (t) => t.provider },
    { title: "circuit", get: (t) => t.circuit, cls: (t) => (t.circuit === "closed" ? "ok" : "bad") },
    { title: "latency ms", get: (t) => t.latency_ms ?? "", num: true },
    { title: "in flight", get: (t) => t.concurrency?.active ?? "", num: true },
  ], providers.targets);
  fill($("mcp"), [
    { title: "server", get: (s) => s.name },
    { title: "transport", get: (s) => s.transport },
    { title: "state", get: (s) => (s.ready ? "connected" : "not connected"), cls: (s) => (s.ready ? "ok" : "bad") },
    { title: "required", get: (s) => (s.required ? "yes" : "") },
    { title: "tools", get: (s) => s.tools, num: true },
  ], health.mcp_servers ?? []);
  fill($("plugins"), [
    { title: "plugin", get: (p) => p.name },
    { title: "type", get: (p) => p.type ?? "" },
    { title: "stages", get: (p) => (p.stages ?? []).join(", ") },
    { title: "enabled", get: (p) => (p.enabled ? "yes" : "no"), cls: (p) => (p.enabled ? "ok" : "") },
  ], plugins.data);
  $("warnings").replaceChildren(...providers.warnings.map((w) => el("li", {}, w)));
}

async function showConfig() {
  const [current, history] = await Promise.all([api("/admin/config"), api("/admin/config/history?limit=50")]);
  $("config-version").textContent = current.version ?? "(not recorded)";
  $("config").textContent = JSON.stringify(current.config, null, 2);
  fill($("history"), [
    { title: "version", get: (v) => v.version, num: true },
    { title: "time (UTC)", get: (v) => when(v.createdAt ?? v.created_at) },
    { title: "author", get: (v) => v.author ?? "" },
    { title: "comment", get: (v) => v.comment ?? "" },
  ], history.data);
}

const VIEWS = { overview: showOverview, requests: () => showRequests(false), keys: showKeys, providers: showProviders, config: showConfig };

/** Runs an action; a rejected key sends the user back to sign in, other errors show in the banner until the next success. */
async function run(action) {
  try {
    await action();
    $("banner").hidden = true;
  } catch (err) {
    if (err instanceof AuthError) return signOut(err.message);
    $("banner").textContent = err instanceof TypeError ? `The gateway cannot be reached (${err.message}).` : err.message;
    $("banner").hidden = false;
  }
}

function show(name) {
  view = name;
  $("new-key").hidden = true;
  $("new-key").textContent = "";
  for (const b of document.querySelectorAll("#tabs button")) b.classList.toggle("active", b.dataset.view === name);
  for (const s of document.querySelectorAll(".view")) s.hidden = s.id !== `view-${name}`;
  clearInterval(timer);
  void run(VIEWS[name]);
  // Usage moves on its own. The request list refreshes on demand: a refresh would close the rows
  // being read and drop the older pages loaded.
  // Not while the tab is hidden: each refresh runs three aggregations over the request log.
  if (name === "overview") timer = setInterval(() => document.hidden || void run(VIEWS[view]), REFRESH_MS);
}

function signedIn() {
  $("login").hidden = true;
  $("tabs").hidden = false;
  $("logout").hidden = false;
  show(view);
}

function signOut(message = "") {
  sessionStorage.removeItem(KEY_STORE);
  clearInterval(timer);
  // Nothing read with the key stays in the page.
  for (const id of ["totals", "by-model", "by-provider", "by-key", "requests", "keys", "providers", "targets", "mcp", "plugins", "warnings", "config", "config-version", "history", "new-key"]) $(id).replaceChildren();
  $("new-key").hidden = true;
  $("banner").hidden = true;
  olderCursor = null;
  $("requests-more").hidden = true;
  for (const s of document.querySelectorAll(".view")) s.hidden = true;
  $("tabs").hidden = true;
  $("logout").hidden = true;
  $("login").hidden = false;
  $("login-error").textContent = message;
}

async function signIn(event) {
  event.preventDefault();
  sessionStorage.setItem(KEY_STORE, $("login-key").value.trim());
  $("login-key").value = "";
  try {
    await api("/admin/providers");
    signedIn();
  } catch (err) {
    signOut(err.message);
  }
}

$("login-form").addEventListener("submit", (e) => void signIn(e));
$("logout").addEventListener("click", () => signOut());
$("key-form").addEventListener("submit", (e) => void run(() => createKey(e)));
$("period").addEventListener("change", () => void run(showOverview));
$("requests-refresh").addEventListener("click", () => void run(() => showRequests(false)));
$("errors-only").addEventListener("change", () => void run(() => showRequests(false)));
// A new filter starts the list over (older pages of the old filter are not mixed in).
$("filter-model").addEventListener("change", () => void run(() => showRequests(false)));
$("requests-more").addEventListener("click", () => void run(() => showRequests(true)));
for (const b of document.querySelectorAll("#tabs button")) b.addEventListener("click", () => show(b.dataset.view));
if (sessionStorage.getItem(KEY_STORE)) void run(async () => {
  await api("/admin/providers");
  signedIn();
});
