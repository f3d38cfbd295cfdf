//go:build !js

package natsroute

import "errors"

// Errors returned by a Router's Senders, besides the wsbridge errors the
// page's replica reports (wsbridge.ErrNotConnected, ErrDisconnected,
// ErrAckTimeout, ErrTooManyPending, ErrRefused, ErrTooLarge: same meanings
// as locally; see Router.Sender). Match them with errors.Is.
var (
	// ErrTimeout: the Send's context ended (deadline or cancel) before the
	// page's replica answered. It is AMBIGUOUS: the message may have
	// reached the host, or may still reach it until the request's
	// deadline (the replica drops requests whose deadline has passed), or
	// not at all. The error also wraps ctx.Err().
	ErrTimeout = errors.New("natsroute: no answer from the page's replica in time; the message may or may not reach the page")
	// ErrUnavailable: the NATS connection is not connected (reconnecting,
	// draining or closed) or refused the request. Nothing was sent. Pages
	// connected to this replica's Hub are still reached without NATS.
	ErrUnavailable = errors.New("natsroute: NATS unavailable")
	// ErrTooLarge: the request (encoded message and headers) exceeds the
	// NATS server's maximum payload. Nothing was sent.
	ErrTooLarge = errors.New("natsroute: message larger than the NATS max payload")
	// ErrRemote: the page's replica failed the send for a reason this
	// replica's version does not know (the error text says which). Whether
	// the message reached the page is unknown.
	ErrRemote = errors.New("natsroute: the page's replica failed the send")
	// ErrClosed: the Router is closed.
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
