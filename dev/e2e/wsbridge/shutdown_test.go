package wsbridge_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/imworkspace/assistant"
	"github.com/imworkspace/assistant/dev/internal/browser"
	"github.com/imworkspace/assistant/dev/internal/hostpage"
	"github.com/imworkspace/assistant/wsbridge"
)

// A deploy in a real browser: the page's Hub shuts down (1001, going away),
// the bridge reconnects to the Hub that now serves the same URL (another
// replica) and receives from it; then that Hub replaces the connection
// (4000), and the bridge does not come back.
func TestBrowserReconnectAfterShutdownNotAfterReplace(t *testing.T) {
	browser.Each(t, func(t *testing.T, e browser.Engine) {
		tab := browser.New(t, e, 90*time.Second)
		srv := hostpage.NewServers(t)
		signer := newSigner(t)

		// Two replicas behind one URL: current says which one gets new pages.
		var mu sync.Mutex
		conns := map[*wsbridge.Hub][]uint64{} // connection numbers by Hub, from the Connect hook
		newReplica := func() *wsbridge.Hub {
			var h *wsbridge.Hub
			h = wsbridge.NewHub(wsbridge.Options{
				OriginPatterns: []string{strings.TrimPrefix(srv.CompOrigin, "http://")},
				Authenticate:   signer.Verify,
				OnError:        func(id string, err error) { t.Logf("hub: page %q: %v", id, err) },
				Hooks: []wsbridge.Hooks{{Connect: func(i wsbridge.ConnectInfo) {
					mu.Lock()
					conns[h] = append(conns[h], i.Conn)
					mu.Unlock()
				}}},
			})
			t.Cleanup(func() { h.Close() })
			return h
		}
		a, b := newReplica(), newReplica()
		var current atomic.Pointer[wsbridge.Hub]
		current.Store(a)
		var dials atomic.Int32
		mux := http.NewServeMux()
		mux.Handle("/bridge.js", wsbridge.ScriptHandler())
		mux.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
			dials.Add(1)
			current.Load().ServeHTTP(w, r)
		})
		lb := httptest.NewServer(mux)
		t.Cleanup(lb.Close)

		data := map[string]string{
			"CompOrigin": srv.CompOrigin,
			"CompURL":    srv.CompOrigin + "/component.html",
			"HubURL":     lb.URL,
			"WSURL":      hostpage.WSURL(lb.URL),
			"ID":         "conv-1",
			"HostOrigin": srv.Host.URL,
			"Token":      signer.Sign("conv-1", time.Hour),
		}
		srv.Host.Config.Handler = hostpage.Serve(t, hostpage.Host, data, nil)
		srv.Comp.Config.Handler = hostpage.Serve(t, hostpage.Component, data, nil)
		if err := tab.Navigate(srv.Host.URL + "/host.html"); err != nil {
			t.Fatal(err)
		}
		wctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := a.WaitConnected(wctx, "conv-1"); err != nil {
			t.Fatalf("page never reached replica A: %v", err)
		}

		// Deploy: new pages go to B, A drains and closes its pages with 1001.
		current.Store(b)
		if err := a.Shutdown(wctx); err != nil {
			t.Fatalf("Shutdown = %v", err)
		}
		if err := b.WaitConnected(wctx, "conv-1"); err != nil {
			t.Fatalf("the bridge did not reconnect after 1001: %v", err)
		}
		msg := assistant.NewText("from replica B")
		if err := b.Sender("conv-1").Send(wctx, msg); err != nil {
			t.Fatalf("Send through replica B = %v", err)
		}
		want, _ := assistant.Encode(msg)
		if recs := hostpage.Wait(t, tab, 1, 5*time.Second); len(recs) != 1 || recs[0].Data != string(want) {
			t.Fatalf("host got %+v, want one %s", recs, want)
		}

		// Replace: 4000, and no reconnect. The bridge's first retry would
		// come within 250 ms of the close (backoff 250 ms, jittered down);
		// 3 s leaves room for a slow machine and several retries.
		mu.Lock()
		conn := conns[b][0]
		mu.Unlock()
		before := dials.Load()
		if !b.Replace("conv-1", conn) {
			t.Fatal("Replace of the live connection = false")
		}
		time.Sleep(3 * time.Second)
		if n := dials.Load() - before; n != 0 || b.Connected("conv-1") {
			t.Errorf("after 4000 the bridge dialled %d times (connected: %v), want 0", n, b.Connected("conv-1"))
		}
		mu.Lock()
		defer mu.Unlock()
		if len(conns[a]) != 1 || len(conns[b]) != 1 {
			t.Errorf("connections: A %v, B %v; want one each", conns[a], conns[b])
		}
	})
}
