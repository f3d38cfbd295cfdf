//go:build !js

package main

import (
	"bytes"
	"context"
	"html"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/coder/websocket"
)

var (
	targetOriginAttr = regexp.MustCompile(`data-target-origin="([^"]*)"`)
	tokenAttr        = regexp.MustCompile(`data-token="([^"]*)"`)
)

// The bridge page posts to the workspace page that frames it, never to an
// origin from its query (any framing site controls that), only that page
// may frame it (CSP frame-ancestors), and it carries a token for its id.
func TestSimBridgePageOrigin(t *testing.T) {
	s := startSim(t, simConfig{})
	_, compPort, _ := net.SplitHostPort(s.compLn.Addr().String())
	_, hostPort, _ := net.SplitHostPort(s.hostLn.Addr().String())
	for _, tc := range []struct{ compHost, workspace string }{
		{"localhost:" + compPort, s.hostOrigin},                   // workspace on 127.0.0.1
		{"127.0.0.1:" + compPort, "http://localhost:" + hostPort}, // workspace opened on localhost
	} {
		req, _ := http.NewRequest("GET", s.compOrigin+"/bridge/?origin="+url.QueryEscape("https://evil.example"), nil)
		req.Host = tc.compHost
		res, body := do(t, req)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%s: %s", tc.compHost, res.Status)
		}
		if m := targetOriginAttr.FindStringSubmatch(body); m == nil || html.UnescapeString(m[1]) != tc.workspace {
			t.Errorf("bridge page on %s posts to %v, want %s", tc.compHost, m, tc.workspace)
		}
		if csp, want := res.Header.Get("Content-Security-Policy"), "frame-ancestors "+tc.workspace; csp != want {
			t.Errorf("bridge page on %s: CSP %q, want %q", tc.compHost, csp, want)
		}
		m := tokenAttr.FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("bridge page has no data-token:\n%s", body)
		}
		r, _ := http.NewRequest("GET", "/ws?token="+url.QueryEscape(html.UnescapeString(m[1])), nil)
		if err := s.signer.Verify(r, bridgePageID); err != nil {
			t.Errorf("bridge page token: %v", err)
		}
	}
	// The default component's pages get the same frame-ancestors.
	res, _ := get(t, s.compOrigin+"/")
	if csp, want := res.Header.Get("Content-Security-Policy"), "frame-ancestors "+s.hostOrigin; csp != want {
		t.Errorf("default component: CSP %q, want %q", csp, want)
	}
}

// The component server has the workspace server's Host guard (DNS
// rebinding), and its Hub needs the bridge page's token.
func TestSimComponentServerGuard(t *testing.T) {
	s := startSim(t, simConfig{})
	_, port, _ := net.SplitHostPort(s.compLn.Addr().String())
	for _, path := range []string{"/bridge/", "/bridge.js", "/ws?id=" + bridgePageID, "/"} {
		req, _ := http.NewRequest("GET", s.compOrigin+path, nil)
		req.Host = "rebind.evil.example:" + port
		req.Header.Set("Origin", "http://rebind.evil.example:"+port)
		if res, got := do(t, req); res.StatusCode != http.StatusMisdirectedRequest {
			t.Errorf("%s with a foreign Host: %s %q, want 421", path, res.Status, got)
		}
	}
	ws := strings.Replace(s.compOrigin, "http://", "ws://", 1) + "/ws?id=" + bridgePageID
	ctx := context.Background()
	for _, token := range []string{"", "1.AAAA"} {
		c, res, err := websocket.Dial(ctx, ws+"&token="+token, &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {s.compOrigin}}})
		if err == nil {
			c.CloseNow()
			t.Fatalf("token %q: a program took the bridge page's id over", token)
		}
		if res == nil || res.StatusCode != http.StatusForbidden {
			t.Errorf("token %q: %v, want 403", token, err)
		}
	}
}

// Finding 11: listening on a non-loopback interface warns, and the
// component server stays on the workspace server's interface.
func TestSimNonLoopbackWarns(t *testing.T) {
	for _, tc := range []struct {
		addr string
		warn bool
	}{
		{"127.0.0.1:0", false},
		{"0.0.0.0:0", true},
	} {
		var log bytes.Buffer
		s, err := newSim(context.Background(), simConfig{Addr: tc.addr, Log: &log})
		if err != nil {
			t.Fatal(err)
		}
		hostIP := s.hostLn.Addr().(*net.TCPAddr).IP
		compIP := s.compLn.Addr().(*net.TCPAddr).IP
		s.hostLn.Close()
		s.compLn.Close()
		s.hub.Close()
		if !hostIP.Equal(compIP) {
			t.Errorf("--addr %s: workspace on %v, component on %v; want one interface", tc.addr, hostIP, compIP)
		}
		if got := strings.Contains(log.String(), "warning: listening on"); got != tc.warn {
			t.Errorf("--addr %s: warned %v, want %v; log:\n%s", tc.addr, got, tc.warn, log.String())
		}
	}
}
