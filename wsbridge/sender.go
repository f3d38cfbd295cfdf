//go:build !js

package wsbridge

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/imworkspace/assistant"
)

type pageSender struct {
	hub *Hub
	id  string
}

func (s *pageSender) Send(ctx context.Context, m assistant.Message) error {
	h := s.hub
	if err := checkID(s.id); err != nil {
		// No page can have this id. Keep it (it may be huge, or hold
		// line breaks and escapes) out of the hooks and logs: they get "",
		// as for a refused connection; the error quotes 32 characters.
		err = rejected(fmt.Errorf("%w (%w)", ErrNotConnected, err))
		h.sendDone("", 0, 0, err)
		return err
	}
	start := time.Now()
	h.inflight.Add(1)
	n, err := s.send(ctx, m)
	h.inflight.Add(-1)
	h.sendDone(s.id, time.Since(start), n, err)
	return err
}

// send returns the encoded size of m and the Send's error.
func (s *pageSender) send(ctx context.Context, m assistant.Message) (int, error) {
	data, err := assistant.Encode(m)
	if errors.Is(err, assistant.ErrTooLarge) {
		// Encode applies the same limit: refuse as below.
		return 0, rejected(pageErr(s.id, fmt.Errorf("%w: %w", ErrTooLarge, err)))
	}
	if err != nil {
		return 0, err
	}
	if len(data) > MaxMessageSize {
		// The bridge would refuse it: do not hold the page's turn for it.
		return len(data), rejected(pageErr(s.id, ErrTooLarge, &assistant.TooLargeError{Size: len(data)}))
	}
	if err := ctx.Err(); err != nil {
		return len(data), notSent(pageErr(s.id, err))
	}
	c, err := s.hub.startSend(s.id)
	if err != nil {
		return len(data), notSent(pageErr(s.id, err)) // ErrClosed, ErrNotConnected
	}
	defer s.hub.endSend()
	if c.lim == nil {
		return len(data), c.send(ctx, data)
	}
	return len(data), c.paced(ctx, m, data)
}

// turn carries one Send through the page's RateLimited Sender to
// turnSender, which writes the already encoded data with the caller's own
// ctx and keeps the error unwrapped.
type turn struct {
	ctx  context.Context
	data []byte
	sent bool
	err  error
}

type turnKey struct{}

// turnSender is the Sender a page's RateLimited wraps. The limiter calls
// it on the Send's goroutine, with the ctx paced gives it.
type turnSender struct{ c *conn }

func (s turnSender) Send(ctx context.Context, _ assistant.Message) error {
	t, _ := ctx.Value(turnKey{}).(*turn)
	if t == nil {
		return pageErr(s.c.id, errors.New("internal error: no turn"))
	}
	t.sent = true
	t.err = s.c.send(t.ctx, t.data)
	return t.err
}

// paced waits for the page's turn, then sends. The wait ends early when
// the connection dies, so Sends queued behind a dead page do not wait out
// their turns.
func (c *conn) paced(ctx context.Context, m assistant.Message, data []byte) error {
	t := &turn{ctx: ctx, data: data}
	lctx, cancel := context.WithCancel(context.WithValue(ctx, turnKey{}, t))
	stop := context.AfterFunc(c.life, cancel)
	err := c.lim.Send(lctx, m)
	stop()
	cancel()
	switch {
	case t.sent:
		return t.err
	case ctx.Err() != nil:
		return notSent(pageErr(c.id, fmt.Errorf("waiting for its turn: %w", ctx.Err())))
	case c.life.Err() != nil:
		return c.deadError()
	default:
		// ctx's deadline falls before the page's turn (NotDelivered), or
		// Options.Pacing never sends (Rejected): the limiter's class.
		return pageErr(c.id, err)
	}
}

// deadError is the error for a Send that found the conn dead before
// writing its message whole to it (why, if given, says what happened):
// NotDelivered, ErrClosed if the Hub closed it, else ErrNotConnected.
func (c *conn) deadError(why ...error) error {
	c.mu.Lock()
	cause := c.dead
	c.mu.Unlock()
	if errors.Is(cause, ErrClosed) {
		return notSent(pageErr(c.id, append([]error{ErrClosed}, why...)...))
	}
	return notSent(pageErr(c.id, append([]error{ErrNotConnected}, why...)...))
}

func (h *Hub) sendDone(id string, d time.Duration, n int, err error) {
	o := outcomeOf(err)
	h.outcomes[o].Add(1)
	class := assistant.DeliveryOf(err)
	if class >= 0 && int(class) < numClasses {
		h.classes[class].Add(1)
	}
	if len(h.opts.Hooks) > 0 {
		h.hookSend(SendInfo{ID: id, Outcome: o, Delivery: class, Duration: d, Bytes: n})
	}
	h.logSend(id, o, err, d, n)
}
