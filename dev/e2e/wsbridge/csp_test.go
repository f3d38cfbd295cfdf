package wsbridge_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/imworkspace/assistant"
	"github.com/imworkspace/assistant/dev/internal/browser"
	"github.com/imworkspace/assistant/dev/internal/hostpage"
	"github.com/imworkspace/assistant/wsbridge"
)

// The package doc's advice for browsers that cannot tell the bridge who
// frames it: serve the component page with Content-Security-Policy:
// frame-ancestors <workspace origin>. A foreign origin that frames it then
// gets no page at all: the browser does not load it, bridge.js is never
// fetched, the page never connects, and no Send to it returns nil. The same
// page framed by the workspace works (so the header is what blocks the
// foreign framer). Run in every engine, and in Firefox without
// location.ancestorOrigins, where this header is the only protection.
func TestBrowserCSPFrameAncestors(t *testing.T) {
	for _, e := range append(browser.Engines(), browser.FirefoxNoAncestorOrigins) {
		t.Run(e.Name, func(t *testing.T) {
			tab := browser.New(t, e, 90*time.Second)
			srv := hostpage.NewServers(t) // srv.Host is the workspace
			foreign := httptest.NewServer(nil)
			t.Cleanup(foreign.Close)
			signer := newSigner(t)
			hub := wsbridge.NewHub(wsbridge.Options{
				OriginPatterns: []string{strings.TrimPrefix(srv.CompOrigin, "http://")},
				Authenticate:   signer.Verify,
			})
			var scriptFetches atomic.Int32
			mux := http.NewServeMux()
			mux.Handle("/ws", hub)
			mux.Handle("/bridge.js", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				scriptFetches.Add(1)
				wsbridge.ScriptHandler().ServeHTTP(w, r)
			}))
			hubSrv := httptest.NewServer(mux)
			t.Cleanup(func() { hub.Close(); hubSrv.Close() })

			data := map[string]string{
				"CompOrigin": srv.CompOrigin,
				"CompURL":    srv.CompOrigin + "/component.html",
				"HubURL":     hubSrv.URL,
				"WSURL":      hostpage.WSURL(hubSrv.URL),
				"ID":         "conv-1",
				"HostOrigin": srv.Host.URL, // the workspace: a foreign framer is a wrong parent too
				"Token":      signer.Sign("conv-1", time.Hour),
			}
			srv.Host.Config.Handler = hostpage.Serve(t, hostpage.Host, data, nil)
			foreign.Config.Handler = hostpage.Serve(t, hostpage.Host, data, nil)
			csp := http.Header{"Content-Security-Policy": {"frame-ancestors " + srv.Host.URL}}
			srv.Comp.Config.Handler = hostpage.Serve(t, hostpage.Component, data, csp)

			// The foreign framer.
			if err := tab.Navigate(foreign.URL + "/host.html"); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := hub.WaitConnected(ctx, "conv-1"); err == nil {
				t.Fatal("the component page framed by a foreign origin connected: the browser loaded it despite frame-ancestors")
			}
			sctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			err := hub.Sender("conv-1").Send(sctx, assistant.NewText("for the workspace only"))
			if !errors.Is(err, wsbridge.ErrNotConnected) || assistant.DeliveryOf(err) != assistant.NotDelivered {
				t.Errorf("Send to the page framed by a foreign origin = %v (%v), want ErrNotConnected, NotDelivered", err, assistant.DeliveryOf(err))
			}
			if n := scriptFetches.Load(); n != 0 {
				t.Errorf("bridge.js fetched %d times: the blocked page ran", n)
			}
			if recs := hostpage.Records(t, tab); len(recs) != 0 {
				t.Errorf("the foreign framer received %d messages", len(recs))
			}
			t.Logf("%s: foreign framer: not connected after 5 s, Send = %v (%v)", e.Name, err, assistant.DeliveryOf(err))

			// The workspace.
			if err := tab.Navigate(srv.Host.URL + "/host.html"); err != nil {
				t.Fatal(err)
			}
			waitConnected(t, hub, "conv-1")
			msg := assistant.NewText("for the workspace")
			sctx, cancel = context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			if err := hub.Sender("conv-1").Send(sctx, msg); err != nil {
				t.Fatalf("Send to the page framed by the workspace = %v", err)
			}
			want, _ := assistant.Encode(msg)
			if recs := hostpage.Wait(t, tab, 1, 5*time.Second); len(recs) != 1 || recs[0].Data != string(want) {
				t.Errorf("the workspace received %+v, want one %s", recs, want)
			}
		})
	}
}
