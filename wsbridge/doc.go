// Package wsbridge lets a Go service send assistant messages through a
// component page: the page loads a small bridge script that keeps a
// WebSocket to the service and posts each message it receives to the
// workspace host, and the service gets an [assistant.Sender] per page.
//
// The service:
//
//	hub := wsbridge.NewHub(wsbridge.Options{
//		OriginPatterns: []string{"component.example.com"}, // where the component page is served
//		Authenticate:   checkToken,                        // func(r *http.Request, id string) error
//	})
//	defer hub.Close()
//	mux.Handle("/ws", hub)
//	mux.Handle("/bridge.js", wsbridge.ScriptHandler())
//
//	s := hub.Sender("conv-1") // paced by the Hub, shared by all senders to the page
//	err := s.Send(ctx, assistant.NewText("Your order has shipped."))
//	// nil: the page posted it to the host and acknowledged it.
//
// The component page (framed by the workspace at https://workspace.example):
//
//	<script src="https://svc.example/bridge.js"
//	        data-url="wss://svc.example/ws"
//	        data-id="conv-1"
//	        data-target-origin="https://workspace.example"
//	        data-token="…"></script>
//
// data-url, data-id and data-target-origin are required; the script does
// nothing (and says why on the console) without them or when the page is
// not framed. data-target-origin="*" hands messages to whatever page
// frames the component: only write it if that is what you want. The token
// travels as the "token" query parameter of the WebSocket URL (browsers
// cannot set headers on it); Authenticate reads it, or a cookie.
//
// # Delivery
//
// Send returns nil only after the page has called
// window.parent.postMessage with the message's exact [assistant.Encode]
// bytes and acknowledged its id. Each message gets an id unique in the Hub
// and is written once, to one connection: it is never resent. The bridge
// posts an id at most once (it acks a repeated id without posting it
// again), and drops the messages it has not posted yet when its socket
// closes. So a message reaches the host at most once, and a Send that
// returned nil reached it exactly once.
//
// When a connection ends before the ack (cut, page reload, a reconnect with
// the same id taking over, Hub closed), its pending Sends fail with
// [ErrDisconnected]; they are not moved to the new connection, because a
// reloaded page cannot know what its previous instance posted. Such a
// message may or may not have reached the host (it may have been posted
// just before the cut). Sends made while no page is connected fail at once
// with [ErrNotConnected]: retry them after the page reconnects.
//
// # Pacing
//
// The bridge posts messages at least data-interval-ms apart (default 1100,
// never less than 1000) measured with performance.now() in the page, so
// network jitter cannot bring two messages closer at the host than that.
// The 100 ms margin is for the browser's own delivery of postMessage from
// the component's process to the host's, which is not instant either: on a
// loaded 2-core machine, with the page posting 1010 ms apart, the host was
// seen to receive two messages 924 ms apart. The bridge counts its own
// start as a post, so the first message after a page (re)load waits up to
// one interval.
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
// snapshot of pages, Sends by outcome and ack latency, and [Hub.Shutdown]
// drains the Hub for a deploy: the pages it closes with 1001 reconnect,
// possibly to another replica.
//
// # Limits
//
// Each connection costs one goroutine (the request's) and its buffers; a
// page may have at most Options.MaxPending unacknowledged messages; frames
// from a page larger than Options.MaxFrameSize, malformed, or acking ids
// never sent close that page's connection (see [ErrProtocol]); a page that
// stops reading is dropped after Options.WriteTimeout and a silent one after
// Options.IdleTimeout. None of this blocks other pages.
package wsbridge
