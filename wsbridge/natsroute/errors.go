//go:build !js

package natsroute

import "errors"

// Errors returned by a Router's Senders, besides those the page's replica
// reports (the wsbridge errors, ctx errors, *assistant.RateLimitedError:
// the same sentinels and the same assistant.DeliveryOf as a local Send
// there; see Router.Sender). Match them with errors.Is; read what to do
// with assistant.DeliveryOf, whose class each one states.
var (
	// ErrTimeout: the Send's context ended (deadline or cancel) while it
	// waited for the page's replica to answer: MaybeDelivered. The
	// message may have reached the host, or may not at all; it is never
	// posted after the request's deadline. The error also wraps ctx.Err().
	//
	// It means that no answer came: the page's replica works to a deadline
	// a little earlier than ctx's (up to 100 ms) and answers "not sent"
	// when it gives up, and a canceled Send withdraws its request and
	// waits up to a second for that replica to say whether the message
	// went. What is left is a replica that is slow, stuck or gone, or an
	// answer NATS lost.
	ErrTimeout = errors.New("natsroute: no answer from the page's replica in time; the message may or may not reach the page")
	// ErrUnavailable: the NATS connection is not connected (reconnecting,
	// draining or closed) or refused the request: NotDelivered. Pages
	// connected to this replica's Hub are still reached without NATS. If
	// the connection failed after the request went (it was closed, say),
	// the error wraps nats's error and is MaybeDelivered.
	ErrUnavailable = errors.New("natsroute: NATS unavailable")
	// ErrTooLarge: the request (encoded message and headers) exceeds the
	// NATS server's maximum payload. Nothing was sent: Rejected.
	ErrTooLarge = errors.New("natsroute: message larger than the NATS max payload")
	// ErrRemote: the page's replica gave an answer this replica cannot
	// read (another version, or corrupted): MaybeDelivered; or it could
	// not read the request: Rejected.
	ErrRemote = errors.New("natsroute: the page's replica failed the send")
	// ErrClosed: the Router is closed or shutting down. Nothing was sent:
	// NotDelivered; send it through another replica.
	ErrClosed = errors.New("natsroute: router closed")
)

// Errors of New about Options.Keys.
var (
	// ErrNoKey: Options.Keys is empty and Options.InsecureNoKey is not
	// set. The replicas must share a key (see Options.Keys).
	ErrNoKey = errors.New("natsroute: no key: set Options.Keys (or, only where every client of the NATS account is trusted, Options.InsecureNoKey)")
	// ErrBadKey: a key of Options.Keys is shorter than MinKeySize, or
	// there are more than 4.
	ErrBadKey = errors.New("natsroute: bad key in Options.Keys")
)
