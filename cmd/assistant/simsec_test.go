//go:build !js

package main

import (
	"bytes"
	"context"
	"html"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/coder/websocket"

	"github.com/imworkspace/assistant/wsbridge"
)

var (
	targetOriginAttr = regexp.MustCompile(`data-target-origin="([^"]*)"`)
	tokenAttr        = regexp.MustCompile(`data-token="([^"]*)"`)
)

// The bridge page posts to the workspace page that frames it, never to an
// origin from its query (any framing site controls that), only that page
// may frame it (CSP frame-ancestors), and it carries a token for its id.
func TestSimBridgePageOrigin(t *testing.T) {
	s := startSim(t, simConfig{ModuleDir: t.TempDir()})
	_, compPort, _ := net.SplitHostPort(s.compLn.Addr().String())
	_, hostPort, _ := net.SplitHostPort(s.hostLn.Addr().String())
	for _, tc := range []struct{ compHost, workspace string }{
		{"localhost:" + compPort, s.hostOrigin},                   // workspace on 127.0.0.1
		{"127.0.0.1:" + compPort, "http://localhost:" + hostPort}, // workspace opened on localhost
	} {
		req, _ := http.NewRequest("GET", s.withTicket(s.compOrigin+"/bridge/")+"&origin="+url.QueryEscape("https://evil.example"), nil)
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
		r, _ := http.NewRequest("GET", "/ws?id="+bridgePageID, nil)
		r.Header.Set("Sec-WebSocket-Protocol", wsbridge.Subprotocol+", "+wsbridge.TokenProtocolPrefix+html.UnescapeString(m[1]))
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
	s := startSim(t, simConfig{ModuleDir: t.TempDir()})
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
		protocols := []string{wsbridge.Subprotocol}
		if token != "" {
			protocols = append(protocols, wsbridge.TokenProtocolPrefix+token)
		}
		c, res, err := websocket.Dial(ctx, ws, &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {s.compOrigin}}, Subprotocols: protocols})
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
		s, err := newSim(context.Background(), simConfig{Addr: tc.addr, ModuleDir: t.TempDir(), Log: &log})
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

// Issue 17 finding 6: GET /bridge/ handed a fresh bridge token to any
// program on the machine that passed the Host guard, and with it the
// program took the demo page's id over. Now the workspace page and its
// APIs need the secret cookie, the bridge page needs a one-time ticket
// that only the workspace page hands out, and a program without the
// printed URL gets neither.
func TestSimBridgeTokenNeedsSecret(t *testing.T) {
	s := startSim(t, simConfig{Component: "http://127.0.0.1:9/unused.html"})
	stranger := &http.Client{} // no cookie: another program on this machine
	fetch := func(c *http.Client, method, u, origin string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(method, u, strings.NewReader(`{"wire":"{}"}`))
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res, string(b)
	}
	for _, tc := range []struct{ method, url, origin string }{
		{"GET", s.compOrigin + "/bridge/", ""},
		{"GET", s.compOrigin + "/bridge/?ticket=" + s.secret, ""},
		{"GET", s.compOrigin + "/bridge/?ticket=AAAAAAAAAAAAAAAAAAAAAAAAAA", ""},
		{"GET", s.hostOrigin + "/?demo=wsbridge", ""},
		{"GET", s.hostOrigin + "/", ""},
		{"GET", s.hostOrigin + "/?token=wrong&demo=wsbridge", ""},
		{"POST", s.hostOrigin + "/api/check", s.hostOrigin},
		{"POST", s.hostOrigin + "/api/wsbridge/send", s.hostOrigin},
	} {
		res, body := fetch(stranger, tc.method, tc.url, tc.origin)
		if res.StatusCode != http.StatusForbidden || tokenAttr.MatchString(body) || strings.Contains(body, "ticket=") {
			t.Errorf("%s %s without the secret: %s %.200q, want 403 and no token or ticket", tc.method, tc.url, res.Status, body)
		}
	}
	// The printed URL's holder (browser, see startSim) gets the demo page,
	// whose frame URL has a ticket, which gets the bridge page once.
	res, body := get(t, s.hostOrigin+"/?demo=wsbridge")
	m := regexp.MustCompile(`data-component="([^"]*)"`).FindStringSubmatch(body)
	if res.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("demo page with the cookie: %s, no data-component:\n%s", res.Status, body)
	}
	frame := html.UnescapeString(m[1])
	if !strings.HasPrefix(frame, s.compOrigin+"/bridge/?ticket=") {
		t.Fatalf("demo frame %q, want %s/bridge/?ticket=…", frame, s.compOrigin)
	}
	res, body = fetch(stranger, "GET", frame, "") // the frame's request carries no cookie either
	tm := tokenAttr.FindStringSubmatch(body)
	if res.StatusCode != http.StatusOK || tm == nil {
		t.Fatalf("bridge page with a ticket: %s:\n%s", res.Status, body)
	}
	if rp := res.Header.Get("Referrer-Policy"); rp != "no-referrer" {
		t.Errorf("bridge page Referrer-Policy %q, want no-referrer", rp)
	}
	r, _ := http.NewRequest("GET", "/ws?id="+bridgePageID, nil)
	r.Header.Set("Sec-WebSocket-Protocol", wsbridge.Subprotocol+", "+wsbridge.TokenProtocolPrefix+html.UnescapeString(tm[1]))
	if err := s.signer.Verify(r, bridgePageID); err != nil {
		t.Errorf("the bridge page's token: %v", err)
	}
	if res, body := fetch(stranger, "GET", frame, ""); res.StatusCode != http.StatusForbidden || tokenAttr.MatchString(body) {
		t.Errorf("the same ticket again: %s, want 403 and no token", res.Status)
	}
}

// The printed URL sets the secret cookie (HttpOnly, SameSite=Strict, for
// this sim's port) and redirects to the same URL without the secret,
// keeping the rest of the query. /static/ needs no secret.
func TestSimSecretCookie(t *testing.T) {
	s := startSim(t, simConfig{Component: "http://127.0.0.1:9/unused.html"})
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := noRedirect.Get(s.secretURL("/?demo=wsbridge"))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/?demo=wsbridge" {
		t.Errorf("printed URL: %s to %q, want 303 to /?demo=wsbridge", res.Status, res.Header.Get("Location"))
	}
	cs := res.Cookies()
	if len(cs) != 1 || cs[0].Name != s.secretCookie() || cs[0].Value != s.secret || !cs[0].HttpOnly ||
		cs[0].SameSite != http.SameSiteStrictMode || cs[0].Path != "/" {
		t.Errorf("cookies %+v, want one HttpOnly SameSite=Strict %s with the secret", cs, s.secretCookie())
	}
	if res, err := noRedirect.Get(s.hostOrigin + "/static/host.js"); err != nil || res.StatusCode != http.StatusOK {
		t.Errorf("/static/host.js without the secret: %v %v", res.Status, err)
	}
}

// Tickets are spent once, live ticketTTL, and at most maxTickets wait.
func TestSimTickets(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var ts tickets
		a := ts.issue()
		if !ts.redeem(a) || ts.redeem(a) {
			t.Error("a ticket is good exactly once")
		}
		b := ts.issue()
		time.Sleep(ticketTTL)
		if ts.redeem(b) {
			t.Error("a ticket redeemed after ticketTTL")
		}
		first := ts.issue()
		time.Sleep(time.Second)
		for range maxTickets {
			ts.issue()
		}
		if ts.redeem(first) {
			t.Error("the oldest of maxTickets+1 tickets is still good")
		}
		if len(ts.m) != maxTickets {
			t.Errorf("%d tickets wait, want %d", len(ts.m), maxTickets)
		}
		if ts.redeem("") {
			t.Error("the empty ticket redeemed")
		}
	})
}
