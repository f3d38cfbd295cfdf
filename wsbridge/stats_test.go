//go:build !js

package wsbridge

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/imworkspace/assistant"
)

func TestLatencyQuantiles(t *testing.T) {
	var l latencies
	if got := l.snapshot(); got != (Latency{}) {
		t.Fatalf("empty = %+v", got)
	}
	// 100 durations: 1 ms ... 100 ms.
	for i := 1; i <= 100; i++ {
		l.record(time.Duration(i) * time.Millisecond)
	}
	got := l.snapshot()
	within := func(name string, q, want time.Duration) {
		// The bucket's upper bound: at least the true value, at most 2^(1/8) (9 %) above it.
		if q < want || float64(q) > float64(want)*1.0906 {
			t.Errorf("%s = %v, want in [%v, %v]", name, q, want, time.Duration(float64(want)*1.0906))
		}
	}
	within("P50", got.P50, 50*time.Millisecond)
	within("P90", got.P90, 90*time.Millisecond)
	within("P99", got.P99, 99*time.Millisecond)
	if got.Count != 100 || got.Max != 100*time.Millisecond {
		t.Errorf("Count, Max = %d, %v; want 100, 100ms", got.Count, got.Max)
	}
	// Extremes land in the first and last buckets; quantiles never exceed Max.
	var e latencies
	e.record(time.Nanosecond)
	e.record(time.Hour)
	if s := e.snapshot(); s.P50 != latMin || s.P99 != time.Hour {
		t.Errorf("extremes: %+v", s)
	}
}

func TestStats(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newMemHub(t, Options{NoPacing: true, AckTimeout: time.Second})
		ctx := context.Background()
		acker := m.connect("conv-1", &fakeHost{}, pageOpts{hold: true})
		m.connect("conv-2", &fakeHost{}, pageOpts{hold: true})
		res := sendAsync(ctx, m.hub.Sender("conv-1"), assistant.NewText("a"))
		synctest.Wait()
		held, _ := acker.heldFrames(ctx, 1)
		if s := m.hub.Stats(); s.Pages != 2 || s.InFlight != 1 {
			t.Errorf("Pages, InFlight = %d, %d; want 2, 1", s.Pages, s.InFlight)
		}
		time.Sleep(30 * time.Millisecond)
		acker.ack(held[0].ID)
		if err := <-res; err != nil {
			t.Fatal(err)
		}
		m.hub.Sender("conv-2").Send(ctx, assistant.NewText("b")) // times out after 1 s
		m.hub.Sender("nobody").Send(ctx, assistant.NewText("c"))
		m.hub.Sender("nobody").Send(ctx, assistant.Text{})
		got := m.hub.Stats()
		want := Stats{
			Pages: 2,
			Sends: map[Outcome]uint64{OutcomeAcked: 1, OutcomeTimeout: 1, OutcomeNotConnected: 1, OutcomeInvalid: 1},
			Deliveries: map[assistant.Delivery]uint64{assistant.Delivered: 1, assistant.MaybeDelivered: 1,
				assistant.NotDelivered: 1, assistant.Rejected: 1},
			AckLatency: Latency{Count: 1, Max: 30 * time.Millisecond,
				P50: 30 * time.Millisecond, P90: 30 * time.Millisecond, P99: 30 * time.Millisecond},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Stats (-want +got):\n%s", diff)
		}
	})
}

func TestOutcomeString(t *testing.T) {
	var got []string
	for o := Outcome(0); o <= OutcomeClosed+1; o++ {
		got = append(got, o.String())
	}
	want := []string{"unknown", "acked", "not_connected", "disconnected", "timeout", "refused",
		"too_large", "too_many_pending", "canceled", "invalid", "closed", "unknown"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Outcome names (-want +got):\n%s", diff)
	}
}

func TestOutcomeOf(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want Outcome
	}{
		{nil, OutcomeAcked},
		{pageErr("p", ErrNotConnected), OutcomeNotConnected},
		{pageErr("p", ErrDisconnected, ErrClosed), OutcomeDisconnected},
		{pageErr("p", ErrDisconnected, ErrReplaced), OutcomeDisconnected},
		{pageErr("p", ErrAckTimeout), OutcomeTimeout},
		{pageErr("p", &RefusedError{Reason: ReasonWrongParent}), OutcomeRefused},
		{pageErr("p", ErrTooLarge), OutcomeTooLarge},
		{pageErr("p", ErrTooManyPending), OutcomeTooManyPending},
		{pageErr("p", context.Canceled), OutcomeCanceled},
		{pageErr("p", context.DeadlineExceeded), OutcomeCanceled},
		{assistant.Text{}.Validate(), OutcomeInvalid},
		{pageErr("p", ErrClosed), OutcomeClosed},
	} {
		if got := outcomeOf(tc.err); got != tc.want {
			t.Errorf("outcomeOf(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

// A message over MaxMessageSize is counted as too_large.
func TestTooLargeOutcome(t *testing.T) {
	var got SendInfo
	hub := NewHub(Options{Hooks: []Hooks{{Send: func(i SendInfo) { got = i }}}})
	defer hub.Close()
	big := assistant.NewText(strings.Repeat("x", MaxMessageSize))
	if err := hub.Sender("conv-1").Send(context.Background(), big); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Send = %v, want ErrTooLarge", err)
	}
	if got.Outcome != OutcomeTooLarge || got.Bytes != 0 { // Encode refused it: no size
		t.Errorf("SendInfo = %+v, want too_large with 0 bytes", got)
	}
}
