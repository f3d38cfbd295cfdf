//go:build !js

package wsbridge

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/coder/websocket"
	"github.com/google/go-cmp/cmp"
	"github.com/imworkspace/assistant"
)

// Shutdown refuses new connections and Sends, lets the Sends in progress
// finish (the one written and the one waiting for its turn), then closes
// the pages with 1001.
func TestShutdownDrains(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		causes := make(chan error, 2)
		m := newMemHub(t, Options{Hooks: []Hooks{{Disconnect: func(i DisconnectInfo) { causes <- i.Cause }}}})
		ctx := context.Background()
		host := &fakeHost{}
		p := m.connect("conv-1", host, pageOpts{hold: true})
		idle := m.connect("idle", &fakeHost{}, pageOpts{})
		first := sendAsync(ctx, m.hub.Sender("conv-1"), assistant.NewText("1"))
		synctest.Wait()
		second := sendAsync(ctx, m.hub.Sender("conv-1"), assistant.NewText("2")) // waits for its turn
		synctest.Wait()

		done := make(chan error, 1)
		go func() { done <- m.hub.Shutdown(ctx) }()
		synctest.Wait()
		if err := m.hub.Sender("idle").Send(ctx, assistant.NewText("new")); !errors.Is(err, ErrClosed) {
			t.Errorf("new Send during Shutdown = %v, want ErrClosed", err)
		}
		_, resp, err := dialPage(ctx, "ws://mem/ws?id=late", &fakeHost{}, pageOpts{client: m.client})
		if err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("dial during Shutdown: %v, %v; want 503", err, resp)
		}
		if !m.hub.Connected("conv-1") || !m.hub.Connected("idle") {
			t.Error("pages dropped before the Sends in progress ended")
		}
		var lastAck time.Time
		for n := 1; n <= 2; n++ { // the page acks each Send a little later
			held, err := p.heldFrames(ctx, n)
			if err != nil {
				t.Fatal(err)
			}
			time.Sleep(100 * time.Millisecond)
			select {
			case err := <-done:
				t.Fatalf("Shutdown returned %v before ack %d", err, n)
			default:
			}
			lastAck = time.Now()
			p.ack(held[n-1].ID)
		}
		if err1, err2 := <-first, <-second; err1 != nil || err2 != nil {
			t.Errorf("Sends in progress = %v, %v; want nil", err1, err2)
		}
		if err := <-done; err != nil {
			t.Errorf("Shutdown = %v", err)
		}
		if d := time.Since(lastAck); d != 0 {
			t.Errorf("Shutdown returned %v after the last ack, want at once", d)
		}
		for _, pg := range []*fakePage{p, idle} {
			if code := pg.closeStatus(ctx); code != websocket.StatusGoingAway {
				t.Errorf("page closed with %v, want 1001", code)
			}
		}
		for range 2 {
			if err := <-causes; !errors.Is(err, ErrClosed) {
				t.Errorf("Disconnect cause = %v, want ErrClosed", err)
			}
		}
		want := map[Outcome]uint64{OutcomeAcked: 2, OutcomeClosed: 1}
		if diff := cmp.Diff(want, m.hub.Stats().Sends); diff != "" {
			t.Errorf("Stats.Sends (-want +got):\n%s", diff)
		}
	})
}

// When ctx ends first, Shutdown closes what is left as Close does and
// returns ctx's error; the unfinished Sends fail with typed errors.
func TestShutdownContextEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newMemHub(t, Options{AckTimeout: time.Hour})
		ctx := context.Background()
		p := m.connect("conv-1", &fakeHost{}, pageOpts{hold: true})
		written := sendAsync(ctx, m.hub.Sender("conv-1"), assistant.NewText("1"))
		synctest.Wait()
		queued := sendAsync(ctx, m.hub.Sender("conv-1"), assistant.NewText("2"))
		synctest.Wait()
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		start := time.Now()
		if err := m.hub.Shutdown(sctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Shutdown = %v, want DeadlineExceeded", err)
		}
		if d := time.Since(start); d != 5*time.Second {
			t.Errorf("Shutdown took %v, want 5s", d)
		}
		if err := <-written; !errors.Is(err, ErrDisconnected) || errors.Is(err, ErrClosed) {
			t.Errorf("written Send = %v, want ErrDisconnected (not ErrClosed: it may have arrived)", err)
		}
		if err := <-queued; errors.Is(err, ErrDisconnected) || !errors.Is(err, ErrClosed) {
			t.Errorf("queued Send = %v, want ErrClosed (nothing written)", err)
		}
		if code := p.closeStatus(ctx); code != websocket.StatusGoingAway {
			t.Errorf("page closed with %v, want 1001", code)
		}
		if err := m.hub.Close(); err != nil {
			t.Errorf("Close after Shutdown = %v", err)
		}
	})
}

// Shutdown of an idle Hub returns at once; a second Shutdown or Close is
// harmless.
func TestShutdownIdle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newMemHub(t, Options{})
		p := m.connect("conv-1", &fakeHost{}, pageOpts{})
		ctx := context.Background()
		if err := m.hub.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
		if code := p.closeStatus(ctx); code != websocket.StatusGoingAway {
			t.Errorf("page closed with %v, want 1001", code)
		}
		if err := m.hub.Shutdown(ctx); err != nil {
			t.Errorf("second Shutdown = %v", err)
		}
		if err := m.hub.Close(); err != nil {
			t.Errorf("Close = %v", err)
		}
	})
}
