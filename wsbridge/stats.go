//go:build !js

package wsbridge

import (
	"math"
	"sync/atomic"
	"time"

	"github.com/imworkspace/assistant"
)

// numClasses is the number of assistant.Delivery values a Send can have.
const numClasses = int(assistant.Rejected) + 1

// Stats is a snapshot of a Hub's activity, from [Hub.Stats].
type Stats struct {
	Pages    int // pages connected now
	InFlight int // Sends in progress now: waiting for the page's turn, being written, or waiting for the ack

	// Sends counts the Sends that returned since NewHub, by outcome.
	// Outcomes that never happened are absent.
	Sends map[Outcome]uint64

	// Deliveries counts the same Sends by what their errors say of the
	// message (assistant.DeliveryOf). MaybeDelivered counts the Sends that
	// failed although the message may have reached the host. Classes that
	// never happened are absent.
	Deliveries map[assistant.Delivery]uint64

	// AckLatency is the time from writing a message to the page's ack,
	// over the acked Sends since NewHub (not the time spent waiting for
	// the page's turn).
	AckLatency Latency
}

// Latency summarizes durations recorded in fixed buckets on a log scale,
// eight per doubling from 100 µs up to about a minute. A quantile is the
// upper bound of its bucket (at most 9 % above the true value), or the
// largest duration recorded if that is smaller or the bucket is the last;
// durations under 100 µs count as 100 µs.
type Latency struct {
	Count         uint64 // durations recorded
	P50, P90, P99 time.Duration
	Max           time.Duration
}

const (
	latMin       = 100 * time.Microsecond
	latPerDouble = 8
	latBuckets   = 20*latPerDouble + 1 // up to 100 µs × 2^20 ≈ 105 s; the last one holds everything above
)

// latencies is a fixed-size, lock-free histogram.
type latencies struct {
	n   [latBuckets]atomic.Uint64
	max atomic.Int64
}

func latBucket(d time.Duration) int {
	if d <= latMin {
		return 0
	}
	i := int(math.Ceil(latPerDouble * math.Log2(float64(d)/float64(latMin))))
	return min(i, latBuckets-1)
}

func latUpper(i int) time.Duration {
	return time.Duration(float64(latMin) * math.Exp2(float64(i)/latPerDouble))
}

func (l *latencies) record(d time.Duration) {
	l.n[latBucket(d)].Add(1)
	for {
		m := l.max.Load()
		if int64(d) <= m || l.max.CompareAndSwap(m, int64(d)) {
			return
		}
	}
}

func (l *latencies) snapshot() Latency {
	var n [latBuckets]uint64
	var total uint64
	for i := range n {
		n[i] = l.n[i].Load()
		total += n[i]
	}
	out := Latency{Count: total, Max: time.Duration(l.max.Load())}
	q := func(p float64) time.Duration {
		rank := uint64(math.Ceil(p * float64(total)))
		var seen uint64
		for i, c := range n {
			seen += c
			if seen >= rank && c > 0 {
				if i == latBuckets-1 { // unbounded above
					return out.Max
				}
				return min(latUpper(i), out.Max)
			}
		}
		return out.Max
	}
	if total > 0 {
		out.P50, out.P90, out.P99 = q(0.50), q(0.90), q(0.99)
	}
	return out
}

// Stats returns a snapshot of the Hub's activity. It is cheap (no
// allocation beyond the map, a read lock held briefly) and safe to call at
// any time, also from hooks.
func (h *Hub) Stats() Stats {
	h.mu.RLock()
	pages := len(h.pages)
	h.mu.RUnlock()
	s := Stats{
		Pages:      pages,
		InFlight:   int(h.inflight.Load()),
		Sends:      make(map[Outcome]uint64),
		Deliveries: make(map[assistant.Delivery]uint64),
		AckLatency: h.acks.snapshot(),
	}
	for o := range h.outcomes {
		if n := h.outcomes[o].Load(); n > 0 {
			s.Sends[Outcome(o)] = n
		}
	}
	for d := range h.classes {
		if n := h.classes[d].Load(); n > 0 {
			s.Deliveries[assistant.Delivery(d)] = n
		}
	}
	return s
}
