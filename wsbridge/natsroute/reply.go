//go:build !js

package natsroute

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/imworkspace/assistant"
	"github.com/imworkspace/assistant/wsbridge"
	"github.com/nats-io/nats.go"
)

// The owner answers a request with an empty message carrying
//
//	Wsbridge-Status:   ok | failed | moving | invalid
//	Wsbridge-Delivery: not_delivered | rejected | maybe_delivered  (failed only)
//	Wsbridge-Is:       codes of the sentinels the error matched, by commas (failed only)
//	Wsbridge-Reason:   the *wsbridge.RefusedError's Reason (with the code refused)
//	Wsbridge-Delay:    the *assistant.RateLimitedError's Delay in ns (with rate_limited)
//	Wsbridge-Error:    the owner's error text, at most 256 bytes (never message content)
//
// ok: posted once. failed: the owner's Hub Send returned that error, and
// the caller returns one with the same assistant.DeliveryOf and the same
// errors.Is sentinels. moving: the page is not (or no longer) at that
// replica, or the replica is shutting down; nothing was sent, so the
// caller looks again. invalid: the owner could not read the request;
// nothing was sent.
//
// The caller decodes strictly: an unknown status or class, a repeated
// code, a reason or delay without its code or out of bounds make the
// whole answer ErrRemote, MaybeDelivered. A well-formed code it does not
// know (from a newer owner) is skipped.
const (
	hdrStatus   = "Wsbridge-Status"
	hdrDelivery = "Wsbridge-Delivery"
	hdrIs       = "Wsbridge-Is"
	hdrReason   = "Wsbridge-Reason"
	hdrDelay    = "Wsbridge-Delay"
	hdrError    = "Wsbridge-Error"
)

const (
	statusOK      = "ok"
	statusFailed  = "failed"
	statusMoving  = "moving"
	statusInvalid = "invalid"
)

// Bounds of an answer's fields.
const (
	maxErrorText = 256
	maxIsLen     = 512
	maxCodeLen   = 32
	maxReasonLen = 64
	maxDelay     = 24 * time.Hour
)

// Codes of the sentinels an owner's error can match, in the order the
// rebuilt error unwraps to them. refused and rate_limited are rebuilt as
// their typed errors, with the reason or delay.
var sentinels = []struct {
	code string
	err  error
}{
	{"not_connected", wsbridge.ErrNotConnected},
	{"bad_id", wsbridge.ErrBadID},
	{"disconnected", wsbridge.ErrDisconnected},
	{"replaced", wsbridge.ErrReplaced},
	{"protocol", wsbridge.ErrProtocol},
	{"ack_timeout", wsbridge.ErrAckTimeout},
	{"too_many_pending", wsbridge.ErrTooManyPending},
	{"too_large", wsbridge.ErrTooLarge},
	{"refused", wsbridge.ErrRefused},
	{"closed", wsbridge.ErrClosed},
	{"invalid", assistant.ErrInvalid},
	{"message_too_large", assistant.ErrTooLarge},
	{"not_allowed", assistant.ErrNotAllowed},
	{"rate_limited", assistant.ErrRateLimited},
	{"canceled", context.Canceled},
	{"deadline_exceeded", context.DeadlineExceeded},
}

var deliveryNames = map[string]assistant.Delivery{
	assistant.MaybeDelivered.String(): assistant.MaybeDelivered,
	assistant.NotDelivered.String():   assistant.NotDelivered,
	assistant.Rejected.String():       assistant.Rejected,
}

func newReply(status string) *nats.Msg {
	m := &nats.Msg{Header: nats.Header{}}
	m.Header.Set(hdrStatus, status)
	return m
}

// movingReply answers a request for a page this replica does not hold
// (any more), or that arrived while it shuts down.
func movingReply() *nats.Msg { return newReply(statusMoving) }

// replyTo builds the answer carrying the owner's Hub Send result. moving
// reports an error that only says the page is not here (nothing sent).
func replyTo(err error) (m *nats.Msg, moving bool) {
	if err == nil {
		return newReply(statusOK), false
	}
	if hereNot(err) {
		return movingReply(), true
	}
	m = newReply(statusFailed)
	m.Header.Set(hdrDelivery, assistant.DeliveryOf(err).String())
	var codes []string
	for _, s := range sentinels {
		if errors.Is(err, s.err) {
			codes = append(codes, s.code)
		}
	}
	if len(codes) > 0 {
		m.Header.Set(hdrIs, strings.Join(codes, ","))
	}
	var refused *wsbridge.RefusedError
	if errors.As(err, &refused) && validReason(refused.Reason) {
		m.Header.Set(hdrReason, refused.Reason)
	}
	var limited *assistant.RateLimitedError
	if errors.As(err, &limited) && limited.Delay >= 0 && limited.Delay <= maxDelay {
		m.Header.Set(hdrDelay, strconv.FormatInt(int64(limited.Delay), 10))
	}
	m.Header.Set(hdrError, cleanText(err.Error()))
	return m, false
}

// hereNot reports an owner-side error that says only that the page is
// not at this replica (gone, or its Hub closing), nothing sent: the
// caller should look for it elsewhere. An id no page can have (ErrBadID)
// and a write that failed are not that.
func hereNot(err error) bool {
	return (errors.Is(err, wsbridge.ErrNotConnected) || errors.Is(err, wsbridge.ErrClosed)) &&
		!errors.Is(err, wsbridge.ErrBadID) && !errors.Is(err, wsbridge.ErrDisconnected)
}

// busyReply answers a request refused at one of the owner's bounds
// (MaxInFlight, MaxPerPage, MaxHeldBytes; text says which): nothing sent.
func busyReply(text string) *nats.Msg {
	m := newReply(statusFailed)
	m.Header.Set(hdrDelivery, assistant.NotDelivered.String())
	m.Header.Set(hdrIs, "too_many_pending")
	m.Header.Set(hdrError, text)
	return m
}

// expiredReply answers a request that reached the owner after its
// deadline: not sent, as locally when ctx's deadline falls before the
// page's turn.
func expiredReply() *nats.Msg {
	m := newReply(statusFailed)
	m.Header.Set(hdrDelivery, assistant.NotDelivered.String())
	m.Header.Set(hdrIs, "deadline_exceeded")
	m.Header.Set(hdrError, "natsroute: the request reached the page's replica after its deadline; not sent")
	return m
}

// cleanText bounds s and keeps it printable: it goes into a header line
// and into error texts.
func cleanText(s string) string {
	if len(s) > maxErrorText {
		s = s[:maxErrorText]
	}
	s = strings.ToValidUTF8(s, "")
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return -1
		}
		return r
	}, s)
}

func validReason(s string) bool { return s != "" && len(s) <= maxReasonLen && isCode(s) }

func isCode(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 'a' || c > 'z') && c != '_' {
			return false
		}
	}
	return true
}

// remoteError is the error of a Send that failed at the page's replica,
// rebuilt from its answer: it has the owner's class and unwraps to the
// sentinels (and typed errors) the owner's error matched there.
type remoteError struct {
	id   string
	text string
	d    assistant.Delivery
	errs []error
}

func (e *remoteError) Error() string {
	return fmt.Sprintf("natsroute: page %q: at its replica: %s", e.id, e.text)
}
func (e *remoteError) Unwrap() []error              { return e.errs }
func (e *remoteError) Delivery() assistant.Delivery { return e.d }

// Answer kinds for the caller.
const (
	answerDone   = iota // err is the Send's result
	answerMoving        // look for the page again
)

// replyError turns an answer into the Send's result.
func replyError(id string, m *nats.Msg) (err error, kind int) {
	h := m.Header
	switch h.Get(hdrStatus) {
	case statusOK:
		return nil, answerDone
	case statusMoving:
		return nil, answerMoving
	case statusInvalid:
		return &remoteError{id: id, text: "it could not read the request", d: assistant.Rejected, errs: []error{ErrRemote}}, answerDone
	case statusFailed:
		if err := parseFailed(id, h); err != nil {
			return err, answerDone
		}
	}
	return &remoteError{id: id, text: "malformed answer", errs: []error{ErrRemote}}, answerDone
}

// parseFailed rebuilds a failed answer's error, or returns nil if the
// answer is malformed.
func parseFailed(id string, h nats.Header) error {
	d, ok := deliveryNames[h.Get(hdrDelivery)]
	if !ok || len(h[hdrDelivery]) != 1 || len(h[hdrIs]) > 1 || len(h[hdrReason]) > 1 || len(h[hdrDelay]) > 1 || len(h[hdrError]) > 1 {
		return nil
	}
	is := h.Get(hdrIs)
	if len(is) > maxIsLen {
		return nil
	}
	e := &remoteError{id: id, d: d}
	seen := make(map[string]bool)
	var refused, limited bool
	if is != "" {
		for _, code := range strings.Split(is, ",") {
			if code == "" || len(code) > maxCodeLen || !isCode(code) || seen[code] {
				return nil
			}
			seen[code] = true
		}
	}
	for _, s := range sentinels { // in the table's order, whatever the answer's
		if !seen[s.code] {
			continue
		}
		switch s.code {
		case "refused":
			reason := h.Get(hdrReason)
			if !validReason(reason) {
				return nil
			}
			refused = true
			e.errs = append(e.errs, &wsbridge.RefusedError{Reason: reason})
		case "rate_limited":
			ns, err := strconv.ParseInt(h.Get(hdrDelay), 10, 64)
			if err != nil || ns < 0 || ns > int64(maxDelay) {
				return nil
			}
			limited = true
			e.errs = append(e.errs, &assistant.RateLimitedError{Delay: time.Duration(ns)})
		default:
			e.errs = append(e.errs, s.err)
		}
	}
	if !refused && h.Get(hdrReason) != "" || !limited && h.Get(hdrDelay) != "" {
		return nil
	}
	text := h.Get(hdrError)
	if len(text) > maxErrorText {
		return nil
	}
	e.text = cleanText(text)
	if e.text == "" {
		e.text = "failed"
	}
	return e
}
