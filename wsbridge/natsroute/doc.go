// Package natsroute routes wsbridge sends between the replicas of a
// service through NATS, so that a Send on any replica reaches a component
// page whose WebSocket landed on any other.
//
//	nc, err := nats.Connect(url, nats.MaxReconnects(-1), nats.ReconnectBufSize(-1))
//	r, err := natsroute.New(nc, wsbridge.Options{ /* as for NewHub */ }, natsroute.Options{
//		Keys: [][]byte{routeKey}, // 32+ secret bytes, the same on every replica
//	})
//	defer r.Close()
//	mux.Handle("/ws", r.Hub())
//
//	err = r.Sender("conv-1").Send(ctx, assistant.NewText("Your order has shipped."))
//	// nil: the page posted it to the host and acknowledged it, once.
//
// # How
//
// The replica whose Hub holds a page's socket queue-subscribes to the
// page's subject (the prefix, "page", and the id's base64url encoding: ids
// never appear raw in subjects), and unsubscribes once the page has gone
// (and another replica has claimed it, see below). A
// Send on another replica is a NATS request to that subject; the owner
// sends the message through its own Hub, which paces the page, and replies
// with the outcome. A page connected to the sending replica is sent to
// directly.
//
// When a page reconnects to another replica, the new owner subscribes and
// then announces a claim; a replica still holding an older connection for
// that id closes it with wsbridge.StatusReplaced, as a Hub does locally.
// Sends in flight there fail with wsbridge.ErrDisconnected or complete
// once; both owners may briefly be subscribed, but a queue subscription
// hands each request to one of them only. A replica hearing a claim older
// than its own connection answers with its own claim, and each replica
// announces its pages again after reconnecting to NATS, so a lost claim is
// made up for once NATS is back.
//
// # What a Send's error means
//
// The same as on the page's own replica: the owner's answer carries the
// error's assistant.DeliveryOf class and the sentinels it matched, so
// errors.Is and DeliveryOf give the same answers wherever the page is.
// Retry NotDelivered errors (through any replica); do not blindly retry
// MaybeDelivered ones (wsbridge.ErrDisconnected, ErrAckTimeout,
// ErrTimeout). A replica that shuts down answers "moving" to the
// requests it can no longer serve, and a Send then looks for the page
// again (a few times, Options.RetryDelay apart) before it returns
// wsbridge.ErrNotConnected, NotDelivered.
//
// # Trust boundary
//
// Give the service's replicas a NATS account (or users) allowed to publish
// and subscribe "<prefix>.>" and "_INBOX.>" only, with one prefix per
// service, and no one else those permissions. Within it, Options.Keys
// (shared by the replicas, never the page token key) protects the rest:
// every request, reply, withdrawal (a caller's cancel) and claim is sealed
// with XChaCha20-Poly1305, with the subjects it travels on, the sending
// replica, the time it was sealed and the request id inside the seal. So
// a client on the account, or a NATS operator, sees subjects (a page id's
// base64url form) and sizes but no message, error text or request id;
// what it forges, alters, moves to another subject or replays later than
// a few seconds is dropped unread and counted (Router.Dropped); a request
// replayed within those seconds is answered from the owner's memory of
// it, not posted again; a reply or a withdrawal is bound to its request
// (its request id, and for a reply a reply subject used once), so a
// captured one cannot answer or cancel another request.
//
// What the key does not protect is availability. A client allowed on the
// subjects can join the owners' queue group and swallow the requests it
// is handed: those Sends end in ErrTimeout (ambiguous), never in nil. It
// can publish NATS's own "no responders" status to a Send's reply subject,
// which cannot be authenticated: that Send then reports
// wsbridge.ErrNotConnected while the page's replica may still deliver it.
// Likewise it can capture a request that found no replica (the Send
// reported wsbridge.ErrNotConnected) and replay it, within 5 s, to a
// replica that has taken the page since. It can flood the subjects. Only
// the account's permissions keep such a client out.
//
// To rotate the key without losing a message: deploy Keys [old, new] to
// every replica (they seal with old, accept both), then [new, old] (seal
// with new), then [new]. A replica that holds neither of a message's keys
// drops it: a Send between them ends in ErrTimeout, and a claim is lost.
// Replicas' clocks must agree within a few seconds (NTP): a message sealed
// more than 5 s ahead of, or earlier than 5 s before, the receiver's clock
// is dropped.
//
// The owner is bounded: it serves a request no longer than its own
// Options.Timeout whatever deadline the request carries, at most
// Options.MaxPerPage at once for one page and Options.MaxHeldBytes of
// messages for all; beyond them a Send fails with
// wsbridge.ErrTooManyPending, with nothing sent.
//
// # What is not promised
//
// No history, replay or queueing: a page that is not connected anywhere
// gets wsbridge.ErrNotConnected, and a page that reconnects starts empty.
// Reload what the user should see from your own source of truth.
//
// ErrTimeout stays ambiguous: it means no answer came from the page's
// replica before ctx ended (that replica stuck or killed, NATS losing the
// answer). A replica keeps a page's subscription after the page leaves,
// answering "moving", until another replica claims the page (or 3 s
// pass); a request NATS routes to a replica at the very moment its last
// subscription for the page ends (Close, or a page that came back
// nowhere) can be dropped by the NATS server unanswered, and its Send
// ends with ErrTimeout. Router.Shutdown avoids that for pages that
// reconnect elsewhere; Router.Close does not wait.
//
// Claims travel over NATS: while NATS is down (or in the moments before a
// new replica's claim subscription has reached every server), a page that
// reconnects to another replica does not close its older connection yet.
// A claim stamped more than 5 s ahead of the hearing replica's clock
// is ignored, so keep the replicas' clocks in sync.
package natsroute
