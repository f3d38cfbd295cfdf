//go:build !js

package natsroute

import (
	"context"
	"errors"
	"fmt"
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

// Each owner-side result travels as a status and comes back as the error
// a local Send would have returned (or a natsroute one), so callers match
// the same sentinels wherever the page is.
func TestStatusRoundTrip(t *testing.T) {
	pageErr := func(err error) error { return fmt.Errorf("wsbridge: page %q: %w", "p", err) }
	for _, tc := range []struct {
		owner  error
		status string
		want   error // nil: the Send returns nil
		retry  bool
	}{
		{nil, statusOK, nil, false},
		{pageErr(wsbridge.ErrNotConnected), statusNotConnected, wsbridge.ErrNotConnected, true},
		{pageErr(wsbridge.ErrClosed), statusClosed, wsbridge.ErrNotConnected, true},
		{fmt.Errorf("wsbridge: page %q: %w: %w", "p", wsbridge.ErrDisconnected, wsbridge.ErrClosed), statusDisconnected, wsbridge.ErrDisconnected, false},
		{fmt.Errorf("wsbridge: page %q: %w: %w", "p", wsbridge.ErrDisconnected, wsbridge.ErrReplaced), statusDisconnected, wsbridge.ErrDisconnected, false},
		{pageErr(wsbridge.ErrAckTimeout), statusAckTimeout, wsbridge.ErrAckTimeout, false},
		{pageErr(wsbridge.ErrTooManyPending), statusTooManyPending, wsbridge.ErrTooManyPending, false},
		{fmt.Errorf("waiting: %w", context.DeadlineExceeded), statusTimeout, ErrTimeout, false},
		{pageErr(&wsbridge.RefusedError{Reason: wsbridge.ReasonWrongParent}), statusRefused, wsbridge.ErrRefused, false},
		{pageErr(wsbridge.ErrTooLarge), statusTooLarge, wsbridge.ErrTooLarge, false},
		{&assistant.SyntaxError{Msg: "x"}, statusInvalid, assistant.ErrInvalid, false},
		{errors.New("something new"), statusError, ErrRemote, false},
	} {
		reply := replyTo(tc.owner)
		status := reply.Header.Get(hdrStatus)
		if status != tc.status {
			t.Errorf("replyTo(%v) status %q, want %q", tc.owner, status, tc.status)
		}
		err, retry := replyError("p", reply)
		if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) || retry != tc.retry {
			t.Errorf("replyError(%q) = %v, retry %v; want %v, retry %v", status, err, retry, tc.want, tc.retry)
		}
	}
	var refused *wsbridge.RefusedError
	if err, _ := replyError("p", replyTo(&wsbridge.RefusedError{Reason: "too_large"})); !errors.As(err, &refused) || refused.Reason != "too_large" {
		t.Errorf("refused: %v, want a RefusedError with its reason", err)
	}
	if err, _ := replyError("p", newReply(statusBusy, "")); !errors.Is(err, wsbridge.ErrTooManyPending) {
		t.Errorf("busy: %v, want ErrTooManyPending", err)
	}
	if err, retry := replyError("p", &nats.Msg{}); !errors.Is(err, ErrRemote) || retry {
		t.Errorf("no status: %v, retry %v; want ErrRemote, no retry", err, retry)
	}
}

func TestReplyTextBounded(t *testing.T) {
	m := newReply(statusError, string(make([]byte, 10_000)))
	if n := len(m.Header.Get(hdrError)); n != maxErrorText {
		t.Errorf("error text of %d bytes, want %d", n, maxErrorText)
	}
}
