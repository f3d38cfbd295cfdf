//go:build !js

package natsroute

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode"
	"unicode/utf8"

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
// and answers with the outcome.
//
// Every error answers assistant.DeliveryOf, and a Send fails the same way
// wherever the page is: an invalid message, an id no page can have (such
// as "a\nb"), a message over wsbridge.MaxMessageSize and a ctx already
// done get the Hub's own errors, before anything goes on NATS; the page's
// replica's errors (ErrDisconnected, ErrAckTimeout, ErrTooManyPending, a
// *wsbridge.RefusedError, a deadline before the page's turn, a
// NonBlocking pacing refusal, ...) come back with the class and the
// sentinels they had there. Besides those:
//   - wsbridge.ErrNotConnected: no replica holds the page (NATS reported
//     no responders twice, Options.RetryDelay apart, or the page's
//     replica kept answering that the page had moved): NotDelivered;
//   - ErrTimeout: ctx ended (or Options.Timeout, if ctx has no deadline)
//     with no answer: MaybeDelivered;
//   - ErrUnavailable, ErrTooLarge (over the NATS max payload), ErrClosed
//     (this Router), ErrRemote: see each.
//
// A request carries a deadline a little before ctx's; the owner never
// sends it after that (provided the replicas' clocks agree: skew moves
// that instant) and answers "not sent" when it arrives late or its turn
// would come too late. If ctx is canceled before the answer, Send
// withdraws the request: the owner cancels the send if it has not written
// it to the page yet, and answers with what happened (as a local Send
// canceled at that point returns it).
func (r *Router) Sender(id string) assistant.Sender { return &sender{r: r, id: id} }

type sender struct {
	r  *Router
	id string
}

// Caller-side bounds.
const (
	// replyMargin is how much earlier than the caller's deadline the
	// owner's is (at most a quarter of the time left), so that an owner
	// that gives up at its deadline (nothing sent) is heard before the
	// caller's ctx ends, rather than leaving an ambiguous ErrTimeout.
	replyMargin = 100 * time.Millisecond
	// withdrawWait is how long a canceled Send waits for the owner to
	// confirm the withdrawal (or say the message went).
	withdrawWait = time.Second
	// maxMoves bounds the attempts of a Send whose page's replica
	// answered that the page is moving (a reconnect, a deploy).
	maxMoves = 5
)

func notDelivered(err error) error { return assistant.WithDelivery(err, assistant.NotDelivered) }
func rejected(err error) error     { return assistant.WithDelivery(err, assistant.Rejected) }
func maybeDelivered(err error) error {
	return assistant.WithDelivery(err, assistant.MaybeDelivered)
}

func (s *sender) Send(ctx context.Context, m assistant.Message) error {
	r := s.r
	data, err := assistant.Encode(m)
	if err != nil || len(data) > wsbridge.MaxMessageSize || !validID(s.id) || ctx.Err() != nil {
		// The Hub checks these before looking the page up, in its own
		// order: its error (and Send hook) is exactly the local one.
		return r.hub.Sender(s.id).Send(ctx, m)
	}
	if !r.beginSend() {
		err := notDelivered(fmt.Errorf("natsroute: page %q: %w", s.id, ErrClosed))
		r.report(s.id, time.Now(), len(data), err)
		return err
	}
	defer r.endSend()
	if err, done := s.local(ctx, m); done {
		return err
	}
	start := time.Now()
	err = s.remote(ctx, m, data)
	r.report(s.id, start, len(data), err)
	return err
}

// remote sends data as a NATS request to the page's replica.
func (s *sender) remote(ctx context.Context, m assistant.Message, data []byte) error {
	r := s.r
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(r.opts.Timeout)
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline)
		defer cancel()
	}
	owner := deadline.Add(-min(replyMargin, time.Until(deadline)/4))
	req := newRequest(pageSubject(r.opts.Prefix, s.id), r.newRequestID(), owner, data)
	if max := r.nc.MaxPayload(); max > 0 && int64(len(data)+headerSize(req)) > max {
		return rejected(fmt.Errorf("natsroute: page %q: %w (%d bytes)", s.id, ErrTooLarge, max))
	}
	moves := 0
	for attempt := 1; ; attempt++ {
		if st := r.nc.Status(); st != nats.CONNECTED {
			return notDelivered(fmt.Errorf("natsroute: page %q: %w (connection %v)", s.id, ErrUnavailable, st))
		}
		reply, err := s.request(ctx, req, deadline)
		var again bool
		switch {
		case err == nil:
			var kind int
			err, kind = replyError(s.id, reply)
			if kind == answerMoving {
				moves++
				r.moves.Add(1)
				err, again = notDelivered(fmt.Errorf("natsroute: page %q: %w (its replica no longer holds it)", s.id, wsbridge.ErrNotConnected)), moves < maxMoves
			}
		case errors.Is(err, nats.ErrNoResponders):
			err, again = notDelivered(fmt.Errorf("natsroute: page %q: %w", s.id, wsbridge.ErrNotConnected)), attempt-moves < 2
		case ctx.Err() != nil, errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
			// The request's own ctx ends with ctx (at the same deadline,
			// or withdrawWait after a cancel), maybe a moment before it.
			cause := ctx.Err()
			if cause == nil {
				cause = context.DeadlineExceeded
			}
			return maybeDelivered(fmt.Errorf("natsroute: page %q: %w: %w", s.id, ErrTimeout, cause))
		case errors.Is(err, nats.ErrMaxPayload):
			return rejected(fmt.Errorf("natsroute: page %q: %w", s.id, ErrTooLarge))
		case errors.Is(err, nats.ErrReconnectBufExceeded), errors.Is(err, nats.ErrInvalidConnection):
			return notDelivered(fmt.Errorf("natsroute: page %q: %w: %w", s.id, ErrUnavailable, err))
		default:
			// The connection closed, say, after the request went out.
			return maybeDelivered(fmt.Errorf("natsroute: page %q: %w: %w", s.id, ErrUnavailable, err))
		}
		if !again {
			return err
		}
		// Interest spreads between NATS servers asynchronously, and a page
		// that just moved may not be subscribed everywhere yet.
		t := time.NewTimer(r.opts.RetryDelay * time.Duration(min(attempt, 4)))
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

// request makes the NATS request. If ctx is canceled (not at its
// deadline) before the answer, it withdraws the request and waits up to
// withdrawWait for the owner's answer, which then says whether the
// message went.
func (s *sender) request(ctx context.Context, req *nats.Msg, deadline time.Time) (*nats.Msg, error) {
	rctx, rcancel := context.WithDeadline(context.WithoutCancel(ctx), deadline)
	defer rcancel()
	withdrawn := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		defer close(withdrawn)
		if errors.Is(ctx.Err(), context.Canceled) {
			s.r.withdraw(req)
			t := time.NewTimer(withdrawWait)
			select {
			case <-t.C:
			case <-rctx.Done():
			}
			t.Stop()
		}
		rcancel()
	})
	reply, err := s.r.request(rctx, req)
	rcancel()
	if !stop() {
		<-withdrawn
	}
	return reply, err
}

// local sends through this replica's Hub if the page is connected to it.
// done is false when it is not (nothing was sent).
func (s *sender) local(ctx context.Context, m assistant.Message) (err error, done bool) {
	if !s.r.hub.Connected(s.id) {
		return nil, false
	}
	err = s.r.hub.Sender(s.id).Send(ctx, m)
	if hereNot(err) && !errors.Is(err, wsbridge.ErrClosed) {
		return nil, false // gone meanwhile: look elsewhere
	}
	return err, true
}

// report passes the outcome of a Send made through NATS (or refused
// here) to the Send hooks of the Hub's options, as the Hub does for its
// own: an operator sees this replica's routed Sends, ambiguous ones
// included, in the same metrics (the page's replica counts them too, as
// Sends of its Hub).
func (r *Router) report(id string, start time.Time, n int, err error) {
	if len(r.hooks) == 0 {
		return
	}
	i := wsbridge.SendInfo{ID: id, Outcome: outcomeOf(err), Delivery: assistant.DeliveryOf(err), Duration: time.Since(start), Bytes: n}
	for _, h := range r.hooks {
		if h.Send != nil {
			h.Send(i)
		}
	}
}

// outcomeOf names a routed Send's result as wsbridge's hooks do;
// ErrRemote is wsbridge.Outcome(0), "unknown".
func outcomeOf(err error) wsbridge.Outcome {
	switch {
	case err == nil:
		return wsbridge.OutcomeAcked
	case errors.Is(err, wsbridge.ErrDisconnected):
		return wsbridge.OutcomeDisconnected
	case errors.Is(err, wsbridge.ErrNotConnected), errors.Is(err, ErrUnavailable):
		return wsbridge.OutcomeNotConnected
	case errors.Is(err, wsbridge.ErrAckTimeout):
		return wsbridge.OutcomeTimeout
	case errors.Is(err, wsbridge.ErrRefused):
		return wsbridge.OutcomeRefused
	case errors.Is(err, wsbridge.ErrTooLarge), errors.Is(err, ErrTooLarge):
		return wsbridge.OutcomeTooLarge
	case errors.Is(err, wsbridge.ErrTooManyPending):
		return wsbridge.OutcomeTooManyPending
	case errors.Is(err, wsbridge.ErrClosed), errors.Is(err, ErrClosed):
		return wsbridge.OutcomeClosed
	case errors.Is(err, ErrTimeout), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, assistant.ErrRateLimited):
		return wsbridge.OutcomeCanceled
	case errors.Is(err, assistant.ErrInvalid):
		return wsbridge.OutcomeInvalid
	}
	return 0
}

// validID reports whether a page can have id, as the Hub checks it
// (non-empty, at most wsbridge.MaxIDLen bytes of UTF-8 without control or
// format characters).
func validID(id string) bool {
	if id == "" || len(id) > wsbridge.MaxIDLen || !utf8.ValidString(id) {
		return false
	}
	for _, c := range id {
		if !unicode.IsGraphic(c) {
			return false
		}
	}
	return true
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
