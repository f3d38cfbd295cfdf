//go:build !js

package wsbridge

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"text/template"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/imworkspace/assistant"
	"github.com/imworkspace/assistant/internal/browsertest"
)

// A deploy in Chromium: the page's Hub shuts down (1001, going away), the
// bridge reconnects to the Hub that now serves the same URL (another
// replica) and receives from it; then that Hub replaces the connection
// (4000), and the bridge does not come back.
func TestBrowserReconnectAfterShutdownNotAfterReplace(t *testing.T) {
	ctx := browsertest.New(t, 60*time.Second)
	hostSrv := httptest.NewServer(nil)
	compSrv := httptest.NewServer(nil)
	t.Cleanup(hostSrv.Close)
	t.Cleanup(compSrv.Close)
	compOrigin := strings.Replace(compSrv.URL, "127.0.0.1", "localhost", 1)
	signer, err := NewTokenSigner([]byte(strings.Repeat("k", MinKeySize)))
	if err != nil {
		t.Fatal(err)
	}

	// Two replicas behind one URL: current says which one gets new pages.
	var mu sync.Mutex
	conns := map[*Hub][]uint64{} // connection numbers by Hub, from the Connect hook
	newReplica := func() *Hub {
		var h *Hub
		h = NewHub(Options{
			OriginPatterns: []string{strings.TrimPrefix(compOrigin, "http://")},
			Authenticate:   signer.Verify,
			OnError:        func(id string, err error) { t.Logf("hub: page %q: %v", id, err) },
			Hooks: []Hooks{{Connect: func(i ConnectInfo) {
				mu.Lock()
				conns[h] = append(conns[h], i.Conn)
				mu.Unlock()
			}}},
		})
		t.Cleanup(func() { h.Close() })
		return h
	}
	a, b := newReplica(), newReplica()
	var current atomic.Pointer[Hub]
	current.Store(a)
	var dials atomic.Int32
	mux := http.NewServeMux()
	mux.Handle("/bridge.js", ScriptHandler())
	mux.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
		dials.Add(1)
		current.Load().ServeHTTP(w, r)
	})
	lb := httptest.NewServer(mux)
	t.Cleanup(lb.Close)

	data := map[string]string{
		"CompOrigin": compOrigin,
		"CompURL":    compOrigin + "/component.html",
		"HubURL":     lb.URL,
		"WSURL":      strings.Replace(lb.URL, "http://", "ws://", 1) + "/ws",
		"HostOrigin": hostSrv.URL,
		"Token":      signer.Sign("conv-1", time.Hour),
	}
	serve := func(page string) http.Handler {
		tmpl := template.Must(template.New("").Parse(page))
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			tmpl.Execute(w, data)
		})
	}
	hostSrv.Config.Handler = serve(hostPage)
	compSrv.Config.Handler = serve(componentPage)
	if err := chromedp.Do(ctx, chromedp.Navigate(hostSrv.URL+"/host.html")); err != nil {
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
	var recs []hostRecord
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if recs = b2got(t, ctx); len(recs) >= 1 || time.Now().After(deadline) {
			break
		}
	}
	if len(recs) != 1 || recs[0].Data != string(want) {
		t.Fatalf("host got %+v, want one %s", recs, want)
	}

	// Replace: 4000, and no reconnect. The bridge's first retry would come
	// within 250 ms of the close (backoff 250 ms, jittered down); 3 s
	// leaves room for a slow machine and several retries.
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
}

// b2got reads the host page's records (browserSetup.got without a setup).
func b2got(t *testing.T, ctx context.Context) []hostRecord {
	return (&browserSetup{ctx: ctx}).got(t)
}
