//go:build !js

package natsroute

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/imworkspace/assistant"
	"github.com/imworkspace/assistant/wsbridge"
	"github.com/nats-io/nats.go"
)

func TestRequestWire(t *testing.T) {
	deadline := time.Unix(1_800_000_000, 123)
	m := newRequest("wsbridge.page.Y29udi0x", "r1.7", deadline, []byte(`{"method":"sendMsg","type":"text","content":"hi"}`))
	want := nats.Header{
		"Wsbridge-Request":  {"r1.7"},
		"Wsbridge-Deadline": {"1800000000000000123"},
	}
	if d := cmp.Diff(want, m.Header); d != "" {
		t.Errorf("headers (-want +got):\n%s", d)
	}
	id, dl, err := parseRequest(m)
	if err != nil || id != "r1.7" || !dl.Equal(deadline) {
		t.Errorf("parseRequest = %q, %v, %v; want r1.7, %v, nil", id, dl, err, deadline)
	}
	if got, want := headerSize(m), len("NATS/1.0\r\nWsbridge-Request: r1.7\r\nWsbridge-Deadline: 1800000000000000123\r\n\r\n"); got != want {
		t.Errorf("headerSize = %d, want %d", got, want)
	}
}

func TestParseRequestRejects(t *testing.T) {
	for name, h := range map[string]nats.Header{
		"no id":          {"Wsbridge-Deadline": {"1"}},
		"no deadline":    {"Wsbridge-Request": {"r.1"}},
		"bad deadline":   {"Wsbridge-Request": {"r.1"}, "Wsbridge-Deadline": {"soon"}},
		"zero deadline":  {"Wsbridge-Request": {"r.1"}, "Wsbridge-Deadline": {"0"}},
		"huge id":        {"Wsbridge-Request": {string(make([]byte, 200))}, "Wsbridge-Deadline": {"1"}},
		"no headers":     nil,
		"negative":       {"Wsbridge-Request": {"r.1"}, "Wsbridge-Deadline": {"-5"}},
		"overflow":       {"Wsbridge-Request": {"r.1"}, "Wsbridge-Deadline": {"99999999999999999999"}},
		"lowercase keys": {"wsbridge-request": {"r.1"}, "wsbridge-deadline": {"1"}},
	} {
		if _, _, err := parseRequest(&nats.Msg{Header: h}); err == nil {
			t.Errorf("%s: parseRequest = nil error", name)
		}
	}
}

// Each owner-side result travels as its class and sentinel codes and
// comes back as an error with the same assistant.DeliveryOf and the same
// errors.Is answers for every sentinel, so callers see the same outcome
// wherever the page is.
func TestReplyRoundTrip(t *testing.T) {
	pe := func(errs ...error) error { return errors.Join(errs...) }
	mark := assistant.WithDelivery
	for _, owner := range []error{
		mark(pe(wsbridge.ErrDisconnected, errors.New("hub closed")), assistant.MaybeDelivered),
		mark(pe(wsbridge.ErrDisconnected, wsbridge.ErrReplaced), assistant.MaybeDelivered),
		mark(pe(wsbridge.ErrDisconnected, wsbridge.ErrProtocol), assistant.MaybeDelivered),
		mark(pe(wsbridge.ErrAckTimeout), assistant.MaybeDelivered),
		mark(pe(wsbridge.ErrTooManyPending), assistant.NotDelivered),
		mark(fmt.Errorf("waiting for its turn: %w", context.DeadlineExceeded), assistant.NotDelivered),
		mark(fmt.Errorf("waiting for its turn: %w", context.Canceled), assistant.NotDelivered),
		mark(fmt.Errorf("waiting for ack: %w", context.Canceled), assistant.MaybeDelivered),
		fmt.Errorf("waiting for ack: %w", context.DeadlineExceeded), // unmarked: MaybeDelivered
		pe(&wsbridge.RefusedError{Reason: wsbridge.ReasonWrongParent}),
		mark(pe(&wsbridge.RefusedError{Reason: wsbridge.ReasonInvalid}), assistant.Rejected),
		mark(pe(wsbridge.ErrTooLarge, assistant.ErrTooLarge), assistant.Rejected),
		mark(&assistant.RateLimitedError{Delay: 1234 * time.Millisecond}, assistant.NotDelivered),
		&assistant.SyntaxError{Msg: "x"},
		errors.New("something new"),
	} {
		reply, moving := replyTo(owner)
		if moving {
			t.Errorf("replyTo(%v) says moving", owner)
			continue
		}
		got, kind := replyError("p", reply)
		if kind != answerDone || got == nil {
			t.Errorf("replyError(replyTo(%v)) = %v, kind %d", owner, got, kind)
			continue
		}
		if g, w := assistant.DeliveryOf(got), assistant.DeliveryOf(owner); g != w {
			t.Errorf("%v: DeliveryOf = %v, want %v", owner, g, w)
		}
		for _, s := range sentinels {
			if g, w := errors.Is(got, s.err), errors.Is(owner, s.err); g != w {
				t.Errorf("%v: errors.Is(%v) = %v, want %v", owner, s.err, g, w)
			}
		}
		var r1, r2 *wsbridge.RefusedError
		if errors.As(owner, &r1) && (!errors.As(got, &r2) || r2.Reason != r1.Reason) {
			t.Errorf("%v: refused reason lost: %v", owner, got)
		}
		var l1, l2 *assistant.RateLimitedError
		if errors.As(owner, &l1) && (!errors.As(got, &l2) || l2.Delay != l1.Delay) {
			t.Errorf("%v: delay lost: %v", owner, got)
		}
		if !strings.Contains(got.Error(), cleanText(owner.Error())) {
			t.Errorf("%v: text %q", owner, got)
		}
	}
	for _, owner := range []error{
		errors.Join(wsbridge.ErrNotConnected),
		errors.Join(wsbridge.ErrClosed),
	} {
		if reply, moving := replyTo(owner); !moving || reply.Header.Get(hdrStatus) != statusMoving {
			t.Errorf("replyTo(%v) = %v, want moving", owner, reply.Header)
		}
	}
	// An id no page can have is the caller's to see; an owner never gets
	// one, but if it did, it is not "moving".
	if _, moving := replyTo(errors.Join(wsbridge.ErrNotConnected, wsbridge.ErrBadID)); moving {
		t.Error("ErrBadID answered as moving")
	}
	if err, kind := replyError("p", busyReply("natsroute: busy")); kind != answerDone || !errors.Is(err, wsbridge.ErrTooManyPending) || assistant.DeliveryOf(err) != assistant.NotDelivered {
		t.Errorf("busy: %v, want ErrTooManyPending, NotDelivered", err)
	}
	if err, _ := replyError("p", expiredReply()); !errors.Is(err, context.DeadlineExceeded) || assistant.DeliveryOf(err) != assistant.NotDelivered {
		t.Errorf("expired: %v, want DeadlineExceeded, NotDelivered", err)
	}
}

// Answers are hostile input: anything malformed is ErrRemote,
// MaybeDelivered, never a panic and never a class the answer did not
// validly claim.
func TestReplyMalformed(t *testing.T) {
	h := func(kv ...string) *nats.Msg {
		m := &nats.Msg{Header: nats.Header{}}
		for i := 0; i+1 < len(kv); i += 2 {
			m.Header.Add(kv[i], kv[i+1])
		}
		return m
	}
	for name, m := range map[string]*nats.Msg{
		"no headers":        {},
		"unknown status":    h(hdrStatus, "fine"),
		"no class":          h(hdrStatus, statusFailed),
		"delivered":         h(hdrStatus, statusFailed, hdrDelivery, "delivered"),
		"bad class":         h(hdrStatus, statusFailed, hdrDelivery, "NotDelivered"),
		"two classes":       h(hdrStatus, statusFailed, hdrDelivery, "not_delivered", hdrDelivery, "rejected"),
		"repeated code":     h(hdrStatus, statusFailed, hdrDelivery, "not_delivered", hdrIs, "closed,closed"),
		"empty code":        h(hdrStatus, statusFailed, hdrDelivery, "not_delivered", hdrIs, "closed,"),
		"bad code":          h(hdrStatus, statusFailed, hdrDelivery, "not_delivered", hdrIs, "Closed"),
		"huge is":           h(hdrStatus, statusFailed, hdrDelivery, "not_delivered", hdrIs, strings.Repeat("x", 600)),
		"refused no reason": h(hdrStatus, statusFailed, hdrDelivery, "rejected", hdrIs, "refused"),
		"reason no code":    h(hdrStatus, statusFailed, hdrDelivery, "rejected", hdrReason, "invalid"),
		"bad reason":        h(hdrStatus, statusFailed, hdrDelivery, "rejected", hdrIs, "refused", hdrReason, "in\nvalid"),
		"long reason":       h(hdrStatus, statusFailed, hdrDelivery, "rejected", hdrIs, "refused", hdrReason, strings.Repeat("a", 65)),
		"delay no code":     h(hdrStatus, statusFailed, hdrDelivery, "not_delivered", hdrDelay, "5"),
		"negative delay":    h(hdrStatus, statusFailed, hdrDelivery, "not_delivered", hdrIs, "rate_limited", hdrDelay, "-5"),
		"huge delay":        h(hdrStatus, statusFailed, hdrDelivery, "not_delivered", hdrIs, "rate_limited", hdrDelay, "99999999999999999999"),
		"text too long":     h(hdrStatus, statusFailed, hdrDelivery, "not_delivered", hdrError, strings.Repeat("x", 300)),
	} {
		err, kind := replyError("p", m)
		if kind != answerDone || !errors.Is(err, ErrRemote) || assistant.DeliveryOf(err) != assistant.MaybeDelivered {
			t.Errorf("%s: %v (kind %d, %v), want ErrRemote, MaybeDelivered", name, err, kind, assistant.DeliveryOf(err))
		}
	}
	// A newer owner's code is skipped; the rest stands.
	err, _ := replyError("p", h(hdrStatus, statusFailed, hdrDelivery, "not_delivered", hdrIs, "closed,from_the_future", hdrError, "x\x00\ny"))
	if !errors.Is(err, wsbridge.ErrClosed) || assistant.DeliveryOf(err) != assistant.NotDelivered || strings.ContainsAny(err.Error(), "\x00\n") {
		t.Errorf("unknown code: %v", err)
	}
	// invalid: the owner could not read the request.
	if err, _ := replyError("p", newReply(statusInvalid)); !errors.Is(err, ErrRemote) || assistant.DeliveryOf(err) != assistant.Rejected {
		t.Errorf("invalid: %v", err)
	}
}

func TestReplyTextBounded(t *testing.T) {
	m, _ := replyTo(errors.New(strings.Repeat("é", 10_000)))
	if n := len(m.Header.Get(hdrError)); n > maxErrorText || n < maxErrorText-1 {
		t.Errorf("error text of %d bytes, want %d", n, maxErrorText)
	}
	if _, kind := replyError("p", m); kind != answerDone {
		t.Error("bounded text not accepted")
	}
}
