// Package wsbridge_test runs wsbridge end to end in real browsers, through
// its exported API only: a Hub, its bridge.js in a component page framed
// cross-site by a workspace host page, in every engine of
// dev/internal/browser.
package wsbridge_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/imworkspace/assistant/dev/internal/browser"
	"github.com/imworkspace/assistant/dev/internal/hostpage"
	"github.com/imworkspace/assistant/wsbridge"
)

// setup is a host page on http://127.0.0.1:A framing a component page on
// http://localhost:B, whose bridge connects to a Hub on http://127.0.0.1:C
// (or through a proxy in front of it).
type setup struct {
	hub     *wsbridge.Hub
	tab     *browser.Tab
	srv     *hostpage.Servers
	proxy   *proxy // nil unless config.proxy
	hostURL string
}

type config struct {
	opts    wsbridge.Options
	target  string        // data-target-origin instead of the host's origin, if not ""
	proxy   bool          // connect the bridge through a proxy the test can cut and rewrite
	timeout time.Duration // for the browser
}

// newSetup starts the servers, a browser of engine e, loads the host page
// and waits until the page has connected.
func newSetup(t *testing.T, e browser.Engine, c config) *setup {
	t.Helper()
	tab := browser.New(t, e, c.timeout)
	srv := hostpage.NewServers(t)
	opts := c.opts
	opts.OriginPatterns = []string{strings.TrimPrefix(srv.CompOrigin, "http://")}
	signer := newSigner(t)
	opts.Authenticate = signer.Verify
	opts.OnError = func(id string, err error) { t.Logf("hub: page %q: %v", id, err) }
	hub, hubSrv := newHub(t, opts)

	wsURL := hostpage.WSURL(hubSrv.URL)
	var p *proxy
	if c.proxy {
		p = newProxy(t, wsURL)
		wsURL = hostpage.WSURL(p.srv.URL)
	}
	data := map[string]string{
		"CompOrigin": srv.CompOrigin,
		"CompURL":    srv.CompOrigin + "/component.html",
		"HubURL":     hubSrv.URL,
		"WSURL":      wsURL,
		"ID":         "conv-1",
		"HostOrigin": srv.Host.URL,
		"Token":      signer.Sign("conv-1", time.Hour),
	}
	if c.target != "" {
		data["HostOrigin"] = c.target
	}
	srv.Host.Config.Handler = hostpage.Serve(t, hostpage.Host, data, nil)
	srv.Comp.Config.Handler = hostpage.Serve(t, hostpage.Component, data, nil)
	if err := tab.Navigate(srv.Host.URL + "/host.html"); err != nil {
		t.Fatal(err)
	}
	waitConnected(t, hub, "conv-1")
	return &setup{hub: hub, tab: tab, srv: srv, proxy: p, hostURL: srv.Host.URL}
}

func newSigner(t testing.TB) *wsbridge.TokenSigner {
	signer, err := wsbridge.NewTokenSigner([]byte(strings.Repeat("k", wsbridge.MinKeySize)))
	if err != nil {
		t.Fatal(err)
	}
	return signer
}

// newHub serves a Hub at /ws and bridge.js at /bridge.js; both close when
// t ends.
func newHub(t testing.TB, opts wsbridge.Options) (*wsbridge.Hub, *httptest.Server) {
	hub := wsbridge.NewHub(opts)
	mux := http.NewServeMux()
	mux.Handle("/ws", hub)
	mux.Handle("/bridge.js", wsbridge.ScriptHandler())
	srv := httptest.NewServer(mux)
	t.Cleanup(func() {
		hub.Close()
		srv.Close()
	})
	return hub, srv
}

func waitConnected(t testing.TB, hub *wsbridge.Hub, id string) {
	t.Helper()
	ctx, cancel := contextTimeout(30 * time.Second)
	defer cancel()
	if err := hub.WaitConnected(ctx, id); err != nil {
		t.Fatalf("page %q never connected: %v", id, err)
	}
}
