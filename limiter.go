package assistant

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// DefaultInterval is the host's limit: one message per second.
const DefaultInterval = time.Second

// DefaultMargin is added to the interval by default. Delivery to the host
// is not instant and not equally fast for every message (a page still
// starting delays its first event), so sends spaced exactly 1 s apart can
// reach the host 981 ms apart; the margin absorbs that jitter.
const DefaultMargin = 10 * time.Millisecond

// ErrRateLimited is matched (errors.Is) by the error a non-blocking
// RateLimited Sender returns instead of waiting.
var ErrRateLimited = errors.New("assistant: rate limited")

// RateLimitedError says how long to wait before the next send may go. It
// matches [ErrRateLimited].
type RateLimitedError struct {
	Delay time.Duration // until the next free slot, at the time of the error
}

func (e *RateLimitedError) Error() string {
	return fmt.Sprintf("assistant: rate limited: next slot in %v", e.Delay)
}

// Is reports whether target is ErrRateLimited.
func (e *RateLimitedError) Is(target error) bool { return target == ErrRateLimited }

// LimitOption configures [RateLimited].
type LimitOption func(*limitConfig)

type limitConfig struct {
	limit       rate.Limit
	margin      time.Duration
	nonBlocking bool
}

// WithInterval sets the minimum interval between messages (before the
// margin). The default is DefaultInterval; a host may be stricter. An
// interval of 0 or less turns pacing off, like WithLimit(rate.Inf).
func WithInterval(d time.Duration) LimitOption {
	return func(c *limitConfig) { c.limit = rate.Every(d) }
}

// WithLimit sets the rate as messages per second instead of an interval;
// rate.Inf turns pacing off (tests, benchmarks, a host without a limit). A
// rate of 0 or less never allows a send: Send returns an error.
func WithLimit(l rate.Limit) LimitOption {
	return func(c *limitConfig) { c.limit = l }
}

// WithMargin sets the safety margin added to the interval (DefaultMargin by
// default; 0 to send exactly at the interval).
func WithMargin(d time.Duration) LimitOption {
	return func(c *limitConfig) { c.margin = max(d, 0) }
}

// NonBlocking makes Send return a *RateLimitedError at once, instead of
// waiting, when no slot is free or another send is in progress.
func NonBlocking() LimitOption {
	return func(c *limitConfig) { c.nonBlocking = true }
}

// RateLimited returns a Sender that passes messages to s no faster than
// the host accepts: by default one per DefaultInterval+DefaultMargin, the
// first one at once.
//
// The limit belongs to one component page (one host window): create one
// RateLimited Sender per page and share it between all goroutines that send
// to it. It is safe for concurrent use:
//   - Callers are served in arrival order, and sends to s never overlap.
//   - Consecutive sends to s start at least the interval plus the margin
//     apart, measured from the actual start of the previous send, so a late
//     timer delays the next message instead of crowding it.
//   - An invalid message returns its validation error at once; a done ctx
//     returns ctx.Err() (or, when its deadline falls before the next slot, at
//     once, an error wrapping context.DeadlineExceeded). Neither sends
//     anything nor uses a slot.
//   - An error from s is returned wrapped; its slot stays used, since the
//     message may have arrived.
func RateLimited(s Sender, opts ...LimitOption) Sender {
	c := limitConfig{limit: rate.Every(DefaultInterval), margin: DefaultMargin}
	for _, o := range opts {
		o(&c)
	}
	limit := c.limit
	if limit != rate.Inf && limit > 0 {
		// In float seconds, so that tiny rates cannot overflow a Duration.
		limit = rate.Limit(1 / (1/float64(limit) + c.margin.Seconds()))
	}
	return &limited{next: s, lim: rate.NewLimiter(limit, 1), nonBlocking: c.nonBlocking}
}

type limited struct {
	next        Sender
	lim         *rate.Limiter // only the turn holder takes tokens
	nonBlocking bool

	mu    sync.Mutex // guards busy and queue; never held while waiting
	busy  bool
	queue []chan struct{} // FIFO of callers waiting for the turn
}

func (l *limited) Send(ctx context.Context, m Message) error {
	if l.next == nil {
		return errNilSender
	}
	if l.lim.Limit() <= 0 {
		return fmt.Errorf("assistant: RateLimited with rate %v never sends", l.lim.Limit())
	}
	m, err := concrete(m)
	if err != nil {
		return err
	}
	if err := m.Validate(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if l.nonBlocking {
		return l.sendNow(ctx, m)
	}
	if err := l.acquire(ctx); err != nil {
		return err
	}
	defer l.release()
	for {
		now := time.Now()
		if l.lim.AllowN(now, 1) {
			break
		}
		d := l.delay(now)
		if dl, ok := ctx.Deadline(); ok && dl.Before(now.Add(d)) {
			return fmt.Errorf("assistant: next slot in %v is past the deadline: %w", d, context.DeadlineExceeded)
		}
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
	}
	if err := l.next.Send(ctx, m); err != nil {
		return fmt.Errorf("assistant: rate-limited send: %w", err)
	}
	return nil
}

// delay returns the time until a token is free. Waiting for it and then
// taking the token at the real time (rather than reserving ahead) caps the
// bucket at one token, so lateness is never paid back with a short gap.
func (l *limited) delay(now time.Time) time.Duration {
	secs := (1 - l.lim.TokensAt(now)) / float64(l.lim.Limit())
	if !(secs < maxDelay.Seconds()) { // also catches NaN and +Inf
		return maxDelay
	}
	return max(time.Duration(secs*float64(time.Second)), time.Nanosecond)
}

// maxDelay caps computed delays, so absurdly slow rates cannot overflow.
const maxDelay = 100 * 365 * 24 * time.Hour

func (l *limited) sendNow(ctx context.Context, m Message) error {
	l.mu.Lock()
	if l.busy {
		l.mu.Unlock()
		return &RateLimitedError{Delay: l.delay(time.Now())}
	}
	now := time.Now()
	if !l.lim.AllowN(now, 1) {
		l.mu.Unlock()
		return &RateLimitedError{Delay: l.delay(now)}
	}
	l.busy = true
	l.mu.Unlock()
	defer l.release()
	if err := l.next.Send(ctx, m); err != nil {
		return fmt.Errorf("assistant: rate-limited send: %w", err)
	}
	return nil
}

// acquire waits for the turn, first come first served. Waiters queue on
// channels, not on a held mutex, so testing/synctest sees them as durably
// blocked.
func (l *limited) acquire(ctx context.Context) error {
	l.mu.Lock()
	if !l.busy {
		l.busy = true
		l.mu.Unlock()
		return nil
	}
	ready := make(chan struct{})
	l.queue = append(l.queue, ready)
	l.mu.Unlock()
	select {
	case <-ready:
		return nil
	case <-ctx.Done():
		l.mu.Lock()
		for i, c := range l.queue {
			if c == ready {
				l.queue = append(l.queue[:i], l.queue[i+1:]...)
				l.mu.Unlock()
				return ctx.Err()
			}
		}
		l.mu.Unlock()
		// The turn was handed to us as ctx ended: pass it on.
		l.release()
		return ctx.Err()
	}
}

func (l *limited) release() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.queue) == 0 {
		l.busy = false
		return
	}
	next := l.queue[0]
	l.queue[0] = nil
	l.queue = l.queue[1:]
	close(next)
}
