// wsbridge bridge script: keeps a WebSocket to a Go wsbridge.Hub and posts
// each message it receives to the workspace host (window.parent), at least
// 1 s apart, acknowledging each by id once posted, or refusing it by id
// when it will not post it. No build step.
//
// <script src="https://svc.example/bridge.js"
//         data-url="wss://svc.example/ws"            WebSocket endpoint (ws:, wss:, http:, https:)
//         data-id="conv-1"                           page id, sent as ?id=
//         data-target-origin="https://workspace.example"  the host's origin; "*" only if you mean it
//         data-token="…"                             optional page token (see below)
//         data-token-url="https://svc.example/token?id=conv-1"  optional: where to fetch a fresh token
//         data-interval-ms="1500"></script>          optional spacing, >= 1000 (default: DEFAULT_INTERVAL_MS below)
//
// The token never goes in the URL (access logs and proxies keep URLs): it
// is offered as a WebSocket subprotocol, the one header a page can set on
// a WebSocket: Sec-WebSocket-Protocol: wsbridge, wsbridge.token.<token>.
// The Hub selects "wsbridge" and never echoes the token. With
// data-token-url, the bridge GETs that URL with credentials (cookies)
// before every connect but the first one that has a data-token, and
// expects 200 and {"token":"…"}; so tokens can live minutes. A 401 or 403
// there stops the bridge (the page's session is gone: reload); any other
// failure, like a refused handshake, is retried with the usual backoff
// (250 ms doubling to 30 s), each attempt with a freshly fetched token.
//
// Protocol (JSON text frames): server {"op":"msg","id":N,"data":S} and
// {"op":"pong"}; page {"op":"ack","id":N}, {"op":"ping"} and
// {"op":"refuse","id":N,"reason":R}, R one of "too_large" (S is longer than
// MAX_MESSAGE bytes of UTF-8), "invalid" (S is not a sendMsg message of one
// of the four types, see check) and "wrong_parent" (the page is framed by
// another origin than data-target-origin, so the post would be dropped).
(function () {
  "use strict";
  var script = document.currentScript;
  function fail(msg) {
    if (window.console) console.error("wsbridge: " + msg);
  }
  if (!script) return fail("load bridge.js with a plain <script src> tag");

  var attr = function (n) { return script.getAttribute("data-" + n); };
  var id = attr("id"), token = attr("token"), tokenURL = attr("token-url"), target = attr("target-origin");
  // The default spacing, in ms: wsbridge.ScriptHandler fills in
  // assistant.DefaultInterval + assistant.DefaultMargin, the one definition
  // (docs/pacing.md has the trade-off).
  var DEFAULT_INTERVAL_MS = Number("{{DEFAULT_INTERVAL_MS}}");
  if (!(DEFAULT_INTERVAL_MS >= 1000)) return fail("serve bridge.js with wsbridge.ScriptHandler, which fills in its default interval");
  var interval = Math.max(1000, Number(attr("interval-ms")) || DEFAULT_INTERVAL_MS);
  var PING_MS = 20000, DEAD_MS = 50000, MAX_BACKOFF_MS = 30000, REMEMBER = 1024;
  // wsbridge.Subprotocol and wsbridge.TokenProtocolPrefix (a Go test pins
  // them). A token must be an HTTP token (RFC 9110 tchar), or the
  // WebSocket constructor throws.
  var PROTOCOL = "wsbridge", TOKEN_PREFIX = "wsbridge.token.";
  var TOKEN_RE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,2048}$/;
  var FETCH_MS = 10000, MAX_TOKEN_RESPONSE = 8192;
  // MAX_MESSAGE is wsbridge.MaxMessageSize (a Go test pins it). A frame
  // carries the message JSON-escaped: at most 6 UTF-16 units per byte.
  var MAX_MESSAGE = 1048576, MAX_FRAME = 6 * MAX_MESSAGE + 64;
  // Content of each message type: a string or an object.
  var TYPES = { text: "string", rich: "string", product: "object", miniprogrampage: "object" };

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
  if (token && !TOKEN_RE.test(token)) return fail("data-token must be letters, digits and !#$%&'*+-.^_`|~ only");
  if (tokenURL) {
    if (typeof fetch !== "function") return fail("data-token-url needs fetch, which this browser lacks");
    try { tokenURL = new URL(tokenURL, location.href).href; } catch (e) { return fail("data-token-url must be a URL"); }
  }
  if (window.parent === window) return fail("not framed: there is no host to post to");
  url.searchParams.set("id", id);

  var ws = null;         // the current socket, or null between sockets
  var queue = [];        // frames of the current socket not yet posted
  var queuedIds = {};    // ids in queue
  var posted = {}, postedOrder = []; // last REMEMBER ids posted (duplicates are acked, not reposted)
  // Count the page's start as a post: a message posted by the page before
  // it reloaded may be less than interval ago.
  var lastPost = performance.now();
  var lastFrame = 0, attempt = 0, pumpTimer = 0, pingTimer = 0, retryTimer = 0;
  // unused: token has not been offered yet (data-token on the first
  // connect, or just fetched); with data-token-url each token is offered
  // once.
  var unused = !!token, stopped = false;

  function now() { return performance.now(); }

  function connect() {
    retryTimer = 0;
    if (stopped) return;
    if (tokenURL && !unused) return fetchToken();
    unused = false;
    var s, protocols = [PROTOCOL];
    if (token) protocols.push(TOKEN_PREFIX + token);
    try { s = new WebSocket(url.href, protocols); } catch (e) { return retry(); }
    ws = s;
    lastFrame = now();
    s.onopen = function () { if (s === ws) attempt = 0; };
    s.onmessage = function (ev) { if (s === ws) onFrame(s, ev.data); };
    s.onclose = function (ev) {
      if (s !== ws) return;
      drop();
      if (ev.code === 4000) return stop("another page took over id " + JSON.stringify(id) + "; not reconnecting");
      retry();
    };
    pingTimer = setInterval(function () {
      if (s !== ws) return;
      if (now() - lastFrame > DEAD_MS) { drop(); s.close(); retry(); return; }
      if (s.readyState === 1) s.send('{"op":"ping"}');
    }, PING_MS);
  }

  // fetchToken gets a fresh token from data-token-url, then connects; it
  // stops the bridge on 401 or 403 or an unusable answer, and retries
  // (with backoff) on anything else.
  function fetchToken() {
    var ctl = typeof AbortController === "function" ? new AbortController() : null;
    var timer = setTimeout(function () { if (ctl) ctl.abort(); }, FETCH_MS);
    var fatal = null;
    fetch(tokenURL, { credentials: "include", cache: "no-store", headers: { Accept: "application/json" }, signal: ctl ? ctl.signal : undefined })
      .then(function (res) {
        if (res.status === 401 || res.status === 403) {
          fatal = "data-token-url answered " + res.status + ": no token for this page (reload it to start again)";
        }
        if (!res.ok) throw new Error("status " + res.status);
        return res.text();
      })
      .then(function (body) {
        var t;
        try { t = body.length <= MAX_TOKEN_RESPONSE ? JSON.parse(body).token : null; } catch (e) { t = null; }
        if (typeof t !== "string" || !TOKEN_RE.test(t)) {
          fatal = 'data-token-url must answer {"token":"…"} with a token of letters, digits and !#$%&\'*+-.^_`|~';
          throw new Error("bad token answer");
        }
        clearTimeout(timer);
        token = t;
        unused = true;
        connect();
      })
      .catch(function () {
        clearTimeout(timer);
        if (fatal) return stop(fatal);
        retry();
      });
  }

  // stop gives up for good (until the page reloads), saying why.
  function stop(why) {
    stopped = true;
    fail(why);
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
    if (retryTimer || stopped) return;
    var d = Math.min(MAX_BACKOFF_MS, 250 * Math.pow(2, attempt++));
    retryTimer = setTimeout(connect, d / 2 + Math.random() * d / 2);
  }

  function ack(s, n) {
    if (s.readyState === 1) s.send('{"op":"ack","id":' + n + "}");
  }

  function refuse(s, n, reason) {
    if (s.readyState === 1) s.send('{"op":"refuse","id":' + n + ',"reason":"' + reason + '"}');
  }

  // parentOK reports whether a post to target reaches window.parent.
  // Browsers that expose location.ancestorOrigins (Chromium, Safari,
  // Firefox ESR 153) name the parent's origin; where it is missing (older
  // Firefox) the bridge cannot tell, and postMessage silently drops a
  // message for another origin: serve the component page with CSP
  // frame-ancestors <target>.
  function parentOK() {
    if (target === "*") return true;
    var ao = location.ancestorOrigins;
    if (!ao || !ao.length) return true;
    return ao[0] === target;
  }

  // utf8Len is the UTF-8 length of s, counted up to limit + 1.
  function utf8Len(s, limit) {
    var n = 0;
    for (var i = 0; i < s.length && n <= limit; i++) {
      var c = s.charCodeAt(i);
      if (c < 0x80) n += 1;
      else if (c < 0x800) n += 2;
      else if (c >= 0xd800 && c <= 0xdbff && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) { n += 4; i++; }
      else n += 3;
    }
    return n;
  }

  // Control characters (other than tab, LF and CR) and lone surrogates:
  // nothing assistant.Encode writes, so nothing a host should get.
  var BAD_CHARS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]|[\ud800-\udbff](?![\udc00-\udfff])|(?:^|[^\ud800-\udbff])[\udc00-\udfff]/;

  // cleanValue reports whether every string (and key) in v is free of
  // BAD_CHARS, within a sane depth.
  function cleanValue(v, depth) {
    if (typeof v === "string") return !BAD_CHARS.test(v);
    if (v === null || typeof v !== "object") return true;
    if (depth > 16) return false;
    for (var k in v) {
      if (!Object.prototype.hasOwnProperty.call(v, k)) continue;
      if (BAD_CHARS.test(k) || !cleanValue(v[k], depth + 1)) return false;
    }
    return true;
  }

  // check returns why the wire string data must not be posted, or "".
  // The host JSON.parses what it gets: it gets only a sendMsg message of
  // one of the four types, with nothing else at the top level.
  function check(data) {
    if (utf8Len(data, MAX_MESSAGE) > MAX_MESSAGE) return "too_large";
    var m;
    try { m = JSON.parse(data); } catch (e) { return "invalid"; }
    if (!m || typeof m !== "object" || Array.isArray(m)) return "invalid";
    for (var k in m) {
      if (k !== "method" && k !== "type" && k !== "content") return "invalid";
    }
    if (m.method !== "sendMsg" || typeof m.type !== "string" || !Object.prototype.hasOwnProperty.call(TYPES, m.type)) return "invalid";
    var c = m.content;
    if (TYPES[m.type] === "string" ? typeof c !== "string" : (!c || typeof c !== "object" || Array.isArray(c))) return "invalid";
    if (!cleanValue(m, 0)) return "invalid";
    return "";
  }

  // onFrame treats the frame as untrusted: a message it will not post is
  // refused by id (so the server's Send returns at once); anything without
  // a usable id is ignored.
  function onFrame(s, raw) {
    lastFrame = now();
    if (typeof raw !== "string") return;
    if (raw.length > MAX_FRAME) {
      var big = /^\{"op":"msg","id":([1-9][0-9]{0,15}),/.exec(raw.slice(0, 64));
      if (big && Number.isSafeInteger(+big[1])) refuse(s, +big[1], "too_large");
      return;
    }
    var f;
    try { f = JSON.parse(raw); } catch (e) { return; }
    if (!f || f.op !== "msg" || !Number.isSafeInteger(f.id) || f.id < 1) return;
    if (posted[f.id]) return ack(s, f.id);
    if (queuedIds[f.id]) return;
    var why = typeof f.data !== "string" ? "invalid" : !parentOK() ? "wrong_parent" : check(f.data);
    if (why) return refuse(s, f.id, why);
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
      fail("postMessage: " + e);
      refuse(ws, f.id, "invalid");
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
