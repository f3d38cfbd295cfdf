//go:build !js

package wsbridge

import (
	"context"
	"errors"
	"time"

	"github.com/imworkspace/assistant"
)

// Hooks are callbacks for what happens in a Hub: pages connecting and
// disconnecting, Sends ending, pages breaking the protocol. Options.Hooks
// holds any number of them (an application's own, [otelwsbridge], a
// router): every entry is called, in order, for every event. Nil funcs are
// skipped.
//
// Hooks are called synchronously on the goroutine where the event happens
// and never with a Hub lock held, so they may call the Hub (Connected,
// Stats, Sender, Replace). A slow hook costs only its own event's
// goroutine: a slow Connect or Disconnect delays that page's reads (and a
// newer connection with the same id, see below), a slow Send delays that
// Send's return, a slow Violation delays that page's disconnect or that
// refused request's response, and Close and Shutdown wait for the
// Disconnect hooks of the pages they close. Other pages and Sends are not
// held up. Do not block in a hook; hand slow work to a goroutine you own.
//
// For one page id, events come in order: a connection's Connect returns
// before its Disconnect is called, and an older connection's Disconnect
// returns before a newer connection's Connect is called. Disconnect is
// called exactly once per Connect, also when the Hub closes.
//
// [otelwsbridge]: https://pkg.go.dev/github.com/imworkspace/assistant/wsbridge/otelwsbridge
type Hooks struct {
	Connect    func(ConnectInfo)    // after the page is registered and can receive Sends
	Disconnect func(DisconnectInfo) // after the page is unregistered; exactly once per Connect
	Send       func(SendInfo)       // when a Send on the Hub returns, whatever its outcome
	Violation  func(ViolationInfo)  // a page broke the protocol, or a connection was refused
}

// ConnectInfo describes a page connection that was registered.
type ConnectInfo struct {
	ID         string    // page id
	Conn       uint64    // connection number: unique per Hub, increasing, never reused
	RemoteAddr string    // the request's RemoteAddr (behind a proxy, the proxy's)
	Time       time.Time // when it was registered
}

// DisconnectInfo describes a page connection that ended.
type DisconnectInfo struct {
	ID    string
	Conn  uint64 // as in the ConnectInfo
	Cause error  // why: matches ErrReplaced, ErrClosed (Close or Shutdown), ErrProtocol, or is a read or write error
}

// SendInfo describes a Send that returned. It never holds the message.
type SendInfo struct {
	ID      string
	Outcome Outcome
	// Delivery is assistant.DeliveryOf of the Send's error: it tells the
	// outcomes that sent nothing (NotDelivered, Rejected) from those that
	// may have reached the host (MaybeDelivered), also for OutcomeCanceled,
	// which is either.
	Delivery assistant.Delivery
	Duration time.Duration // from the call to Send to its return, waiting for the page's turn included
	Bytes    int           // size of the encoded message; 0 if it did not encode
}

// ViolationInfo describes a page that broke the bridge protocol (it was
// disconnected) or a connection request that was refused.
type ViolationInfo struct {
	// ID is the page id; "" when the id itself was refused (ids are
	// validated before any callback, so this is always a valid id or "").
	ID  string
	Err error // what was wrong
}

// Outcome is how a Send ended.
type Outcome uint8

// Outcomes of a Send.
const (
	OutcomeAcked          Outcome = iota + 1 // nil error: the page posted the message and acknowledged it
	OutcomeNotConnected                      // ErrNotConnected
	OutcomeDisconnected                      // ErrDisconnected
	OutcomeTimeout                           // ErrAckTimeout
	OutcomeRefused                           // ErrRefused: the page refused the message
	OutcomeTooLarge                          // ErrTooLarge: the encoded message is over MaxMessageSize
	OutcomeTooManyPending                    // ErrTooManyPending
	OutcomeCanceled                          // the Send's context ended: NotDelivered before the write, MaybeDelivered waiting for the ack (see SendInfo.Delivery)
	OutcomeInvalid                           // the message did not validate; nothing was sent
	OutcomeClosed                            // ErrClosed: the Hub is closed or shutting down; nothing was sent
)

const numOutcomes = int(OutcomeClosed) + 1

var outcomeNames = [numOutcomes]string{
	"unknown", "acked", "not_connected", "disconnected", "timeout", "refused",
	"too_large", "too_many_pending", "canceled", "invalid", "closed",
}

// String returns the outcome's name as used in metrics and logs: "acked",
// "not_connected", "disconnected", "timeout", "refused", "too_large",
// "too_many_pending", "canceled", "invalid", "closed"; "unknown" for any
// other value.
func (o Outcome) String() string {
	if int(o) < numOutcomes {
		return outcomeNames[o]
	}
	return "unknown"
}

// outcomeOf classifies a Send's error. Order matters: a disconnect wraps
// its cause (which may be ErrClosed).
func outcomeOf(err error) Outcome {
	switch {
	case err == nil:
		return OutcomeAcked
	case errors.Is(err, ErrDisconnected):
		return OutcomeDisconnected
	case errors.Is(err, ErrNotConnected):
		return OutcomeNotConnected
	case errors.Is(err, ErrAckTimeout):
		return OutcomeTimeout
	case errors.Is(err, ErrRefused):
		return OutcomeRefused
	case errors.Is(err, ErrTooLarge):
		return OutcomeTooLarge
	case errors.Is(err, ErrTooManyPending):
		return OutcomeTooManyPending
	case errors.Is(err, ErrClosed):
		return OutcomeClosed
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return OutcomeCanceled
	default:
		return OutcomeInvalid
	}
}

func (h *Hub) hookConnect(i ConnectInfo) {
	for _, k := range h.opts.Hooks {
		if k.Connect != nil {
			k.Connect(i)
		}
	}
}

func (h *Hub) hookDisconnect(i DisconnectInfo) {
	for _, k := range h.opts.Hooks {
		if k.Disconnect != nil {
			k.Disconnect(i)
		}
	}
}

func (h *Hub) hookSend(i SendInfo) {
	for _, k := range h.opts.Hooks {
		if k.Send != nil {
			k.Send(i)
		}
	}
}

func (h *Hub) hookViolation(i ViolationInfo) {
	for _, k := range h.opts.Hooks {
		if k.Violation != nil {
			k.Violation(i)
		}
	}
}
