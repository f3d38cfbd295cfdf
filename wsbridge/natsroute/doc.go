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
// never appear raw in subjects), and unsubscribes when the page goes. A
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
// # What is not promised
//
// No history, replay or queueing: a page that is not connected anywhere
// gets wsbridge.ErrNotConnected, and a page that reconnects starts empty.
// Reload what the user should see from your own source of truth. ErrTimeout
// is ambiguous. Claims travel over NATS: while NATS is down (or in the
// moments before a new replica's claim subscription has reached every
// server), a page that reconnects to another replica does not close its
// older connection yet. A claim stamped more than an hour ahead of the
// hearing replica's clock is ignored, so keep the replicas' clocks in sync.
package natsroute
