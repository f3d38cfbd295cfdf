//go:build !js

package natsroute

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/imworkspace/assistant"
	"github.com/imworkspace/assistant/wsbridge"
	"github.com/imworkspace/assistant/wsbridge/wsbridgetest"
	"github.com/nats-io/nats.go"
)

// deafPage connects a page that never reads its socket: it acks nothing
// and never answers a close, so closing it waits out the websocket
// library's handshake timeouts.
func deafPage(t *testing.T, rp *replica, id string) {
	t.Helper()
	ctx := ctxT(t, 10*time.Second)
	ws, _, err := websocket.Dial(ctx, wsbridgetest.URL(rp.srv.URL, id), &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {rp.srv.URL}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.CloseNow() })
	if err := rp.r.Hub().WaitConnected(ctx, id); err != nil {
		t.Fatal(err)
	}
}

// Shutdown returns by its ctx's deadline plus a bounded stop (two NATS
// flushes, stopWait each), even while a page does not complete its
// closing handshake; it used to wait for Hub.Close, about 10 s more.
// Close then waits for the rest.
func TestShutdownBoundedByCtx(t *testing.T) {
	_, a, _ := twoReplicas(t, wsbridge.Options{}, Options{})
	deafPage(t, a, "deaf")
	go a.r.Sender("deaf").Send(context.Background(), assistant.NewText("never acked")) // keeps the drain waiting
	time.Sleep(100 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := a.r.Shutdown(ctx)
	took := time.Since(start)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown = %v, want context.DeadlineExceeded", err)
	}
	// Argued bound: 300 ms of ctx, then two flushes of a few ms on
	// loopback, bounded by stopWait each; 1 s of slack for a loaded
	// 2-core machine.
	if limit := 300*time.Millisecond + 2*stopWait + time.Second; took > limit {
		t.Errorf("Shutdown took %v after a 300 ms ctx, want at most %v", took, limit)
	}
	t.Logf("Shutdown returned after %v", took)
	start = time.Now()
	a.r.Close()
	t.Logf("Close waited %v more for the closing handshake", time.Since(start))
}

// A second Shutdown, while the first still drains, waits with its own
// ctx; it used to wait for the first regardless.
func TestShutdownSecondCallHonorsCtx(t *testing.T) {
	_, a, _ := twoReplicas(t, wsbridge.Options{}, Options{})
	pg := a.dial(t, "p", &wsbridgetest.Host{}, wsbridgetest.Options{Hold: true})
	sendErr := make(chan error, 1)
	go func() { sendErr <- a.r.Sender("p").Send(context.Background(), assistant.NewText("held")) }()
	held, err := pg.Held(ctxT(t, 10*time.Second), 1)
	if err != nil {
		t.Fatal(err)
	}
	first := make(chan error, 1)
	go func() { first <- a.r.Shutdown(ctxT(t, 20*time.Second)) }()
	time.Sleep(100 * time.Millisecond) // the first is draining: the Send waits for its ack
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = a.r.Shutdown(ctx)
	if took := time.Since(start); !errors.Is(err, context.DeadlineExceeded) || took > time.Second {
		t.Errorf("second Shutdown = %v after %v, want DeadlineExceeded after 200 ms", err, took)
	}
	pg.Ack(held[0].ID)
	if err := <-sendErr; err != nil {
		t.Errorf("drained Send = %v", err)
	}
	if err := <-first; err != nil {
		t.Errorf("first Shutdown = %v", err)
	}
	if err := a.r.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown after the first finished = %v, want nil", err)
	}
}

// Every request a replica receives is answered, also those that arrive
// while it stops: stop drains the subscriptions and answers what is left
// ("moving"). They used to be dropped, and their callers waited for their
// whole deadline (an ambiguous ErrTimeout).
func TestStopAnswersEveryRequest(t *testing.T) {
	// Close is left out: it stops at once, and a request NATS is routing
	// to the replica at the moment its subscription ends may be dropped
	// by the NATS server before the replica receives it (see the package
	// doc). Shutdown keeps a page's subscription until another replica has
	// claimed the page, so the server hands such requests to the new one.
	for _, how := range []string{"Shutdown"} {
		t.Run(how, func(t *testing.T) {
			c, a, b := twoReplicas(t, wsbridge.Options{NoPacing: true}, Options{})
			a.dial(t, "p", &wsbridgetest.Host{}, wsbridgetest.Options{})
			c.waitInterest(1, "p")
			const n = 400
			var wg sync.WaitGroup
			var mu sync.Mutex
			kinds := map[string]int{}
			start := make(chan struct{})
			for i := range n {
				wg.Go(func() {
					<-start
					time.Sleep(time.Duration(i) * 50 * time.Microsecond) // spread over 20 ms
					_, err := rawRequest(b.r, "p", "b."+strconv.Itoa(i), time.Now().Add(10*time.Second), "x", 3*time.Second)
					k := "answered"
					switch {
					case errors.Is(err, context.DeadlineExceeded):
						k = "no answer"
					case errors.Is(err, nats.ErrNoResponders):
						k = "no responders"
					case err != nil:
						k = err.Error()
					}
					mu.Lock()
					kinds[k]++
					mu.Unlock()
				})
			}
			close(start)
			time.Sleep(5 * time.Millisecond)
			if how == "Close" {
				a.r.Close()
			} else {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				a.r.Shutdown(ctx)
				cancel()
			}
			wg.Wait()
			t.Logf("%d requests: %v", n, kinds)
			if kinds["no answer"] != 0 {
				t.Errorf("%d of %d requests were never answered", kinds["no answer"], n)
			}
		})
	}
}
