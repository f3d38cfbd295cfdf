package assistant

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// DefaultInterval is the host's limit: one message per second.
const DefaultInterval = time.Second

// DefaultMargin is added to the interval by default, by RateLimited and
// (through wsbridge.ScriptHandler) by the wsbridge page script: the one
// definition for both transports. The host counts its one message per
// second where its code sees them, and a busy host page dispatches a
// message that arrived during a long task only when the task ends, and the
// next one at once: the gap it sees shrinks by up to the task's length.
// 250 ms is the smallest margin that kept every gap at or over 1000 ms, in
// real Chromium with a cross-site component, at a host running long tasks
// of up to 200 ms; docs/pacing.md has the measurements and what smaller
// margins cost. Lower it with WithMargin only for a host known to be idle.
const DefaultMargin = 250 * time.Millisecond

// ErrRateLimited is matched (errors.Is) by the error a non-blocking
// RateLimited Sender returns instead of waiting.
var ErrRateLimited = errors.New("assistant: rate limited")

// RateLimitedError says how long to wait before the next send may go. It
// matches [ErrRateLimited].
type RateLimitedError struct {
	// Delay is the time until the next free slot, at the time of the
	// error. While another send is in flight it is one whole interval plus
	// margin: the next slot counts from that send's return, so the true
	// wait is at least that.
	Delay time.Duration
}

func (e *RateLimitedError) Error() string {
	return fmt.Sprintf("assistant: rate limited: next slot in %v", e.Delay)
}

// Is reports whether target is ErrRateLimited.
func (e *RateLimitedError) Is(target error) bool { return target == ErrRateLimited }

// Delivery is [NotDelivered]: nothing was sent; send again after Delay.
func (e *RateLimitedError) Delivery() Delivery { return NotDelivered }

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
//   - A send to s starts at least the interval plus the margin after the
//     previous send to s returned. Counting from the return, not the start,
//     keeps a slow send (a cold WASM page can take 250 ms to post its first
//     message) from crowding the next one at the host; and a late timer
//     delays the next message instead of crowding it.
//   - An invalid message returns its validation error at once ([Rejected]);
//     a done ctx returns an error wrapping ctx.Err() (or, when its deadline
//     falls before the next slot, at once, an error wrapping
//     context.DeadlineExceeded), and so does a ctx that ends while the
//     caller waits for its turn or its slot: all [NotDelivered]. None of
//     them sends anything or uses a slot.
//   - An error from s is returned wrapped, keeping the class s gave it
//     ([DeliveryOf] reads through the wrapping); its slot stays used, since
//     the message may have arrived.
//   - A RateLimited Sender around a nil s, or with a rate of 0 or less,
//     returns an error for every Send, [Rejected]: a configuration error
//     that sending again does not cure.
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
	lim         *rate.Limiter // only the turn holder takes tokens, when its send returns
	nonBlocking bool

	mu   sync.Mutex // guards busy and the queue; never held while waiting
	busy bool
	// head and tail of the FIFO of callers waiting for the turn: an
	// intrusive list, so a caller whose ctx ends leaves it in O(1).
	head, tail *waiter
}

// waiter is one queued caller. ready is closed when the turn is handed to
// it; queued is true while it is in the list (guarded by limited.mu).
type waiter struct {
	ready      chan struct{}
	prev, next *waiter
	queued     bool
}

func (l *limited) Send(ctx context.Context, m Message) error {
	if l.next == nil {
		return errNilSender
	}
	if l.lim.Limit() <= 0 {
		return WithDelivery(fmt.Errorf("assistant: RateLimited with rate %v never sends", l.lim.Limit()), Rejected)
	}
	m, err := concrete(m)
	if err != nil {
		return err
	}
	if err := m.Validate(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return notSent(err)
	}
	if l.nonBlocking {
		return l.sendNow(ctx, m)
	}
	if err := l.acquire(ctx); err != nil {
		return notSent(err)
	}
	defer l.release()
	for {
		now := time.Now()
		if l.free(now) {
			break
		}
		d := l.delay(now)
		if dl, ok := ctx.Deadline(); ok && dl.Before(now.Add(d)) {
			return notSent(fmt.Errorf("assistant: next slot in %v is past the deadline: %w", d, context.DeadlineExceeded))
		}
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return notSent(ctx.Err())
		}
	}
	return l.send(ctx, m)
}

// notSent marks err, about a message that was never passed on, as
// NotDelivered.
func notSent(err error) error { return WithDelivery(err, NotDelivered) }

// send passes m on, then takes the slot at the time the send returned, so
// the next slot counts from there. A failed send keeps its slot used: the
// message may have arrived.
func (l *limited) send(ctx context.Context, m Message) error {
	err := l.next.Send(ctx, m)
	if now := time.Now(); !l.lim.AllowN(now, 1) {
		l.lim.ReserveN(now, 1) // float rounding left the bucket a hair short
	}
	if err != nil {
		return fmt.Errorf("assistant: rate-limited send: %w", err)
	}
	return nil
}

// delay returns the time until a token is free. Waiting for it and taking
// the token at the real time (rather than reserving ahead) caps the bucket
// at one token, so lateness is never paid back with a short gap.
func (l *limited) delay(now time.Time) time.Duration {
	secs := (1 - l.lim.TokensAt(now)) / float64(l.lim.Limit())
	if !(secs < maxDelay.Seconds()) { // also catches NaN and +Inf
		return maxDelay
	}
	// In whole microseconds, rounded up but for float noise (1.25 s slots
	// make 850 ms come out as 849.999999 ms), so that waiting the delay
	// reaches the slot.
	return max(time.Duration(math.Ceil(secs*1e6-1e-3))*time.Microsecond, time.Microsecond)
}

// free reports whether a slot is free at now, allowing for float noise in
// the bucket (see send).
func (l *limited) free(now time.Time) bool { return l.lim.TokensAt(now) >= 1-1e-9 }

// maxDelay caps computed delays, so absurdly slow rates cannot overflow.
const maxDelay = 100 * 365 * 24 * time.Hour

func (l *limited) sendNow(ctx context.Context, m Message) error {
	l.mu.Lock()
	now := time.Now()
	if l.busy {
		l.mu.Unlock()
		// The send in flight takes its slot when it returns, so the next
		// one is at least a whole period away (plus whatever is left of
		// that send, which nobody knows yet).
		return &RateLimitedError{Delay: max(l.delay(now), l.period())}
	}
	if !l.free(now) {
		l.mu.Unlock()
		return &RateLimitedError{Delay: l.delay(now)}
	}
	l.busy = true
	l.mu.Unlock()
	defer l.release()
	return l.send(ctx, m)
}

// period returns the time one slot takes: the interval plus the margin.
func (l *limited) period() time.Duration {
	secs := 1 / float64(l.lim.Limit())
	if !(secs < maxDelay.Seconds()) {
		return maxDelay
	}
	return time.Duration(secs * float64(time.Second))
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
	w := &waiter{ready: make(chan struct{}), prev: l.tail, queued: true}
	if l.tail != nil {
		l.tail.next = w
	} else {
		l.head = w
	}
	l.tail = w
	l.mu.Unlock()
	select {
	case <-w.ready:
		return nil
	case <-ctx.Done():
		l.mu.Lock()
		if w.queued {
			l.unlink(w)
			l.mu.Unlock()
			return ctx.Err()
		}
		l.mu.Unlock()
		// The turn was handed to us as ctx ended: pass it on.
		l.release()
		return ctx.Err()
	}
}

// unlink removes w from the queue; l.mu must be held.
func (l *limited) unlink(w *waiter) {
	if w.prev != nil {
		w.prev.next = w.next
	} else {
		l.head = w.next
	}
	if w.next != nil {
		w.next.prev = w.prev
	} else {
		l.tail = w.prev
	}
	w.prev, w.next, w.queued = nil, nil, false
}

// release hands the turn to the first waiter, or frees it.
func (l *limited) release() {
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.head
	if w == nil {
		l.busy = false
		return
	}
	l.unlink(w)
	close(w.ready)
}
