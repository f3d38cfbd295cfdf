package assistant_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/imworkspace/assistant"
	"github.com/imworkspace/assistant/assistanttest"
	"golang.org/x/time/rate"
)

const slot = assistant.DefaultInterval + assistant.DefaultMargin

// gaps returns the time between consecutive records, as the recorder (the
// observer) saw them.
func gaps(recs []assistanttest.Record) []time.Duration {
	var g []time.Duration
	for i := 1; i < len(recs); i++ {
		g = append(g, recs[i].At.Sub(recs[i-1].At))
	}
	return g
}

func TestRateLimitedPacing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &assistanttest.Recorder{}
		s := assistant.RateLimited(rec)
		start := time.Now()
		for i := range 20 {
			if err := s.Send(context.Background(), assistant.NewText(fmt.Sprint(i))); err != nil {
				t.Fatal(err)
			}
		}
		if got, want := time.Since(start), 19*slot; got != want {
			t.Errorf("20 sends took %v, want exactly %v", got, want)
		}
		recs := rec.Records()
		if len(recs) != 20 || !recs[0].At.Equal(start) {
			t.Fatalf("got %d records, first at %v; want 20, the first at once", len(recs), recs[0].At.Sub(start))
		}
		for i, g := range gaps(recs) {
			if g != slot {
				t.Errorf("gap %d = %v, want %v", i, g, slot)
			}
		}
	})
}

func TestRateLimitedOptions(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &assistanttest.Recorder{}
		s := assistant.RateLimited(rec, assistant.WithInterval(2*time.Second), assistant.WithMargin(0))
		for range 3 {
			if err := s.Send(context.Background(), assistant.NewText("x")); err != nil {
				t.Fatal(err)
			}
		}
		if diff := cmp.Diff([]time.Duration{2 * time.Second, 2 * time.Second}, gaps(rec.Records())); diff != "" {
			t.Errorf("gaps (-want +got):\n%s", diff)
		}
		rec.Reset()
		s = assistant.RateLimited(rec, assistant.WithLimit(4), assistant.WithMargin(50*time.Millisecond))
		for range 3 {
			if err := s.Send(context.Background(), assistant.NewText("x")); err != nil {
				t.Fatal(err)
			}
		}
		if diff := cmp.Diff([]time.Duration{300 * time.Millisecond, 300 * time.Millisecond}, gaps(rec.Records())); diff != "" {
			t.Errorf("WithLimit(4)+50ms gaps (-want +got):\n%s", diff)
		}
	})
}

// An idle limiter holds one slot, not a backlog: after a pause the next
// message goes at once and the one after waits a full slot.
func TestRateLimitedNoCatchUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &assistanttest.Recorder{}
		s := assistant.RateLimited(rec)
		ctx := context.Background()
		s.Send(ctx, assistant.NewText("a"))
		time.Sleep(5 * time.Second)
		s.Send(ctx, assistant.NewText("b"))
		s.Send(ctx, assistant.NewText("c"))
		if diff := cmp.Diff([]time.Duration{5 * time.Second, slot}, gaps(rec.Records())); diff != "" {
			t.Errorf("gaps (-want +got):\n%s", diff)
		}
	})
}

func TestRateLimitedConcurrent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &assistanttest.Recorder{}
		s := assistant.RateLimited(rec)
		const goroutines, each = 8, 5
		var wg sync.WaitGroup
		for g := range goroutines {
			wg.Go(func() {
				for i := range each {
					if err := s.Send(context.Background(), assistant.NewText(fmt.Sprintf("g%d-m%d", g, i))); err != nil {
						t.Error(err)
					}
				}
			})
		}
		wg.Wait()
		recs := rec.Records()
		if len(recs) != goroutines*each {
			t.Fatalf("delivered %d, want %d", len(recs), goroutines*each)
		}
		for i, g := range gaps(recs) {
			if g < time.Second {
				t.Errorf("gap %d = %v, want >= 1s", i, g)
			}
		}
		seen := map[string]bool{}
		next := make([]int, goroutines)
		for _, r := range recs {
			c := r.Message.(assistant.Text).Content
			if seen[c] {
				t.Errorf("%s delivered twice", c)
			}
			seen[c] = true
			var g, i int
			fmt.Sscanf(c, "g%d-m%d", &g, &i)
			if i != next[g] {
				t.Errorf("goroutine %d: got message %d, want %d", g, i, next[g])
			}
			next[g]++
		}
	})
}

// Callers are served in the order they arrived.
func TestRateLimitedFIFO(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &assistanttest.Recorder{}
		s := assistant.RateLimited(rec)
		var wg sync.WaitGroup
		for i := range 6 {
			wg.Go(func() { s.Send(context.Background(), assistant.NewText(fmt.Sprint(i))) })
			synctest.Wait() // caller i is queued before caller i+1 starts
		}
		wg.Wait()
		var got []string
		for _, m := range rec.Messages() {
			got = append(got, m.(assistant.Text).Content)
		}
		if diff := cmp.Diff([]string{"0", "1", "2", "3", "4", "5"}, got); diff != "" {
			t.Errorf("order (-want +got):\n%s", diff)
		}
	})
}

func TestRateLimitedCancelFreesSlot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &assistanttest.Recorder{}
		s := assistant.RateLimited(rec)
		start := time.Now()
		s.Send(context.Background(), assistant.NewText("first"))

		ctxB, cancelB := context.WithCancel(context.Background())
		errB := make(chan error, 1)
		go func() { errB <- s.Send(ctxB, assistant.NewText("cancelled")) }()
		synctest.Wait()
		errC := make(chan error, 1)
		go func() { errC <- s.Send(context.Background(), assistant.NewText("next")) }()
		synctest.Wait()

		time.Sleep(500 * time.Millisecond)
		cancelB()
		if err := <-errB; !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled waiter got %v, want context.Canceled", err)
		}
		if err := <-errC; err != nil {
			t.Fatal(err)
		}
		recs := rec.Records()
		if len(recs) != 2 || recs[1].Message != assistant.NewText("next") {
			t.Fatalf("records %v, want first and next", rec.Messages())
		}
		if got := recs[1].At.Sub(start); got != slot {
			t.Errorf("next caller sent at %v, want %v (the cancelled caller's slot)", got, slot)
		}
	})
}

func TestRateLimitedDeadlineBeforeSlot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &assistanttest.Recorder{}
		s := assistant.RateLimited(rec)
		s.Send(context.Background(), assistant.NewText("first"))
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer cancel()
		start := time.Now()
		err := s.Send(ctx, assistant.NewText("late"))
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Send = %v, want context.DeadlineExceeded", err)
		}
		if waited := time.Since(start); waited != 0 {
			t.Errorf("waited %v for a slot past the deadline, want an error at once", waited)
		}
		s.Send(context.Background(), assistant.NewText("after"))
		if diff := cmp.Diff([]time.Duration{slot}, gaps(rec.Records())); diff != "" {
			t.Errorf("gaps (-want +got):\n%s", diff)
		}
	})
}

func TestRateLimitedInvalidUsesNoSlot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &assistanttest.Recorder{}
		s := assistant.RateLimited(rec)
		start := time.Now()
		if err := s.Send(context.Background(), assistant.Text{}); !errors.Is(err, assistant.ErrInvalid) {
			t.Fatalf("invalid message: %v, want ErrInvalid", err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := s.Send(ctx, assistant.NewText("x")); !errors.Is(err, context.Canceled) {
			t.Fatalf("done ctx: %v, want context.Canceled", err)
		}
		if err := s.Send(context.Background(), assistant.NewText("ok")); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d != 0 || len(rec.Records()) != 1 {
			t.Errorf("valid message after refusals sent after %v (%d records), want at once", d, len(rec.Records()))
		}
	})
}

func TestRateLimitedTransportErrorKeepsSlot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &assistanttest.Recorder{}
		broken := errors.New("connection reset")
		rec.FailNext(1, broken)
		s := assistant.RateLimited(rec)
		start := time.Now()
		if err := s.Send(context.Background(), assistant.NewText("lost?")); !errors.Is(err, broken) {
			t.Fatalf("Send = %v, want the transport error wrapped", err)
		}
		s.Send(context.Background(), assistant.NewText("next"))
		if got := rec.Records()[0].At.Sub(start); got != slot {
			t.Errorf("next send after a failed one at %v, want %v", got, slot)
		}
	})
}

func TestRateLimitedNonBlocking(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &assistanttest.Recorder{}
		s := assistant.RateLimited(rec, assistant.NonBlocking())
		ctx := context.Background()
		if err := s.Send(ctx, assistant.NewText("a")); err != nil {
			t.Fatal(err)
		}
		var rl *assistant.RateLimitedError
		err := s.Send(ctx, assistant.NewText("b"))
		if !errors.As(err, &rl) || !errors.Is(err, assistant.ErrRateLimited) || rl.Delay != slot {
			t.Fatalf("second send = %v, want *RateLimitedError with delay %v", err, slot)
		}
		time.Sleep(400 * time.Millisecond)
		if err := s.Send(ctx, assistant.NewText("c")); !errors.As(err, &rl) || rl.Delay != slot-400*time.Millisecond {
			t.Fatalf("send after 400ms = %v, want delay %v", err, slot-400*time.Millisecond)
		}
		time.Sleep(rl.Delay)
		if err := s.Send(ctx, assistant.NewText("d")); err != nil {
			t.Fatalf("send after the delay: %v", err)
		}
		if n := len(rec.Records()); n != 2 {
			t.Errorf("delivered %d, want 2", n)
		}
	})
}

var everywhere = assistant.Rules{
	assistant.TypeText: {Web: true}, assistant.TypeRich: {Web: true},
	assistant.TypeProduct: {Web: true}, assistant.TypeMiniProgramPage: {Web: true},
}

func TestRateLimitedConformance(t *testing.T) {
	assistanttest.TestSender(t, func(t *testing.T) assistanttest.Transport {
		rec := &assistanttest.Recorder{}
		return assistanttest.Transport{
			// The suite sends every type, so the channel guard allows all on web.
			Sender:    everywhere.ForChannel(assistant.RateLimited(rec, assistant.WithLimit(rate.Inf)), assistant.Web()),
			Delivered: rec.Wire,
			Break:     func() { rec.FailNext(1<<30, errors.New("broken")) },
		}
	})
}

// BenchmarkStackOverhead measures what ForChannel(RateLimited(...)) adds
// per Send when the limiter is not the bottleneck (rate.Inf), over a
// transport that only encodes into a reused buffer.
func BenchmarkStackOverhead(b *testing.B) {
	msg := assistant.Message(assistant.NewProduct("Phone", "https://item.jd.com/1.html", "https://img.example.com/p.jpg",
		assistant.ProductParam{Text: "¥6999.00", Color: "#FF0000"}))
	var buf []byte
	transport := assistant.SenderFunc(func(ctx context.Context, m assistant.Message) error {
		var err error
		buf, err = assistant.AppendEncode(buf[:0], m)
		return err
	})
	ctx := context.Background()
	b.Run("transport", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := transport.Send(ctx, msg); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ForChannel+RateLimited+transport", func(b *testing.B) {
		s := assistant.ForChannel(assistant.RateLimited(transport, assistant.WithLimit(rate.Inf)), assistant.Web())
		b.ReportAllocs()
		for b.Loop() {
			if err := s.Send(ctx, msg); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func TestStackOverheadAllocs(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage instrumentation allocates")
	}
	msg := assistant.Message(assistant.NewText("hi"))
	s := assistant.ForChannel(assistant.RateLimited(assistant.SenderFunc(func(context.Context, assistant.Message) error { return nil }),
		assistant.WithLimit(rate.Inf)), assistant.Web())
	ctx := context.Background()
	if a := testing.AllocsPerRun(100, func() { s.Send(ctx, msg) }); a > 1 {
		t.Errorf("ForChannel+RateLimited: %v allocs per Send, want at most 1", a)
	}
}

func TestRateLimitedDegenerateConfig(t *testing.T) {
	ctx := context.Background()
	if err := assistant.RateLimited(nil).Send(ctx, assistant.NewText("x")); err == nil {
		t.Error("RateLimited(nil).Send = nil, want an error")
	}
	if err := assistant.ForChannel(nil, assistant.Web()).Send(ctx, assistant.NewText("x")); err == nil {
		t.Error("ForChannel(nil).Send = nil, want an error")
	}
	rec := &assistanttest.Recorder{}
	for _, l := range []rate.Limit{0, -1} {
		if err := assistant.RateLimited(rec, assistant.WithLimit(l)).Send(ctx, assistant.NewText("x")); err == nil {
			t.Errorf("WithLimit(%v).Send = nil, want an error", l)
		}
	}
	synctest.Test(t, func(t *testing.T) {
		s := assistant.RateLimited(rec, assistant.WithInterval(0))
		for range 5 {
			if err := s.Send(ctx, assistant.NewText("x")); err != nil {
				t.Fatal(err)
			}
		}
		if gs := gaps(rec.Records()); cmp.Diff([]time.Duration{0, 0, 0, 0}, gs) != "" {
			t.Errorf("WithInterval(0) gaps = %v, want no pacing", gs)
		}
		slow := assistant.RateLimited(rec, assistant.WithLimit(1e-30), assistant.NonBlocking())
		slow.Send(ctx, assistant.NewText("x"))
		var rl *assistant.RateLimitedError
		if err := slow.Send(ctx, assistant.NewText("x")); !errors.As(err, &rl) || rl.Delay <= 0 {
			t.Errorf("absurdly slow rate: %v, want a RateLimitedError with a positive delay", err)
		}
	})
}

// A slow send (a cold page, a network round trip) must not crowd the next
// one: the next slot counts from when the slow send returned.
func TestRateLimitedCountsFromReturn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &assistanttest.Recorder{}
		first := true
		slow := assistant.SenderFunc(func(ctx context.Context, m assistant.Message) error {
			if first {
				first = false
				time.Sleep(250 * time.Millisecond) // e.g. a cold WASM page encoding its first message
			}
			return rec.Send(ctx, m)
		})
		s := assistant.RateLimited(slow)
		for range 3 {
			if err := s.Send(context.Background(), assistant.NewText("x")); err != nil {
				t.Fatal(err)
			}
		}
		if diff := cmp.Diff([]time.Duration{slot, slot}, gaps(rec.Records())); diff != "" {
			t.Errorf("gaps at the observer (-want +got):\n%s", diff)
		}
	})
}

// While one send is in flight, a non-blocking Send reports the true wait:
// the in-flight send takes its slot when it returns, so the next slot is a
// whole interval plus margin away at least, not 1 ns.
func TestRateLimitedNonBlockingInFlightDelay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		inFlight, finish := make(chan struct{}), make(chan struct{})
		var once sync.Once
		s := assistant.RateLimited(assistant.SenderFunc(func(context.Context, assistant.Message) error {
			once.Do(func() { close(inFlight); <-finish })
			return nil
		}), assistant.NonBlocking())
		ctx := context.Background()
		first := make(chan error, 1)
		go func() { first <- s.Send(ctx, assistant.NewText("slow")) }()
		<-inFlight
		time.Sleep(300 * time.Millisecond) // the transport takes its time

		var rl *assistant.RateLimitedError
		err := s.Send(ctx, assistant.NewText("meanwhile"))
		close(finish)
		if err := <-first; err != nil {
			t.Fatal(err)
		}
		if !errors.As(err, &rl) || rl.Delay != slot {
			t.Fatalf("send while another is in flight = %v, want *RateLimitedError with delay %v", err, slot)
		}
		// Now the wait is known exactly: a slot from the first send's return.
		if err := s.Send(ctx, assistant.NewText("after")); !errors.As(err, &rl) || rl.Delay != slot {
			t.Fatalf("send right after the slow one returned = %v, want delay %v", err, slot)
		}
		time.Sleep(rl.Delay)
		if err := s.Send(ctx, assistant.NewText("after the delay")); err != nil {
			t.Fatalf("send after the reported delay: %v", err)
		}
	})
}

// queueCancelled queues n callers behind a send held in flight, cancels
// them all, and returns how long queueing and cancelling took, and the
// error of one more caller queued behind them all.
func queueCancelled(t testing.TB, n int) (queue, cancel time.Duration, last error) {
	inFlight, finish := make(chan struct{}), make(chan struct{})
	var once sync.Once
	s := assistant.RateLimited(assistant.SenderFunc(func(context.Context, assistant.Message) error {
		once.Do(func() { close(inFlight); <-finish })
		return nil
	}), assistant.WithLimit(rate.Inf))
	bg := context.Background()
	go s.Send(bg, assistant.NewText("held"))
	<-inFlight

	msg := assistant.NewText("queued")
	ctx, cancelAll := context.WithCancel(bg)
	var started, done sync.WaitGroup
	start := time.Now()
	for range n {
		started.Add(1)
		done.Go(func() {
			started.Done()
			s.Send(ctx, msg)
		})
	}
	started.Wait()
	lastErr := make(chan error, 1)
	go func() { lastErr <- s.Send(bg, assistant.NewText("last")) }()
	// Every caller has started; give the stragglers time to reach the queue.
	time.Sleep(100 * time.Millisecond)
	queue = time.Since(start)

	start = time.Now()
	cancelAll()
	done.Wait()
	cancel = time.Since(start)
	close(finish)
	return queue, cancel, <-lastErr
}

// Cancelling queued callers costs O(1) each, so the caller behind them is
// not held up: on a 2-core VM, cancelling 150,000 queued callers took
// 0.12 s against 0.8 s to queue them (6.3 s with an O(n) removal per
// cancellation), and 50,000 under -race 0.4 s against 1.2 s (37 s with
// the O(n) removal). The bound, the queueing time plus 1 s, is measured
// in the same run, so a slow machine slows both sides.
func TestRateLimitedCancelManyQueued(t *testing.T) {
	n := 150_000
	if raceEnabled {
		n = 50_000 // the race detector makes each goroutine far costlier
	}
	queue, cancel, last := queueCancelled(t, n)
	t.Logf("%d callers: queued in %v, cancelled in %v", n, queue, cancel)
	if last != nil {
		t.Errorf("the caller behind the cancelled ones: %v", last)
	}
	if bound := queue + time.Second; cancel > bound {
		t.Errorf("cancelling %d queued callers took %v, more than %v (the %v queueing them took, plus 1 s): not O(1) each", n, cancel, bound, queue)
	}
}

// BenchmarkRateLimitedCancelQueued reports the cost per cancelled queued
// caller (ns/op), with b.N callers queued at once.
func BenchmarkRateLimitedCancelQueued(b *testing.B) {
	_, cancel, _ := queueCancelled(b, b.N)
	b.ReportMetric(float64(cancel.Nanoseconds())/float64(b.N), "cancel-ns/op")
}

// checkClass fails unless err matches want with errors.Is and DeliveryOf
// gives class.
func checkClass(t *testing.T, what string, err, want error, class assistant.Delivery) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: %v, want an error matching %v", what, err, want)
	}
	if got := assistant.DeliveryOf(err); got != class {
		t.Errorf("%s: DeliveryOf(%v) = %v, want %v", what, err, got, class)
	}
}

// Every error RateLimited returns says whether the message was sent.
func TestRateLimitedDelivery(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &assistanttest.Recorder{}
		s := assistant.RateLimited(rec)
		bg := context.Background()
		done, cancel := context.WithCancel(bg)
		cancel()

		checkClass(t, "invalid", s.Send(bg, assistant.Text{}), assistant.ErrInvalid, assistant.Rejected)
		checkClass(t, "invalid, done ctx", s.Send(done, assistant.Text{}), assistant.ErrInvalid, assistant.Rejected)
		checkClass(t, "done ctx", s.Send(done, assistant.NewText("x")), context.Canceled, assistant.NotDelivered)

		if err := s.Send(bg, assistant.NewText("first")); err != nil {
			t.Fatal(err)
		}
		// The slot is 1.25 s away: a deadline before it fails at once.
		short, cancelShort := context.WithTimeout(bg, 500*time.Millisecond)
		checkClass(t, "slot past the deadline", s.Send(short, assistant.NewText("x")), context.DeadlineExceeded, assistant.NotDelivered)
		cancelShort()

		// One caller waits for the slot (it holds the turn), another for
		// the turn; both give up.
		slotCtx, cancelSlot := context.WithCancel(bg)
		turnCtx, cancelTurn := context.WithCancel(bg)
		slotErr, turnErr := make(chan error, 1), make(chan error, 1)
		go func() { slotErr <- s.Send(slotCtx, assistant.NewText("slot")) }()
		synctest.Wait()
		go func() { turnErr <- s.Send(turnCtx, assistant.NewText("turn")) }()
		synctest.Wait()
		cancelTurn()
		checkClass(t, "cancelled waiting for the turn", <-turnErr, context.Canceled, assistant.NotDelivered)
		cancelSlot()
		checkClass(t, "cancelled waiting for the slot", <-slotErr, context.Canceled, assistant.NotDelivered)

		nb := assistant.RateLimited(rec, assistant.NonBlocking())
		nb.Send(bg, assistant.NewText("a"))
		checkClass(t, "NonBlocking", nb.Send(bg, assistant.NewText("b")), assistant.ErrRateLimited, assistant.NotDelivered)

		if got := len(rec.Records()); got != 2 {
			t.Errorf("%d records, want 2 (first, a)", got)
		}
	})
}

// RateLimited wraps a transport's error without hiding its class.
func TestRateLimitedKeepsTransportClass(t *testing.T) {
	cause := errors.New("transport")
	for _, class := range []assistant.Delivery{assistant.MaybeDelivered, assistant.NotDelivered, assistant.Rejected} {
		want := cause
		if class != assistant.MaybeDelivered {
			want = assistant.WithDelivery(cause, class)
		}
		s := assistant.RateLimited(assistant.SenderFunc(func(context.Context, assistant.Message) error { return want }),
			assistant.WithLimit(rate.Inf))
		checkClass(t, "transport "+class.String(), s.Send(context.Background(), assistant.NewText("x")), cause, class)
	}
}

func TestDegenerateConfigRejected(t *testing.T) {
	ctx := context.Background()
	msg := assistant.NewText("x")
	for name, s := range map[string]assistant.Sender{
		"RateLimited(nil)":      assistant.RateLimited(nil),
		"ForChannel(nil)":       assistant.ForChannel(nil, assistant.Web()),
		"WithLimit(0)":          assistant.RateLimited(&assistanttest.Recorder{}, assistant.WithLimit(0)),
		"Rules.ForChannel(nil)": assistant.DefaultRules().ForChannel(nil, assistant.Web()),
	} {
		if err := s.Send(ctx, msg); err == nil || assistant.DeliveryOf(err) != assistant.Rejected {
			t.Errorf("%s: Send = %v (%v), want an error, Rejected", name, err, assistant.DeliveryOf(err))
		}
	}
}
