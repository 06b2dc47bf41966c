/**
 * The live console's page: one static HTML file with its script inline, kept
 * as a string so `bun build --compile` and `deno compile` carry it. No build
 * step, no framework. It subscribes with the browser's own EventSource, so
 * it gets exactly what any subscriber with the same rooms, user and token
 * would get. Event data is shown with textContent only, never as HTML.
 *
 * @module
 */

/** The script, kept apart so its hash can go into the CSP header. */
export const CONSOLE_SCRIPT = `
"use strict";
const cfg = JSON.parse(document.getElementById("cfg").textContent);
const $ = (id) => document.getElementById(id);
let source, opened = false, counts = { events: 0, gaps: 0, reconnects: 0 };
$("path").textContent = cfg.path;
if (cfg.auth === "none") $("tokenrow").hidden = true;
if (cfg.auth === "cookie") {
  $("token").disabled = true;
  $("authnote").textContent = "This connector does not accept ?token= " +
    "(allow_query_token = false), and an EventSource cannot send headers: " +
    "the browser must already hold the " + cfg.cookie + " cookie for this " +
    "origin (set by your app), or the connector must allow query tokens.";
}
$("types").value = cfg.events.join(", ");
function state(text, detail) {
  if ($("state").textContent === text) return;
  $("state").textContent = text;
  $("state").className = text;
  row("state", "", text, detail || "");
}
function show() {
  $("counts").textContent = counts.events + " events, " + counts.gaps +
    " gaps, " + counts.reconnects + " reconnects";
}
function row(kind, id, type, data) {
  const tr = document.createElement("tr");
  tr.className = kind;
  for (const text of [new Date().toISOString().slice(11, 23), id, type, data]) {
    const td = document.createElement("td");
    td.textContent = text;
    tr.append(td);
  }
  $("log").prepend(tr);
  while ($("log").rows.length > 500) $("log").deleteRow(-1);
}
function onEvent(e) {
  const gap = e.type === cfg.gap;
  if (gap) counts.gaps++; else counts.events++;
  row(gap ? "gap" : "event", e.lastEventId, e.type, e.data);
  show();
}
function list(text) {
  return text.split(",").map((s) => s.trim()).filter(Boolean);
}
function connect() {
  disconnect();
  const q = new URLSearchParams();
  const rooms = list($("rooms").value);
  if (rooms.length) q.set("rooms", rooms.join(","));
  if ($("user").value.trim()) q.set("user_id", $("user").value.trim());
  if (cfg.auth === "query" && $("token").value.trim()) {
    q.set("token", $("token").value.trim());
  }
  const url = cfg.path + (q.size ? "?" + q : "");
  source = new EventSource(url);
  opened = false;
  state("connecting", url.replace(/token=[^&]*/, "token=***"));
  source.onopen = () => {
    if (opened) counts.reconnects++;
    opened = true;
    state("open");
    show();
  };
  source.onerror = () => {
    if (source.readyState === EventSource.CLOSED) {
      state("closed", "the server refused the stream (see the network tab)");
    } else {
      state("reconnecting");
    }
  };
  const types = new Set(["message", cfg.gap, ...list($("types").value)]);
  for (const type of types) source.addEventListener(type, onEvent);
}
function disconnect() {
  if (!source) return;
  source.close();
  source = undefined;
  state("closed", "by you");
}
$("form").addEventListener("submit", (e) => { e.preventDefault(); connect(); });
$("stop").addEventListener("click", disconnect);
$("clear").addEventListener("click", () => { $("log").replaceChildren(); });
show();
`;

/** The page; `__CONFIG__` is replaced by the connector's settings (JSON). */
export const CONSOLE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>hypha console</title>
<style>
[hidden] { display: none !important; }
body { font: 14px system-ui, sans-serif; margin: 1rem; color: #222; }
form { display: flex; flex-wrap: wrap; gap: .5rem; align-items: end; }
label { display: flex; flex-direction: column; font-size: 12px; color: #555; }
input { font: inherit; padding: .25rem; min-width: 10rem; }
#status { margin: .75rem 0; }
#state { font-weight: bold; padding: .1rem .4rem; border-radius: 3px; }
#state.open { background: #d4f7d4; } #state.reconnecting { background: #ffe7b3; }
#state.closed { background: #f7d4d4; } #state.connecting { background: #e3e3f7; }
table { border-collapse: collapse; width: 100%; font: 12px ui-monospace, monospace; }
td { border-bottom: 1px solid #eee; padding: .2rem .4rem; vertical-align: top; }
td:last-child { white-space: pre-wrap; word-break: break-all; }
tr.gap { background: #fff3cd; } tr.state { color: #777; font-style: italic; }
#authnote { color: #a60; font-size: 12px; max-width: 60rem; }
</style>
</head>
<body>
<h1>hypha console <small id="path"></small></h1>
<form id="form">
<label>rooms (comma list)<input id="rooms" name="rooms"></label>
<label>user_id<input id="user" name="user_id"></label>
<label id="tokenrow">token<input id="token" type="password" autocomplete="off"></label>
<label>event types<input id="types" name="types"></label>
<button id="connect" type="submit">Connect</button>
<button id="stop" type="button">Disconnect</button>
<button id="clear" type="button">Clear</button>
</form>
<p id="authnote"></p>
<div id="status">state: <span id="state" class="closed">closed</span> · <span id="counts"></span></div>
<table><thead><tr><td>time</td><td>id</td><td>type</td><td>data</td></tr></thead>
<tbody id="log"></tbody></table>
<script type="application/json" id="cfg">__CONFIG__</script>
<script>${CONSOLE_SCRIPT}</script>
</body>
</html>
`;
