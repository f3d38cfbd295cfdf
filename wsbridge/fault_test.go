//go:build !js

package wsbridge

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/imworkspace/assistant"
)

// cut closes the page's current connection from the server side, as a
// network failure or a proxy restart would.
func cut(h *Hub, id string) bool {
	c, err := h.lookup(id)
	if err != nil {
		return false
	}
	c.kill(websocket.StatusGoingAway, "cut", errors.New("cut by test"))
	return true
}

// reconnectingPage plays the browser tab: it keeps a fake page connected,
// redialling 20 ms after each close, keeping its posted ids across
// reconnects and forgetting them on reload.
type reconnectingPage struct {
	t    *testing.T
	url  string
	host *fakeHost
	o    pageOpts

	mu     sync.Mutex
	cur    *fakePage
	reload bool
	stop   bool
	conns  int
	done   chan struct{}
}

func (r *reconnectingPage) run() {
	defer close(r.done)
	var posted map[uint64]bool
	for {
		r.mu.Lock()
		if r.stop {
			r.mu.Unlock()
			return
		}
		if r.reload {
			posted, r.reload = nil, false
		}
		r.mu.Unlock()
		o := r.o
		o.posted = posted
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		p, _, err := dialPage(ctx, r.url, r.host, o)
		cancel()
		if err != nil {
			r.t.Errorf("redial: %v", err)
			return
		}
		r.mu.Lock()
		r.cur = p
		r.conns++
		r.mu.Unlock()
		<-p.done
		posted = p.posted // the read loop has ended: no one else uses it
		time.Sleep(20 * time.Millisecond)
	}
}

// reloadNow closes the page's socket from the page side and comes back as
// a fresh page instance.
func (r *reconnectingPage) reloadNow() {
	r.mu.Lock()
	r.reload = true
	p := r.cur
	r.mu.Unlock()
	p.ws.CloseNow()
}

func (r *reconnectingPage) close() {
	r.mu.Lock()
	r.stop = true
	p := r.cur
	r.mu.Unlock()
	if p != nil {
		p.ws.CloseNow()
	}
	<-r.done
}

// 30 sends while the connection is cut by the server three times (once
// after the page posted a message but before its ack, once while a message
// waits unposted in the page, once between sends) and the page reloads
// once. Every Send that returned nil reached the host exactly once, none
// reached it twice, every other Send returned a typed error.
func TestFaultCutsAndReload(t *testing.T) {
	hub, srv := newTestHub(t, Options{
		AckTimeout: 2 * time.Second,
		Pacing:     []assistant.LimitOption{assistant.WithInterval(30 * time.Millisecond), assistant.WithMargin(0)},
	})
	host := &fakeHost{}
	const id = "conv-1"
	text := func(i int) string { return fmt.Sprintf("msg-%02d", i) }
	wire := func(i int) string {
		w, _ := assistant.Encode(assistant.NewText(text(i)))
		return string(w)
	}
	var cuts sync.Map // wire string -> when to cut ("before" or "after" posting)
	cuts.Store(wire(6), "after")
	cuts.Store(wire(14), "before")
	maybeCut := func(when, data string) bool {
		if v, ok := cuts.Load(data); ok && v == when {
			cuts.Delete(data)
			if !cut(hub, id) {
				t.Errorf("cut %s %s: page not connected", when, data)
			}
			return true
		}
		return false
	}
	page := &reconnectingPage{t: t, url: wsURL(srv.URL, id), host: host, done: make(chan struct{}), o: pageOpts{
		beforePost: func(data string) bool { return maybeCut("before", data) },
		afterPost:  func(data string) { maybeCut("after", data) },
	}}
	go page.run()
	defer page.close()
	waitRegistered(t, hub, id, nil)

	s := hub.Sender(id) // paced by the Hub
	ctx := ctxT(t)
	results := make([]error, 30)
	for i := range 30 {
		switch i {
		case 10:
			if !cut(hub, id) { // between sends
				t.Error("cut between sends: page not connected")
			}
		case 20:
			page.reloadNow()
		}
		if err := hub.WaitConnected(ctx, id); err != nil { // the page redials 20 ms after a cut
			t.Fatal(err)
		}
		results[i] = s.Send(ctx, assistant.NewText(text(i)))
	}

	count := map[string]int{}
	for _, w := range host.wire() {
		count[string(w)]++
	}
	ok, failed := checkExactlyOnce(t, results, func(i int) int { return count[wire(i)] }, text)
	// The deterministic cuts: 6 was posted but not acked, 14 never posted.
	if !errors.Is(results[6], ErrDisconnected) || count[wire(6)] != 1 {
		t.Errorf("msg-06 (cut after post): err %v, host count %d; want ErrDisconnected and 1", results[6], count[wire(6)])
	}
	if !errors.Is(results[14], ErrDisconnected) || count[wire(14)] != 0 {
		t.Errorf("msg-14 (cut before post): err %v, host count %d; want ErrDisconnected and 0", results[14], count[wire(14)])
	}
	page.mu.Lock()
	conns := page.conns
	page.mu.Unlock()
	if conns < 5 {
		t.Errorf("%d connections, want at least 5 (3 cuts and a reload)", conns)
	}
	t.Logf("%d sends: %d nil, %d errors, %d messages at the host, %d connections", len(results), ok, failed, len(host.wire()), conns)
}

// checkExactlyOnce checks the delivery promise after a fault test: no
// message reached the host twice, every Send that returned nil reached it
// exactly once, and every other Send failed with a typed disconnect error.
// hostCount(i) is how often message i reached the host.
func checkExactlyOnce(t *testing.T, results []error, hostCount func(int) int, text func(int) string) (ok, failed int) {
	t.Helper()
	for i, err := range results {
		n := hostCount(i)
		switch {
		case n > 1:
			t.Errorf("%s reached the host %d times", text(i), n)
		case err == nil && n != 1:
			t.Errorf("Send(%s) = nil but the host got it %d times", text(i), n)
		case err != nil && !errors.Is(err, ErrDisconnected) && !errors.Is(err, ErrNotConnected):
			t.Errorf("Send(%s) = %v, want ErrDisconnected or ErrNotConnected", text(i), err)
		}
		if err == nil {
			ok++
		} else {
			failed++
			t.Logf("Send(%s): %v (host got it %d times)", text(i), err, n)
		}
	}
	return ok, failed
}
