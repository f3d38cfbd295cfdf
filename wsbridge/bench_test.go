//go:build !js

package wsbridge

import (
	"errors"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"
)

// The bookkeeping every Send pays when it returns: the in-flight count,
// the outcome counter, the hooks and the log call. Compare with
// BenchmarkSendObserved (a whole Send) for its share.
func BenchmarkSendBookkeeping(b *testing.B) {
	var n atomic.Int64
	count := Hooks{Send: func(SendInfo) { n.Add(1) }}
	for _, bc := range []struct {
		name string
		opts Options
	}{
		{"bare", Options{}},
		{"hook", Options{Hooks: []Hooks{count}}},
		{"log-info", Options{Logger: slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))}},
		{"log-debug", Options{Logger: slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelDebug}))}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			h := NewHub(bc.opts)
			b.ReportAllocs()
			for b.Loop() {
				start := time.Now()
				h.inflight.Add(1)
				h.inflight.Add(-1)
				h.sendDone("conv-1", time.Since(start), 100, nil)
			}
		})
	}
}

// The outcome of an error: errors.Is down the list.
func BenchmarkOutcomeOf(b *testing.B) {
	err := pageErr("conv-1", ErrDisconnected, errors.New("cut"))
	for b.Loop() {
		outcomeOf(err)
	}
}

func BenchmarkLatencyRecord(b *testing.B) {
	var l latencies
	b.ReportAllocs()
	d := 137 * time.Microsecond
	for b.Loop() {
		l.record(d)
	}
}

func BenchmarkStats(b *testing.B) {
	h := NewHub(Options{})
	for i := range 1000 {
		h.acks.record(time.Duration(i) * time.Millisecond)
		h.outcomes[OutcomeAcked].Add(1)
	}
	b.ReportAllocs()
	for b.Loop() {
		h.Stats()
	}
}
