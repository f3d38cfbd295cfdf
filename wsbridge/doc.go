// Package wsbridge lets a Go service send assistant messages through a
// component page: the page loads a small bridge script that keeps a
// WebSocket to the service and posts each message it receives to the
// workspace host, and the service gets an [assistant.Sender] per page.
//
// The service:
//
//	signer, err := wsbridge.NewTokenSigner(key) // 32+ secret random bytes
//	hub := wsbridge.NewHub(wsbridge.Options{
//		OriginPatterns: []string{"component.example.com"}, // where the component page is served
//		AllowedHosts:   []string{"svc.example"},           // the Hub's own name (DNS rebinding)
//		Authenticate:   signer.Verify,                     // the page's token must name its id
//	})
//	defer hub.Close()
//	mux.Handle("/ws", hub)
//	mux.Handle("/bridge.js", wsbridge.ScriptHandler())
//
//	s := hub.Sender("conv-1") // paced by the Hub, shared by all senders to the page
//	err := s.Send(ctx, assistant.NewText("Your order has shipped."))
//	// nil: the page posted it to the host and acknowledged it.
//
// The component page (framed by the workspace at https://workspace.example,
// and served with Content-Security-Policy: frame-ancestors
// https://workspace.example), with data-token from
// signer.Sign("conv-1", 5*time.Minute):
//
//	<script src="https://svc.example/bridge.js"
//	        data-url="wss://svc.example/ws"
//	        data-id="conv-1"
//	        data-target-origin="https://workspace.example"
//	        data-token="…"
//	        data-token-url="/bridge-token?id=conv-1"></script>
//
// data-url, data-id and data-target-origin are required; the script does
// nothing (and says why on the console) without them or when the page is
// not framed. data-target-origin="*" hands messages to whatever page
// frames the component: only write it if that is what you want.
// data-token and data-token-url are described under Tokens.
//
// # Security
//
// The zero [Options] refuse every page: a Hub accepts a page only when
// Options.Authenticate vouches for the request and its page id, or the
// caller sets the loudly named InsecureSkipAuthentication. Without that,
// any program could connect with a page's id, take it over (the real page
// is replaced, see [StatusReplaced]), and receive and acknowledge its
// messages. [TokenSigner] makes tokens bound to one id with an expiry (see
// Tokens). A request is checked in this order, before any of the caller's
// code runs: the id (printable, at most MaxIDLen bytes; errors quote it),
// no token in the URL, the Host (Options.AllowedHosts), the Origin
// (required unless AllowMissingOrigin: the Hub's own host or
// OriginPatterns), then Authenticate.
//
// # Tokens
//
// A token opens the Hub for one page id until it expires, to whoever
// presents it: a replayed token takes the page over (see [StatusReplaced])
// and receives its messages. So it never travels in a URL, which access
// logs, proxies and the Referer keep. The bridge offers it as a WebSocket
// subprotocol, the one header a page can set on a WebSocket:
//
//	Sec-WebSocket-Protocol: wsbridge, wsbridge.token.<token>
//
// The Hub selects [Subprotocol] ("wsbridge"), never the token's entry, so
// the response does not echo it; [RequestToken] reads it (TokenSigner.Verify
// does). A subprotocol rather than a first frame: it is checked before the
// upgrade, so a refused page costs no socket, and Authenticate keeps its
// signature. A request with a "token" query parameter is refused with 400
// and [ErrTokenInURL], even with a good token, so a client that still puts
// tokens in URLs fails at once rather than leaking them quietly.
//
// The token is checked only when a socket opens; a connected page stays
// connected. So tokens live minutes ([TokenSigner.Sign] caps them at
// [MaxTokenTTL]), and a page that may reconnect later names
// data-token-url: before every connect but the first (which uses
// data-token, if any), the bridge calls
// fetch(url, {credentials: "include"}) and expects 200 with
// {"token":"…"}. A 401 or 403 stops it (the user's session is gone); other
// failures, and refused handshakes, are retried with the usual backoff
// (250 ms doubling to 30 s), each with a fresh token. Serve it only to the
// user the page belongs to, with Cache-Control: no-store; a component page
// framed by another site sends cookies only if they are SameSite=None
// (and Secure, Partitioned where third-party cookies are blocked):
//
//	mux.HandleFunc("GET /bridge-token", func(w http.ResponseWriter, r *http.Request) {
//		id := r.URL.Query().Get("id")
//		if !mayOpen(r, id) { // your session: may this user open page id?
//			http.Error(w, "forbidden", http.StatusForbidden)
//			return
//		}
//		w.Header().Set("Content-Type", "application/json")
//		w.Header().Set("Cache-Control", "no-store")
//		json.NewEncoder(w).Encode(map[string]string{"token": signer.Sign(id, 5*time.Minute)})
//	})
//
// Within its TTL a captured token can be replayed: there is no
// per-connection nonce, since a page reconnects with the token it has.
// Short TTLs keep that window small, and keeping tokens out of URLs keeps
// them out of the places they are usually captured from. Any byte outside
// a token's alphabet is refused (ErrTokenInvalid), so a deny-list keyed by
// the token string sees every spelling of it.
//
// # Delivery
//
// Send returns nil only after the page has called
// window.parent.postMessage with the message's exact [assistant.Encode]
// bytes, with data-target-origin as the target, and acknowledged its id.
// Each message gets an id unique in the Hub and is written once, to one
// connection: it is never resent. The bridge posts an id at most once (it
// acks a repeated id without posting it again), and drops the messages it
// has not posted yet when its socket closes. Before posting, it checks
// that its parent is the target origin, in every browser that exposes the
// parent's origin (location.ancestorOrigins: Chromium, Safari, and Firefox
// as of ESR 153; tested in Chromium 156 and Firefox ESR 153); a page framed
// by another origin, where the browser would silently drop the message,
// refuses it instead. So a message reaches the host at most once, and a nil
// Send reached the target origin's host exactly once, in every browser that
// exposes the parent's origin.
//
// In browsers that do not (Firefox releases without ancestorOrigins), the
// bridge cannot tell who frames it: a page framed by another origin
// acknowledges messages the browser dropped, and their Sends return nil.
// Serve the component page with Content-Security-Policy: frame-ancestors
// <workspace origin>, so that no other origin can frame it at all: Chromium
// and Firefox then do not load the page for a foreign framer, so it never
// connects and no Send to it returns nil.
//
// The bridge refuses, by id and at once, every message it will not post:
// longer than MaxMessageSize bytes, not a sendMsg message of one of the
// four types with its content a string (text, rich) or an object (product,
// miniprogrampage) and no other top-level key, holding a control character
// other than tab, LF and CR, or for the wrong parent. Send then returns an
// error matching [ErrRefused]; errors.As gives the [*RefusedError] with
// the reason. Such a message did not reach the host. Send itself refuses
// a message longer than MaxMessageSize with [ErrTooLarge] before writing.
//
// When a connection ends before the ack (cut, page reload, a reconnect with
// the same id taking over, Hub closed), its pending Sends fail with
// [ErrDisconnected]; they are not moved to the new connection, because a
// reloaded page cannot know what its previous instance posted. Such a
// message may or may not have reached the host (it may have been posted
// just before the cut). Sends made while no page is connected fail at once
// with [ErrNotConnected]: retry them after the page reconnects.
//
// Every Send error tells which of these happened through
// assistant.DeliveryOf: NotDelivered (nothing reached the page whole:
// ErrNotConnected, ErrClosed, ErrTooManyPending, a ctx that ended before
// the message was written), MaybeDelivered (ErrDisconnected, ErrAckTimeout,
// a ctx that ended waiting for the ack) or Rejected (an invalid message,
// ErrTooLarge, ErrRefused, an id no page can have). Decide on resending
// with it, not with the sentinels; [Hub.Sender] has the details.
//
// # Pacing
//
// The bridge posts messages at least data-interval-ms apart (by default
// assistant.DefaultInterval + assistant.DefaultMargin, which ScriptHandler
// writes into the script; never less than 1000) measured with
// performance.now() in the page, so network jitter cannot bring two
// messages closer at the host than that. The margin is for the host page:
// one busy with a long task dispatches a message that arrived meanwhile
// only when the task ends, and the next one at once. docs/pacing.md has
// the measurements; lower data-interval-ms only for a host known to be
// idle. The bridge counts its own start as a post, so the first message
// after a page (re)load waits up to one interval.
//
// The Hub paces too, so that Sends wait their turn in Go rather than queue
// in the page against Options.AckTimeout and MaxPending: while a page is
// connected, the Hub keeps one [assistant.RateLimited] Sender for it
// (created on connect, dropped on disconnect; see Options.Pacing), and
// every Send to that page, from any goroutine, takes its turn there in
// arrival order. Applications keep no map of limiters. Wrapping
// hub.Sender(id) in assistant.RateLimited anyway does not double the
// spacing: both limiters count from the return of the same Send, so the
// inner one is free again when the outer one lets the next Send through.
//
// # Operating
//
// Options.Hooks observe connections, Sends and protocol violations
// ([Hooks]; the otelwsbridge package turns them into OpenTelemetry
// metrics), Options.Logger receives structured logs, [Hub.Stats] is a
// snapshot of pages, Sends by outcome and by delivery class, and ack
// latency, and [Hub.Shutdown] drains the Hub for a deploy: the pages it
// closes with 1001 reconnect, possibly to another replica.
//
// # Limits
//
// Each connection costs one goroutine (the request's) and its buffers:
// about 25 KiB of server memory per connected page (25.6 KiB measured
// with 2,000 pages on a 2-core VM with Go 1.26, 24.7 KiB with 19,500 pages
// on a 16-core machine: WSBRIDGE_LOAD_N=2000 go test -run '^TestLoad$' -v
// ./wsbridge). At most Options.MaxConnections pages are connected at once
// (upgrades past it get 503); a page may have at most Options.MaxPending
// unacknowledged messages; a message is at most MaxMessageSize bytes;
// frames from a page larger than Options.MaxFrameSize, malformed (page
// frames are decoded strictly: exact lowercase names, no unknown or
// duplicate members), or answering ids never sent close that page's
// connection (see [ErrProtocol]); a page that stops reading is dropped
// after Options.WriteTimeout and a silent one after Options.IdleTimeout.
// None of this blocks other pages.
package wsbridge
