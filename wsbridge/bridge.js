// wsbridge bridge script: keeps a WebSocket to a Go wsbridge.Hub and posts
// each message it receives to the workspace host (window.parent), at least
// 1 s apart, acknowledging each by id once posted. No build step.
//
// <script src="https://svc.example/bridge.js"
//         data-url="wss://svc.example/ws"            WebSocket endpoint (ws:, wss:, http:, https:)
//         data-id="conv-1"                           page id, sent as ?id=
//         data-target-origin="https://workspace.example"  the host's origin; "*" only if you mean it
//         data-token="…"                             optional, sent as ?token=
//         data-interval-ms="1500"></script>          optional spacing, >= 1000 (default: DEFAULT_INTERVAL_MS below)
//
// Protocol (JSON text frames): server {"op":"msg","id":N,"data":S} and
// {"op":"pong"}; page {"op":"ack","id":N} and {"op":"ping"}.
(function () {
  "use strict";
  var script = document.currentScript;
  function fail(msg) {
    if (window.console) console.error("wsbridge: " + msg);
  }
  if (!script) return fail("load bridge.js with a plain <script src> tag");

  var attr = function (n) { return script.getAttribute("data-" + n); };
  var id = attr("id"), token = attr("token"), target = attr("target-origin");
  // The default spacing, in ms: wsbridge.ScriptHandler fills in
  // assistant.DefaultInterval + assistant.DefaultMargin, the one definition
  // (docs/pacing.md has the trade-off).
  var DEFAULT_INTERVAL_MS = Number("{{DEFAULT_INTERVAL_MS}}");
  if (!(DEFAULT_INTERVAL_MS >= 1000)) return fail("serve bridge.js with wsbridge.ScriptHandler, which fills in its default interval");
  var interval = Math.max(1000, Number(attr("interval-ms")) || DEFAULT_INTERVAL_MS);
  var PING_MS = 20000, DEAD_MS = 50000, MAX_BACKOFF_MS = 30000, MAX_FRAME = 1 << 20, REMEMBER = 1024;

  var url;
  try {
    url = new URL(attr("url") || "", location.href);
    if (url.protocol === "http:") url.protocol = "ws:";
    if (url.protocol === "https:") url.protocol = "wss:";
    if (url.protocol !== "ws:" && url.protocol !== "wss:") throw new Error("scheme");
  } catch (e) {
    return fail("data-url must be a ws:, wss:, http: or https: URL");
  }
  if (!id) return fail("data-id is required");
  if (target !== "*") {
    var ok = false;
    try { ok = !!target && new URL(target).origin === target; } catch (e) { /* not a URL */ }
    if (!ok) return fail('data-target-origin must be the host\'s origin, like "https://workspace.example" (or "*" to post to any host)');
  }
  if (window.parent === window) return fail("not framed: there is no host to post to");
  url.searchParams.set("id", id);
  if (token) url.searchParams.set("token", token);

  var ws = null;         // the current socket, or null between sockets
  var queue = [];        // frames of the current socket not yet posted
  var queuedIds = {};    // ids in queue
  var posted = {}, postedOrder = []; // last REMEMBER ids posted (duplicates are acked, not reposted)
  // Count the page's start as a post: a message posted by the page before
  // it reloaded may be less than interval ago.
  var lastPost = performance.now();
  var lastFrame = 0, attempt = 0, pumpTimer = 0, pingTimer = 0, retryTimer = 0;

  function now() { return performance.now(); }

  function connect() {
    retryTimer = 0;
    var s;
    try { s = new WebSocket(url.href); } catch (e) { return retry(); }
    ws = s;
    lastFrame = now();
    s.onopen = function () { if (s === ws) attempt = 0; };
    s.onmessage = function (ev) { if (s === ws) onFrame(s, ev.data); };
    s.onclose = function (ev) {
      if (s !== ws) return;
      drop();
      if (ev.code === 4000) return fail("another page took over id " + JSON.stringify(id) + "; not reconnecting");
      retry();
    };
    pingTimer = setInterval(function () {
      if (s !== ws) return;
      if (now() - lastFrame > DEAD_MS) { drop(); s.close(); retry(); return; }
      if (s.readyState === 1) s.send('{"op":"ping"}');
    }, PING_MS);
  }

  // drop forgets the current socket and everything it queued: a message
  // not yet posted is never posted later (the server has failed its Send).
  function drop() {
    ws = null;
    queue = [];
    queuedIds = {};
    clearInterval(pingTimer);
    clearTimeout(pumpTimer);
    pumpTimer = 0;
  }

  function retry() {
    if (retryTimer) return;
    var d = Math.min(MAX_BACKOFF_MS, 250 * Math.pow(2, attempt++));
    retryTimer = setTimeout(connect, d / 2 + Math.random() * d / 2);
  }

  function ack(s, n) {
    if (s.readyState === 1) s.send('{"op":"ack","id":' + n + "}");
  }

  // onFrame treats the frame as untrusted: anything unexpected is ignored.
  function onFrame(s, raw) {
    lastFrame = now();
    if (typeof raw !== "string" || raw.length > MAX_FRAME) return;
    var f;
    try { f = JSON.parse(raw); } catch (e) { return; }
    if (!f || f.op !== "msg" || !Number.isSafeInteger(f.id) || f.id < 1 || typeof f.data !== "string") return;
    if (posted[f.id]) return ack(s, f.id);
    if (queuedIds[f.id]) return;
    try {
      var m = JSON.parse(f.data);
      if (!m || m.method !== "sendMsg" || typeof m.type !== "string") return;
    } catch (e) { return; }
    queuedIds[f.id] = true;
    queue.push(f);
    pump();
  }

  // pump posts the next queued frame once interval has passed since the
  // last post, measured with performance.now() (timers may fire early or
  // late; the check is redone on every wake-up).
  function pump() {
    if (pumpTimer || !queue.length || !ws) return;
    var wait = lastPost + interval - now();
    if (wait > 0) {
      pumpTimer = setTimeout(function () { pumpTimer = 0; pump(); }, Math.ceil(wait));
      return;
    }
    var f = queue.shift();
    delete queuedIds[f.id];
    lastPost = now();
    try {
      window.parent.postMessage(f.data, target);
    } catch (e) {
      fail("postMessage: " + e); // not acked: the server's Send times out
      return pump();
    }
    posted[f.id] = true;
    postedOrder.push(f.id);
    if (postedOrder.length > REMEMBER) delete posted[postedOrder.shift()];
    ack(ws, f.id);
    pump();
  }

  connect();
})();
