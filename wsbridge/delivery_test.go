//go:build !js

package wsbridge

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/imworkspace/assistant"
)

// wantClass fails unless err matches every one of is, none of isNot, and
// assistant.DeliveryOf(err) is d.
func wantClass(t *testing.T, what string, err error, d assistant.Delivery, is []error, isNot ...error) {
	t.Helper()
	for _, target := range is {
		if !errors.Is(err, target) {
			t.Errorf("%s: %v does not match %v", what, err, target)
		}
	}
	for _, target := range isNot {
		if errors.Is(err, target) {
			t.Errorf("%s: %v matches %v", what, err, target)
		}
	}
	if got := assistant.DeliveryOf(err); got != d {
		t.Errorf("%s: DeliveryOf(%v) = %v, want %v", what, err, got, d)
	}
}

func errs(e ...error) []error { return e }

// Each of the five ways a Send's ctx can end says whether the message may
// have arrived: only the wait for the ack is ambiguous.
func TestDeliveryContextEndings(t *testing.T) {
	t.Run("checked first", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			m := newMemHub(t, Options{})
			host := &fakeHost{}
			m.connect("conv-1", host, pageOpts{})
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			err := m.hub.Sender("conv-1").Send(ctx, assistant.NewText("x"))
			wantClass(t, "done ctx", err, assistant.NotDelivered, errs(context.Canceled))
			if !strings.Contains(err.Error(), `"conv-1"`) {
				t.Errorf("%v: want the page id in the text", err)
			}
		})
	})
	t.Run("waiting for the turn", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			m := newMemHub(t, Options{})
			host := &fakeHost{}
			p := m.connect("conv-1", host, pageOpts{hold: true})
			bg := context.Background()
			first := sendAsync(bg, m.hub.Sender("conv-1"), assistant.NewText("first"))
			synctest.Wait() // first is written, awaiting its ack: it holds the turn
			ctx, cancel := context.WithCancel(bg)
			queued := sendAsync(ctx, m.hub.Sender("conv-1"), assistant.NewText("queued"))
			synctest.Wait()
			cancel()
			wantClass(t, "waiting for the turn", <-queued, assistant.NotDelivered, errs(context.Canceled))
			held, err := p.heldFrames(bg, 1)
			if err != nil || len(held) != 1 {
				t.Fatalf("page got %d frames (%v), want 1", len(held), err)
			}
			p.ack(held[0].ID)
			if err := <-first; err != nil {
				t.Fatal(err)
			}
		})
	})
	t.Run("slot past the deadline", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			m := newMemHub(t, Options{})
			m.connect("conv-1", &fakeHost{}, pageOpts{})
			bg := context.Background()
			if err := m.hub.Sender("conv-1").Send(bg, assistant.NewText("first")); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(bg, 500*time.Millisecond)
			defer cancel()
			start := time.Now()
			err := m.hub.Sender("conv-1").Send(ctx, assistant.NewText("late"))
			wantClass(t, "slot past the deadline", err, assistant.NotDelivered, errs(context.DeadlineExceeded))
			if d := time.Since(start); d != 0 {
				t.Errorf("failed after %v, want at once", d)
			}
		})
	})
	t.Run("interrupted while writing", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			m := newMemHub(t, Options{NoPacing: true})
			host := &fakeHost{}
			stall, release := make(chan struct{}), make(chan struct{})
			var once sync.Once
			// The page stops reading at its first message: over the
			// in-memory pipe, the next frame's write blocks.
			m.connect("conv-1", host, pageOpts{beforePost: func(string) bool {
				once.Do(func() { close(stall); <-release })
				return false
			}})
			bg := context.Background()
			first := sendAsync(bg, m.hub.Sender("conv-1"), assistant.NewText("first"))
			<-stall
			ctx, cancel := context.WithCancel(bg)
			second := sendAsync(ctx, m.hub.Sender("conv-1"), assistant.NewText("second"))
			synctest.Wait() // second is blocked writing
			cancel()
			err := <-second
			wantClass(t, "interrupted while writing", err, assistant.NotDelivered, errs(context.Canceled), ErrDisconnected)
			if !strings.Contains(err.Error(), "writing") {
				t.Errorf("%v: want the text to say it was writing", err)
			}
			close(release)
			// The interrupted write cut the connection: first, written
			// whole and unacknowledged, may have arrived.
			wantClass(t, "first, pending when the write was cut", <-first, assistant.MaybeDelivered, errs(ErrDisconnected))
			for _, w := range host.wire() {
				if strings.Contains(string(w), "second") {
					t.Errorf("the interrupted message was posted: %s", w)
				}
			}
		})
	})
	t.Run("waiting for the ack", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			m := newMemHub(t, Options{})
			p := m.connect("conv-1", &fakeHost{}, pageOpts{hold: true})
			ctx, cancel := context.WithCancel(context.Background())
			res := sendAsync(ctx, m.hub.Sender("conv-1"), assistant.NewText("x"))
			if _, err := p.heldFrames(context.Background(), 1); err != nil {
				t.Fatal(err)
			}
			cancel()
			wantClass(t, "waiting for the ack", <-res, assistant.MaybeDelivered, errs(context.Canceled))
		})
	})
}

// ErrClosed always means nothing was sent; a Send written before the Hub
// closed fails with ErrDisconnected, which does not match ErrClosed.
func TestDeliveryClosed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newMemHub(t, Options{})
		p := m.connect("conv-1", &fakeHost{}, pageOpts{hold: true})
		bg := context.Background()
		written := sendAsync(bg, m.hub.Sender("conv-1"), assistant.NewText("written"))
		if _, err := p.heldFrames(bg, 1); err != nil {
			t.Fatal(err)
		}
		queued := sendAsync(bg, m.hub.Sender("conv-1"), assistant.NewText("queued"))
		synctest.Wait()
		m.hub.Close()
		err := <-written
		wantClass(t, "written, then Close", err, assistant.MaybeDelivered, errs(ErrDisconnected), ErrClosed)
		if !strings.Contains(err.Error(), "hub closed") {
			t.Errorf("%v: want the cause, hub closed, in the text", err)
		}
		wantClass(t, "queued, then Close", <-queued, assistant.NotDelivered, errs(ErrClosed), ErrDisconnected)
		wantClass(t, "after Close", m.hub.Sender("conv-1").Send(bg, assistant.NewText("late")),
			assistant.NotDelivered, errs(ErrClosed), ErrDisconnected)
	})
}

// Shutdown: new Sends are refused, and what is left when its ctx ends
// fails as Close would.
func TestDeliveryShutdown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newMemHub(t, Options{AckTimeout: time.Hour})
		p := m.connect("conv-1", &fakeHost{}, pageOpts{hold: true})
		bg := context.Background()
		written := sendAsync(bg, m.hub.Sender("conv-1"), assistant.NewText("1"))
		if _, err := p.heldFrames(bg, 1); err != nil {
			t.Fatal(err)
		}
		queued := sendAsync(bg, m.hub.Sender("conv-1"), assistant.NewText("2"))
		synctest.Wait()
		sctx, cancel := context.WithTimeout(bg, time.Second)
		defer cancel()
		shut := make(chan error, 1)
		go func() { shut <- m.hub.Shutdown(sctx) }()
		synctest.Wait()
		wantClass(t, "new Send during Shutdown", m.hub.Sender("conv-1").Send(bg, assistant.NewText("3")),
			assistant.NotDelivered, errs(ErrClosed))
		<-shut
		wantClass(t, "written", <-written, assistant.MaybeDelivered, errs(ErrDisconnected), ErrClosed)
		wantClass(t, "queued", <-queued, assistant.NotDelivered, errs(ErrClosed))
	})
}

// The errors that are not about ctx or closing.
func TestDeliveryOtherErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newMemHub(t, Options{NoPacing: true, MaxPending: 1, AckTimeout: 5 * time.Second})
		p := m.connect("conv-1", &fakeHost{}, pageOpts{hold: true})
		bg := context.Background()
		s := m.hub.Sender("conv-1")

		wantClass(t, "invalid", s.Send(bg, assistant.Text{}), assistant.Rejected, errs(assistant.ErrInvalid))
		done, cancel := context.WithCancel(bg)
		cancel()
		wantClass(t, "invalid, done ctx", s.Send(done, assistant.Text{}), assistant.Rejected, errs(assistant.ErrInvalid))
		big := assistant.NewText(strings.Repeat("a", MaxMessageSize))
		wantClass(t, "too large", s.Send(bg, big), assistant.Rejected, errs(ErrTooLarge, assistant.ErrTooLarge))
		wantClass(t, "not connected", m.hub.Sender("nobody").Send(bg, assistant.NewText("x")),
			assistant.NotDelivered, errs(ErrNotConnected), ErrBadID)
		wantClass(t, "bad id", m.hub.Sender("a\nb").Send(bg, assistant.NewText("x")),
			assistant.Rejected, errs(ErrNotConnected, ErrBadID))

		timedOut := sendAsync(bg, s, assistant.NewText("1"))
		if _, err := p.heldFrames(bg, 1); err != nil {
			t.Fatal(err)
		}
		wantClass(t, "too many pending", s.Send(bg, assistant.NewText("2")), assistant.NotDelivered, errs(ErrTooManyPending))
		wantClass(t, "ack timeout", <-timedOut, assistant.MaybeDelivered, errs(ErrAckTimeout))

		for i, reason := range []string{ReasonTooLarge, ReasonInvalid, ReasonWrongParent} {
			res := sendAsync(bg, s, assistant.NewText(reason))
			held, err := p.heldFrames(bg, 2+i)
			if err != nil {
				t.Fatal(err)
			}
			p.write(fmt.Sprintf(`{"op":"refuse","id":%d,"reason":%q}`, held[1+i].ID, reason))
			wantClass(t, "refused: "+reason, <-res, assistant.Rejected, errs(ErrRefused), ErrDisconnected)
		}
	})
}

// A reason the package does not know never reaches a Send (the Hub drops
// a page that sends one), but if it did it would still say "not posted".
func TestRefusedErrorDelivery(t *testing.T) {
	for reason, want := range map[string]assistant.Delivery{
		ReasonTooLarge: assistant.Rejected, ReasonInvalid: assistant.Rejected,
		ReasonWrongParent: assistant.Rejected, "later": assistant.NotDelivered,
	} {
		if got := assistant.DeliveryOf(pageErr("p", &RefusedError{Reason: reason})); got != want {
			t.Errorf("refused %q: %v, want %v", reason, got, want)
		}
	}
}

// A Send waiting for its turn when the page goes away sent nothing.
func TestDeliveryDisconnectWhileQueued(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newMemHub(t, Options{})
		p := m.connect("conv-1", &fakeHost{}, pageOpts{hold: true})
		bg := context.Background()
		written := sendAsync(bg, m.hub.Sender("conv-1"), assistant.NewText("1"))
		if _, err := p.heldFrames(bg, 1); err != nil {
			t.Fatal(err)
		}
		queued := sendAsync(bg, m.hub.Sender("conv-1"), assistant.NewText("2"))
		synctest.Wait()
		p.close()
		wantClass(t, "written", <-written, assistant.MaybeDelivered, errs(ErrDisconnected))
		wantClass(t, "queued", <-queued, assistant.NotDelivered, errs(ErrNotConnected), ErrDisconnected)
	})
}

// The Send hook gets each Send's class, so a ctx ending before the write
// (nothing sent) and one waiting for the ack (may have arrived), both
// OutcomeCanceled, can be told apart.
func TestHookSendDelivery(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var got []SendInfo
		m := newMemHub(t, Options{Hooks: []Hooks{{Send: func(i SendInfo) {
			mu.Lock()
			got = append(got, SendInfo{ID: i.ID, Outcome: i.Outcome, Delivery: i.Delivery})
			mu.Unlock()
		}}}})
		p := m.connect("conv-1", &fakeHost{}, pageOpts{hold: true})
		bg := context.Background()
		ackCtx, cancelAck := context.WithCancel(bg)
		waitingAck := sendAsync(ackCtx, m.hub.Sender("conv-1"), assistant.NewText("1"))
		if _, err := p.heldFrames(bg, 1); err != nil {
			t.Fatal(err)
		}
		turnCtx, cancelTurn := context.WithCancel(bg)
		waitingTurn := sendAsync(turnCtx, m.hub.Sender("conv-1"), assistant.NewText("2"))
		synctest.Wait()
		cancelTurn()
		<-waitingTurn
		cancelAck()
		<-waitingAck
		m.hub.Sender("a\nb").Send(bg, assistant.NewText("3"))

		want := []SendInfo{
			{ID: "conv-1", Outcome: OutcomeCanceled, Delivery: assistant.NotDelivered},
			{ID: "conv-1", Outcome: OutcomeCanceled, Delivery: assistant.MaybeDelivered},
			{ID: "", Outcome: OutcomeNotConnected, Delivery: assistant.Rejected},
		}
		mu.Lock()
		defer mu.Unlock()
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Send hooks (-want +got):\n%s", diff)
		}
	})
}

// A write that fails on its own (the page stopped reading for longer than
// WriteTimeout) never put the whole frame on the wire: NotDelivered, and
// ErrNotConnected rather than ErrDisconnected.
func TestDeliveryWriteFailed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newMemHub(t, Options{NoPacing: true, WriteTimeout: time.Second})
		host := &fakeHost{}
		stall, release := make(chan struct{}), make(chan struct{})
		var once sync.Once
		m.connect("conv-1", host, pageOpts{beforePost: func(string) bool {
			once.Do(func() { close(stall); <-release })
			return false
		}})
		bg := context.Background()
		first := sendAsync(bg, m.hub.Sender("conv-1"), assistant.NewText("first"))
		<-stall
		start := time.Now()
		err := m.hub.Sender("conv-1").Send(bg, assistant.NewText("second"))
		if d := time.Since(start); d != time.Second {
			t.Errorf("the write failed after %v, want the WriteTimeout, 1s", d)
		}
		wantClass(t, "write failed", err, assistant.NotDelivered, errs(ErrNotConnected), ErrDisconnected)
		close(release)
		wantClass(t, "first", <-first, assistant.MaybeDelivered, errs(ErrDisconnected))
		for _, w := range host.wire() {
			if strings.Contains(string(w), "second") {
				t.Errorf("the message whose write failed was posted: %s", w)
			}
		}
	})
}
