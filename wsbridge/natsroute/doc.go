// Package natsroute routes wsbridge sends between the replicas of a
// service through NATS, so that a Send on any replica reaches a component
// page whose WebSocket landed on any other.
//
//	nc, err := nats.Connect(url, nats.MaxReconnects(-1), nats.ReconnectBufSize(-1))
//	r, err := natsroute.New(nc, wsbridge.Options{ /* as for NewHub */ }, natsroute.Options{})
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
// A claim stamped more than an hour ahead of the hearing replica's clock
// is ignored, so keep the replicas' clocks in sync.
package natsroute
