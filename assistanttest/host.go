package assistanttest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/imworkspace/assistant"
)

// ErrTooFast is matched (errors.Is) by a Host's refusal of a message that
// arrived less than its interval after the previous one.
var ErrTooFast = errors.New("assistanttest: message arrived too soon after the previous one")

// TooFastError is a Host's refusal of a message that came too soon. It
// matches ErrTooFast.
type TooFastError struct {
	Gap time.Duration // since the previous message
	Min time.Duration // the host's interval
}

func (e *TooFastError) Error() string {
	return fmt.Sprintf("assistanttest: message %v after the previous one, host needs %v", e.Gap, e.Min)
}

// Is reports whether target is ErrTooFast.
func (e *TooFastError) Is(target error) bool { return target == ErrTooFast }

// Delivery is assistant.NotDelivered: the host took nothing from the
// message, and it may be sent again after the interval.
func (e *TooFastError) Delivery() assistant.Delivery { return assistant.NotDelivered }

// Host is an assistant.Sender that acts as a strict workspace host: it
// receives each message's wire bytes, decodes them with assistant.Decode,
// applies the channel rules and refuses a message that arrives less than
// Interval after the previous one (accepted or not: the host sees both).
// Refusals are returned as errors: what a real host would drop silently.
//
// Wrap your own Sender stack around a Host in tests. Set the fields before
// the first Send; Host is safe for concurrent use after that.
type Host struct {
	Channel  assistant.Channel // the customer's channel; the zero Channel is an "other" channel
	Rules    assistant.Rules   // nil means assistant.DefaultRules()
	Interval time.Duration     // 0 means assistant.DefaultInterval
	Now      func() time.Time  // nil means time.Now

	mu       sync.Mutex
	last     time.Time
	accepted []Record
	defaults assistant.Rules // DefaultRules, made on first use when Rules is nil
}

// NewHost returns a Host for the channel with the default rules and interval.
func NewHost(ch assistant.Channel) *Host { return &Host{Channel: ch} }

// Send encodes m as a transport would and passes the bytes to Receive.
// Like assistant.RateLimited, it returns the validation error of an
// invalid m first (assistant.Rejected), then ctx.Err() wrapped as
// assistant.NotDelivered if ctx is done; neither reaches Receive.
func (h *Host) Send(ctx context.Context, m assistant.Message) error {
	wire, err := assistant.Encode(m)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return assistant.WithDelivery(err, assistant.NotDelivered)
	}
	return h.Receive(wire)
}

// Receive takes wire bytes as the host page would get them and returns why
// it refuses them (an error matching assistant.ErrInvalid or
// assistant.ErrNotAllowed, both assistant.Rejected, or ErrTooFast,
// assistant.NotDelivered), or nil once accepted. Wire bytes
// longer than assistant.MaxMessageSize are refused unread, with an error
// matching assistant.ErrTooLarge (and ErrInvalid).
func (h *Host) Receive(wire []byte) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	now := time.Now()
	if h.Now != nil {
		now = h.Now()
	}
	prev := h.last
	h.last = now
	if !prev.IsZero() {
		interval := h.Interval
		if interval == 0 {
			interval = assistant.DefaultInterval
		}
		if gap := now.Sub(prev); gap < interval {
			return &TooFastError{Gap: gap, Min: interval}
		}
	}
	m, err := assistant.Decode(wire)
	if err != nil {
		return err
	}
	rules := h.Rules
	if rules == nil {
		if h.defaults == nil {
			h.defaults = assistant.DefaultRules()
		}
		rules = h.defaults
	}
	if err := rules.Check(h.Channel, m); err != nil {
		return err
	}
	h.accepted = append(h.accepted, Record{Message: m, Wire: append([]byte(nil), wire...), At: now})
	return nil
}

// Accepted returns a copy of the accepted messages, in arrival order.
func (h *Host) Accepted() []Record {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]Record(nil), h.accepted...)
}
