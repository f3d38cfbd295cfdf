//go:build !js

package natsroute

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/imworkspace/assistant"
	"github.com/imworkspace/assistant/wsbridge"
	"github.com/nats-io/nats.go"
)

// Sender returns the Sender for the page with the given id, wherever it is
// connected. The page need not be connected yet: each Send looks it up.
// Do not wrap it in assistant.RateLimited: the page's own Hub paces it, so
// Senders on every replica share the page's one turn order.
//
// Send encodes m and returns nil only after the page posted it to the host
// and acknowledged it, exactly as wsbridge's local Send: once. A page
// connected to this replica's Hub is sent to directly (no NATS, so it keeps
// working while NATS is down). Otherwise the message goes as a NATS request
// to the replica whose Hub holds the page, which sends it through its Hub
// and answers. The errors:
//   - m's validation error: nothing sent;
//   - wsbridge.ErrNotConnected: no replica holds the page (NATS reported
//     no responders, or the replica had just lost it, twice, the second
//     time after Options.RetryDelay), or the id is empty or longer than
//     wsbridge.MaxIDLen; nothing sent;
//   - wsbridge.ErrTooManyPending: the page's MaxPending (or its replica's
//     Options.MaxInFlight) is reached; nothing sent;
//   - wsbridge.ErrDisconnected, wsbridge.ErrAckTimeout: as locally, the
//     message may have reached the host;
//   - ErrTimeout: ctx ended first (or Options.Timeout, if ctx has no
//     deadline); ambiguous, see ErrTimeout;
//   - ErrUnavailable: NATS is not connected; nothing sent;
//   - wsbridge.ErrRefused (a *wsbridge.RefusedError): the bridge refused
//     to post it;
//   - wsbridge.ErrTooLarge (over wsbridge.MaxMessageSize) or ErrTooLarge
//     (over the NATS server's max payload): nothing sent;
//   - ErrClosed (this Router), wsbridge.ErrClosed (this replica's Hub is
//     closing while the page is on it), ErrRemote.
//
// A request carries ctx's deadline; the owner drops it unread once the
// deadline has passed, so it is never delivered after its caller gave up
// (provided the replicas' clocks agree: skew moves that instant). A
// request canceled before its deadline is not withdrawn.
func (r *Router) Sender(id string) assistant.Sender { return &sender{r: r, id: id} }

type sender struct {
	r  *Router
	id string
}

func (s *sender) Send(ctx context.Context, m assistant.Message) error {
	data, err := assistant.Encode(m)
	if err != nil {
		return err
	}
	if len(data) > wsbridge.MaxMessageSize {
		return fmt.Errorf("natsroute: page %q: %w", s.id, wsbridge.ErrTooLarge)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	r := s.r
	r.mu.Lock()
	closed := r.closed
	r.mu.Unlock()
	if closed {
		return fmt.Errorf("natsroute: page %q: %w", s.id, ErrClosed)
	}
	if s.id == "" || len(s.id) > wsbridge.MaxIDLen {
		// No Hub accepts such a page. Its subject could also exceed the
		// server's max control line, which closes the NATS connection.
		return fmt.Errorf("natsroute: page %.64q: %w", s.id, wsbridge.ErrNotConnected)
	}
	if err, done := s.local(ctx, m); done {
		return err
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(r.opts.Timeout)
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline)
		defer cancel()
	}
	req := newRequest(pageSubject(r.opts.Prefix, s.id), r.newRequestID(), deadline, data)
	if max := r.nc.MaxPayload(); max > 0 && int64(len(data)+headerSize(req)) > max {
		return fmt.Errorf("natsroute: page %q: %w (%d bytes)", s.id, ErrTooLarge, max)
	}
	for attempt := 1; ; attempt++ {
		if st := r.nc.Status(); st != nats.CONNECTED {
			return fmt.Errorf("natsroute: page %q: %w (connection %v)", s.id, ErrUnavailable, st)
		}
		reply, err := r.request(ctx, req)
		var retry bool
		switch {
		case err == nil:
			err, retry = replyError(s.id, reply)
		case errors.Is(err, nats.ErrNoResponders):
			err, retry = fmt.Errorf("natsroute: page %q: %w", s.id, wsbridge.ErrNotConnected), true
		case ctx.Err() != nil:
			return fmt.Errorf("natsroute: page %q: %w: %w", s.id, ErrTimeout, ctx.Err())
		case errors.Is(err, nats.ErrMaxPayload):
			return fmt.Errorf("natsroute: page %q: %w", s.id, ErrTooLarge)
		default:
			return fmt.Errorf("natsroute: page %q: %w: %w", s.id, ErrUnavailable, err)
		}
		if !retry || attempt == 2 {
			return err
		}
		// Interest spreads between NATS servers asynchronously, and a page
		// that just moved may not be subscribed everywhere yet.
		t := time.NewTimer(r.opts.RetryDelay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return err // nothing was sent
		}
		if err, done := s.local(ctx, m); done {
			return err
		}
	}
}

// local sends through this replica's Hub if the page is connected to it.
// done is false when it is not (nothing was sent).
func (s *sender) local(ctx context.Context, m assistant.Message) (err error, done bool) {
	if !s.r.hub.Connected(s.id) {
		return nil, false
	}
	err = s.r.hub.Sender(s.id).Send(ctx, m)
	if errors.Is(err, wsbridge.ErrNotConnected) {
		return nil, false // gone meanwhile: look elsewhere
	}
	return err, true
}

// headerSize is the encoded size of req's headers ("NATS/1.0\r\n", one
// line per header, a blank line).
func headerSize(req *nats.Msg) int {
	n := len("NATS/1.0\r\n\r\n")
	for k, vs := range req.Header {
		for _, v := range vs {
			n += len(k) + len(": \r\n") + len(v)
		}
	}
	return n
}
