//go:build !js

package wsbridge

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/imworkspace/assistant"
)

// spacing is the Hub's default pacing: assistant.RateLimited's defaults.
const spacing = assistant.DefaultInterval + assistant.DefaultMargin

// offsets returns the posts' data and their times relative to start.
func offsets(posts []post, start time.Time) (data []string, at []time.Duration) {
	for _, p := range posts {
		data = append(data, p.data)
		at = append(at, p.at.Sub(start))
	}
	return data, at
}

func wireOf(texts ...string) []string {
	var out []string
	for _, s := range texts {
		w, _ := assistant.Encode(assistant.NewText(s))
		out = append(out, string(w))
	}
	return out
}

// Sends to one page from many goroutines take turns in the Hub, in
// arrival order, one spacing apart at the page; another page is not held
// up by them.
func TestHubPacesEachPage(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newMemHub(t, Options{})
		host, other := &fakeHost{}, &fakeHost{}
		m.connect("conv-1", host, pageOpts{})
		m.connect("conv-2", other, pageOpts{})
		start := time.Now()
		ctx := context.Background()
		res := make([]<-chan error, 5)
		for i := range res {
			res[i] = sendAsync(ctx, m.hub.Sender("conv-1"), assistant.NewText(fmt.Sprint(i)))
			synctest.Wait() // it has arrived: sent, or queued for its turn
		}
		if err := m.hub.Sender("conv-2").Send(ctx, assistant.NewText("other")); err != nil {
			t.Fatal(err)
		}
		if _, at := offsets(other.snapshot(), start); !cmp.Equal(at, []time.Duration{0}) {
			t.Errorf("the other page's message was posted at %v, want [0s]", at)
		}
		for i, ch := range res {
			if err := <-ch; err != nil {
				t.Fatalf("Send %d = %v", i, err)
			}
		}
		data, at := offsets(host.snapshot(), start)
		if diff := cmp.Diff(wireOf("0", "1", "2", "3", "4"), data); diff != "" {
			t.Errorf("posted (-want +got):\n%s", diff)
		}
		want := []time.Duration{0, spacing, 2 * spacing, 3 * spacing, 4 * spacing}
		if diff := cmp.Diff(want, at); diff != "" {
			t.Errorf("post times (-want +got):\n%s", diff)
		}
		if s := m.hub.Stats(); s.InFlight != 0 || s.Sends[OutcomeAcked] != 6 {
			t.Errorf("Stats = %+v, want 6 acked, none in flight", s)
		}
	})
}

// Wrapping the paced Sender in assistant.RateLimited, as the docs used to
// say, does not double the spacing.
func TestWrappedSenderNotDoublySpaced(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newMemHub(t, Options{})
		host := &fakeHost{}
		m.connect("conv-1", host, pageOpts{})
		start := time.Now()
		s := assistant.RateLimited(m.hub.Sender("conv-1"))
		for i := range 3 {
			if err := s.Send(context.Background(), assistant.NewText(fmt.Sprint(i))); err != nil {
				t.Fatal(err)
			}
		}
		_, at := offsets(host.snapshot(), start)
		if diff := cmp.Diff([]time.Duration{0, spacing, 2 * spacing}, at); diff != "" {
			t.Errorf("post times (-want +got):\n%s", diff)
		}
	})
}

// Sends queued for the turn of a page that disconnects fail at once with
// ErrNotConnected (nothing was written), instead of each waiting out its
// turn; the next connection with the id starts a fresh turn order.
func TestPacingDroppedOnDisconnect(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newMemHub(t, Options{AckTimeout: time.Hour})
		p := m.connect("conv-1", &fakeHost{}, pageOpts{hold: true})
		start := time.Now()
		ctx := context.Background()
		var res []<-chan error
		for i := range 3 {
			res = append(res, sendAsync(ctx, m.hub.Sender("conv-1"), assistant.NewText(fmt.Sprint(i))))
			synctest.Wait()
		}
		if s := m.hub.Stats(); s.InFlight != 3 {
			t.Errorf("Stats.InFlight = %d, want 3", s.InFlight)
		}
		p.close()
		synctest.Wait()
		if err := <-res[0]; !errors.Is(err, ErrDisconnected) {
			t.Errorf("written Send = %v, want ErrDisconnected", err)
		}
		for i, ch := range res[1:] {
			select {
			case err := <-ch:
				if !errors.Is(err, ErrNotConnected) {
					t.Errorf("queued Send %d = %v, want ErrNotConnected", i+1, err)
				}
			default:
				t.Fatalf("queued Send %d still waiting after the disconnect", i+1)
			}
		}
		if d := time.Since(start); d != 0 {
			t.Errorf("the queued Sends took %v, want 0", d)
		}
		host := &fakeHost{}
		m.connect("conv-1", host, pageOpts{})
		if err := m.hub.Sender("conv-1").Send(ctx, assistant.NewText("new")); err != nil {
			t.Fatal(err)
		}
		if _, at := offsets(host.snapshot(), start); !cmp.Equal(at, []time.Duration{0}) {
			t.Errorf("first Send to the new connection posted at %v, want [0s]", at)
		}
	})
}

// A deadline that falls before the page's turn fails at once; a canceled
// wait for the turn gives its place up.
func TestPacingContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newMemHub(t, Options{})
		host := &fakeHost{}
		m.connect("conv-1", host, pageOpts{})
		start := time.Now()
		s := m.hub.Sender("conv-1")
		bg := context.Background()
		if err := s.Send(bg, assistant.NewText("0")); err != nil {
			t.Fatal(err)
		}
		short, cancel := context.WithTimeout(bg, spacing/2)
		defer cancel()
		if err := s.Send(short, assistant.NewText("late")); !errors.Is(err, context.DeadlineExceeded) || time.Since(start) != 0 {
			t.Errorf("Send with a deadline before the turn = %v after %v, want DeadlineExceeded at once", err, time.Since(start))
		}
		cctx, cancel2 := context.WithCancel(bg)
		canceled := sendAsync(cctx, s, assistant.NewText("canceled"))
		synctest.Wait()
		cancel2()
		if err := <-canceled; !errors.Is(err, context.Canceled) {
			t.Errorf("canceled Send = %v", err)
		}
		if err := s.Send(bg, assistant.NewText("1")); err != nil {
			t.Fatal(err)
		}
		data, at := offsets(host.snapshot(), start)
		if diff := cmp.Diff(wireOf("0", "1"), data); diff != "" {
			t.Errorf("posted (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]time.Duration{0, spacing}, at); diff != "" {
			t.Errorf("post times (-want +got):\n%s", diff)
		}
		want := map[Outcome]uint64{OutcomeAcked: 2, OutcomeCanceled: 2}
		if diff := cmp.Diff(want, m.hub.Stats().Sends); diff != "" {
			t.Errorf("Stats.Sends (-want +got):\n%s", diff)
		}
	})
}
