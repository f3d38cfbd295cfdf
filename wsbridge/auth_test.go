//go:build !js

package wsbridge

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
	"unicode"

	"github.com/imworkspace/assistant"
)

// newAuthHub serves a Hub with opts as given (no test defaults) and a
// TokenSigner for it.
func newAuthHub(t *testing.T, opts Options) (*Hub, *httptest.Server, *TokenSigner) {
	t.Helper()
	signer, err := NewTokenSigner([]byte(strings.Repeat("k", MinKeySize)))
	if err != nil {
		t.Fatal(err)
	}
	if opts.Authenticate == nil && !opts.InsecureSkipAuthentication {
		opts.Authenticate = signer.Verify
	}
	hub := NewHub(opts)
	srv := httptest.NewServer(hub)
	t.Cleanup(func() {
		hub.Close()
		srv.Close()
	})
	return hub, srv, signer
}

func pageURL(srv *httptest.Server, id string) string {
	return strings.Replace(srv.URL, "http://", "ws://", 1) + "/?id=" + url.QueryEscape(id)
}

// dialStatus dials and returns the HTTP status of a refused upgrade, or
// 101 after closing an accepted page.
func dialStatus(t *testing.T, u string, o pageOpts) int {
	t.Helper()
	p, resp, err := dialPage(ctxT(t), u, &fakeHost{}, o)
	if err == nil {
		p.close()
		return http.StatusSwitchingProtocols
	}
	if resp == nil {
		t.Fatalf("dial %s: %v", u, err)
	}
	return resp.StatusCode
}

// Finding 1: the zero Options refuse every page, even one from the Hub's
// own origin, and say why to OnError.
func TestZeroOptionsRefuseEveryPage(t *testing.T) {
	log := &errorLog{}
	hub := NewHub(Options{OnError: log.add})
	srv := httptest.NewServer(hub)
	defer srv.Close()
	defer hub.Close()
	if got := dialStatus(t, pageURL(srv, "conv-1"), pageOpts{}); got != http.StatusForbidden {
		t.Errorf("status %d, want 403", got)
	}
	if errs := log.get("conv-1"); len(errs) != 1 || !errors.Is(errs[0], ErrUnauthenticated) {
		t.Errorf("OnError got %v, want one ErrUnauthenticated", errs)
	}
}

// Finding 1, the attack: with the Hub the simulator used to run
// (Options{}), a program without an Origin header took over page id
// conv-1, and the next Send, acked by the attacker, returned nil. Now the
// attacker is refused (no Origin; no token; a token for another page),
// the real page keeps its connection and gets the message.
func TestIDTakeoverRefused(t *testing.T) {
	log := &errorLog{}
	hub, srv, signer := newAuthHub(t, Options{OnError: log.add})
	host := &fakeHost{}
	real, _, err := dialPage(ctxT(t), pageURL(srv, "conv-1"), host, pageOpts{token: signer.Sign("conv-1", time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	defer real.close()
	waitRegistered(t, hub, "conv-1", real)

	for _, tc := range []struct {
		name  string
		token string
		o     pageOpts
		want  error
	}{
		{"no origin, no token", "", pageOpts{noOrigin: true}, ErrOriginNotAllowed},
		{"no origin, good token", signer.Sign("conv-1", time.Minute), pageOpts{noOrigin: true}, ErrOriginNotAllowed},
		{"no token", "", pageOpts{}, ErrTokenMissing},
		{"token of another page", signer.Sign("conv-2", time.Minute), pageOpts{}, ErrTokenInvalid},
		{"forged token", "9999999999.AAAA", pageOpts{}, ErrTokenInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(log.get("conv-1"))
			tc.o.token = tc.token
			if got := dialStatus(t, pageURL(srv, "conv-1"), tc.o); got != http.StatusForbidden {
				t.Errorf("status %d, want 403", got)
			}
			errs := log.get("conv-1")[before:]
			if len(errs) != 1 || !errors.Is(errs[0], tc.want) {
				t.Errorf("OnError got %v, want one error matching %v", errs, tc.want)
			}
		})
	}
	if err := hub.Sender("conv-1").Send(ctxT(t), assistant.NewText("password reset code 123456")); err != nil {
		t.Fatalf("Send to the real page: %v", err)
	}
	if got := host.wire(); len(got) != 1 {
		t.Errorf("the real page posted %d messages, want 1", len(got))
	}
}

// Finding 1: a request without Origin is refused unless AllowMissingOrigin,
// and then it still needs Authenticate (or the insecure opt-out).
func TestMissingOrigin(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
		want int
	}{
		{"default", Options{}, http.StatusForbidden},
		{"allowed, token checked", Options{AllowMissingOrigin: true}, http.StatusSwitchingProtocols},
		{"allowed, no auth at all", Options{AllowMissingOrigin: true, InsecureSkipAuthentication: true}, http.StatusSwitchingProtocols},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, srv, signer := newAuthHub(t, tc.opts)
			if got := dialStatus(t, pageURL(srv, "conv-1"), pageOpts{noOrigin: true, token: signer.Sign("conv-1", time.Minute)}); got != tc.want {
				t.Errorf("status %d, want %d", got, tc.want)
			}
		})
	}
	_, srv, _ := newAuthHub(t, Options{AllowMissingOrigin: true})
	if got := dialStatus(t, pageURL(srv, "conv-1"), pageOpts{noOrigin: true}); got != http.StatusForbidden {
		t.Errorf("no Origin and no token: status %d, want 403", got)
	}
}

// Finding 1: Authenticate runs after the origin check: a foreign origin
// never reaches it.
func TestAuthenticateAfterOriginCheck(t *testing.T) {
	var calls atomic.Int32
	log := &errorLog{}
	_, srv, _ := newAuthHub(t, Options{
		OriginPatterns: []string{"component.example"},
		Authenticate:   func(*http.Request, string) error { calls.Add(1); return nil },
		OnError:        log.add,
	})
	if got := dialStatus(t, pageURL(srv, "conv-1"), pageOpts{origin: "https://evil.example"}); got != http.StatusForbidden {
		t.Errorf("foreign origin: status %d, want 403", got)
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("Authenticate called %d times for a foreign origin", n)
	}
	if errs := log.get("conv-1"); len(errs) != 1 || !errors.Is(errs[0], ErrOriginNotAllowed) {
		t.Errorf("OnError got %v, want ErrOriginNotAllowed", errs)
	}
	if got := dialStatus(t, pageURL(srv, "conv-1"), pageOpts{origin: "https://component.example"}); got != http.StatusSwitchingProtocols {
		t.Errorf("allowed origin: status %d, want 101", got)
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("Authenticate called %d times, want 1", n)
	}
}

// Finding 3: DNS rebinding. A page on an attacker's name that resolves to
// the Hub sends Origin and Host both naming the attacker, which the
// origin check allows; AllowedHosts refuses it with 421.
func TestAllowedHosts(t *testing.T) {
	rebound := pageOpts{origin: "http://rebind.evil.example:80", host: "rebind.evil.example:80"}
	_, open, _ := newAuthHub(t, Options{InsecureSkipAuthentication: true})
	if got := dialStatus(t, pageURL(open, "conv-1"), rebound); got != http.StatusSwitchingProtocols {
		t.Fatalf("without AllowedHosts the rebound page got %d; the test no longer shows the attack", got)
	}

	log := &errorLog{}
	_, srv, _ := newAuthHub(t, Options{
		InsecureSkipAuthentication: true,
		AllowedHosts:               []string{"svc.example", "127.0.0.1"},
		OnError:                    log.add,
	})
	if got := dialStatus(t, pageURL(srv, "conv-1"), rebound); got != http.StatusMisdirectedRequest {
		t.Errorf("rebound page: status %d, want 421", got)
	}
	if errs := log.get("conv-1"); len(errs) != 1 || !errors.Is(errs[0], ErrHostNotAllowed) {
		t.Errorf("OnError got %v, want ErrHostNotAllowed", errs)
	}
	for _, host := range []string{"svc.example:443", "SVC.example", ""} {
		o := pageOpts{host: host, origin: "http://" + host}
		if host == "" {
			o.origin = "" // the server's own 127.0.0.1:port
		}
		if got := dialStatus(t, pageURL(srv, "conv-1"), o); got != http.StatusSwitchingProtocols {
			t.Errorf("Host %q: status %d, want 101", host, got)
		}
	}
}

func TestHostAllowed(t *testing.T) {
	h := NewHub(Options{AllowedHosts: []string{"svc.example", "*.cdn.example", "api.example:8443", "[::1]"}})
	for host, want := range map[string]bool{
		"svc.example":       true,
		"svc.example:8080":  true,
		"SVC.EXAMPLE":       true,
		"a.cdn.example":     true,
		"cdn.example":       false,
		"api.example:8443":  true,
		"api.example:443":   false,
		"api.example":       false,
		"[::1]:9000":        true,
		"svc.example.evil":  false,
		"evil.example":      false,
		"":                  false,
		"svc.example:80:80": false,
	} {
		if got := h.hostAllowed(host); got != want {
			t.Errorf("hostAllowed(%q) = %v, want %v", host, got, want)
		}
	}
}

// Finding 8: past MaxConnections, upgrades get 503; connected pages are
// unaffected, and a freed slot is usable again.
func TestMaxConnections(t *testing.T) {
	log := &errorLog{}
	hub, srv := newTestHub(t, Options{MaxConnections: 2, OnError: log.add})
	host := &fakeHost{}
	a := connectPage(t, hub, srv, "a", host, pageOpts{})
	connectPage(t, hub, srv, "b", host, pageOpts{})
	if got := dialStatus(t, wsURL(srv.URL, "c"), pageOpts{}); got != http.StatusServiceUnavailable {
		t.Errorf("third page: status %d, want 503", got)
	}
	if errs := log.get("c"); len(errs) != 1 || !errors.Is(errs[0], ErrTooManyConnections) {
		t.Errorf("OnError got %v, want ErrTooManyConnections", errs)
	}
	for _, id := range []string{"a", "b"} {
		if err := hub.Sender(id).Send(ctxT(t), assistant.NewText("still here")); err != nil {
			t.Errorf("page %s: %v", id, err)
		}
	}
	a.close()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		hub.mu.RLock()
		n := hub.conns
		hub.mu.RUnlock()
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d connections counted after one of two closed", n)
		}
	}
	connectPage(t, hub, srv, "c", host, pageOpts{})
}

// Finding 9: ids are validated before any callback; OnError never gets a
// raw invalid id, and errors quote (and truncate) it.
func TestInvalidIDsNeverReachCallbacks(t *testing.T) {
	var authCalls atomic.Int32
	log := &errorLog{}
	_, srv, _ := newAuthHub(t, Options{
		Authenticate: func(*http.Request, string) error { authCalls.Add(1); return nil },
		OnError:      log.add,
	})
	for _, id := range []string{
		strings.Repeat("x", 500_000),
		"conv-1\nlevel=INFO msg=\"forged\"",
		"\x1b[31mred\x1b[0m",
		"\u202eevil", // bidi override
		"zero\u200bwidth",
		"tab\there",
		"del\x7f",
		string([]byte{0xff, 'a'}),
	} {
		if got := dialStatus(t, pageURL(srv, id), pageOpts{}); got != http.StatusBadRequest {
			t.Errorf("id %.40q: status %d, want 400", id, got)
		}
	}
	if n := authCalls.Load(); n != 0 {
		t.Errorf("Authenticate called %d times with invalid ids", n)
	}
	log.mu.Lock()
	defer log.mu.Unlock()
	for id, errs := range log.errs {
		if id != "" {
			t.Errorf("OnError got the id %.40q", id)
		}
		for _, err := range errs {
			msg := err.Error()
			if !errors.Is(err, ErrBadID) || len(msg) > 200 || strings.IndexFunc(msg, func(r rune) bool { return !unicode.IsGraphic(r) }) >= 0 {
				t.Errorf("OnError error %.300q: want ErrBadID, at most 200 bytes, printable", msg)
			}
		}
	}
	if n := len(log.errs[""]); n != 8 {
		t.Errorf("OnError called %d times, want 8", n)
	}
	if got := dialStatus(t, pageURL(srv, "Conversation 1 · Ünïcode"), pageOpts{}); got != http.StatusSwitchingProtocols {
		t.Errorf("a printable Unicode id: status %d, want 101", got)
	}
}

// Finding 10: sentinels carry the package prefix once, also when wrapped.
func TestErrorStrings(t *testing.T) {
	for _, err := range []error{
		ErrNotConnected, ErrDisconnected, ErrAckTimeout, ErrTooManyPending, ErrTooLarge, ErrRefused,
		ErrClosed, ErrReplaced, ErrProtocol, ErrBadID, ErrHostNotAllowed, ErrOriginNotAllowed,
		ErrUnauthenticated, ErrTooManyConnections, ErrKeyTooShort, ErrTokenMissing, ErrTokenInvalid,
		ErrTokenExpired, &RefusedError{Reason: ReasonInvalid},
	} {
		if msg := err.Error(); !strings.HasPrefix(msg, "wsbridge: ") || strings.Count(msg, "wsbridge") != 1 {
			t.Errorf("%q: want one \"wsbridge: \" prefix", msg)
		}
	}
	hub, _ := newTestHub(t, Options{})
	ctx := ctxT(t)
	err := hub.Sender("conv-1").Send(ctx, assistant.NewText("x"))
	if want := `wsbridge: page "conv-1": page not connected`; err == nil || err.Error() != want {
		t.Errorf("Send = %v, want %s", err, want)
	}
	hub.Close()
	err = hub.Sender("conv-1").Send(ctx, assistant.NewText("x"))
	if want := `wsbridge: page "conv-1": hub closed`; err == nil || err.Error() != want || !errors.Is(err, ErrClosed) {
		t.Errorf("Send = %v, want %s", err, want)
	}
	err = pageErr("p", ErrDisconnected, ErrProtocol, errors.New("binary frame"))
	if want := `wsbridge: page "p": page disconnected before acknowledging: page broke the bridge protocol: binary frame`; err.Error() != want ||
		!errors.Is(err, ErrDisconnected) || !errors.Is(err, ErrProtocol) {
		t.Errorf("got %v, want %s matching both sentinels", err, want)
	}
}

// Issue 17 finding 5: a token in the URL ends up in access logs, proxies'
// logs and the Referer. The Hub refuses an upgrade with a "token" query
// parameter with 400 and ErrTokenInURL, even a good token, even with the
// header too, before Authenticate sees it: a client still sending tokens
// in URLs fails at once rather than leaking them quietly.
func TestTokenInURLRefused(t *testing.T) {
	var calls atomic.Int32
	log := &errorLog{}
	signer, err := NewTokenSigner([]byte(strings.Repeat("k", MinKeySize)))
	if err != nil {
		t.Fatal(err)
	}
	_, srv, _ := newAuthHub(t, Options{
		Authenticate: func(r *http.Request, id string) error { calls.Add(1); return signer.Verify(r, id) },
		OnError:      log.add,
	})
	tok := signer.Sign("conv-1", time.Minute)
	for _, tc := range []struct {
		name  string
		query string
		o     pageOpts
	}{
		{"good token in the query", "&token=" + url.QueryEscape(tok), pageOpts{}},
		{"in the query and the header", "&token=" + url.QueryEscape(tok), pageOpts{token: tok}},
		{"empty token parameter", "&token=", pageOpts{token: tok}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(log.get("conv-1"))
			if got := dialStatus(t, pageURL(srv, "conv-1")+tc.query, tc.o); got != http.StatusBadRequest {
				t.Errorf("status %d, want 400", got)
			}
			if errs := log.get("conv-1")[before:]; len(errs) != 1 || !errors.Is(errs[0], ErrTokenInURL) {
				t.Errorf("OnError got %v, want one ErrTokenInURL for the page's id", errs)
			}
		})
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("Authenticate called %d times, want 0", n)
	}
	// The same token in the header gets in.
	if got := dialStatus(t, pageURL(srv, "conv-1"), pageOpts{token: tok}); got != http.StatusSwitchingProtocols {
		t.Errorf("token in the header: status %d, want 101", got)
	}
}

// The Hub selects the fixed subprotocol, never the entry with the token:
// a browser fails a handshake whose response names no protocol it
// offered, and echoing the token would copy it into the response.
func TestTokenSubprotocolNotEchoed(t *testing.T) {
	hub, srv, signer := newAuthHub(t, Options{})
	tok := signer.Sign("conv-1", time.Minute)
	p, resp, err := dialPage(ctxT(t), pageURL(srv, "conv-1"), &fakeHost{}, pageOpts{token: tok})
	if err != nil {
		t.Fatal(err)
	}
	defer p.close()
	if got := resp.Header.Values("Sec-WebSocket-Protocol"); len(got) != 1 || got[0] != Subprotocol {
		t.Errorf("response Sec-WebSocket-Protocol %q, want just %q", got, Subprotocol)
	}
	if got := p.ws.Subprotocol(); got != Subprotocol {
		t.Errorf("negotiated %q, want %q", got, Subprotocol)
	}
	waitRegistered(t, hub, "conv-1", p)
	// A program that offers no subprotocol at all (InsecureSkipAuthentication
	// setups, wsbridgetest pages) still connects: the protocol is not required.
	_, open, _ := newAuthHub(t, Options{InsecureSkipAuthentication: true})
	if got := dialStatus(t, pageURL(open, "conv-1"), pageOpts{}); got != http.StatusSwitchingProtocols {
		t.Errorf("no subprotocol, no auth: status %d, want 101", got)
	}
}

// Issue 17 finding 5: a token can be replayed until it expires (there is
// no per-connection nonce: a page reconnects with the token it has), and
// not after. A captured token is refused once its TTL has passed, with
// ErrTokenExpired; Sign caps the TTL at MaxTokenTTL.
func TestTokenReplayAfterTTL(t *testing.T) {
	signer, err := NewTokenSigner([]byte(strings.Repeat("k", MinKeySize)))
	if err != nil {
		t.Fatal(err)
	}
	synctest.Test(t, func(t *testing.T) {
		log := &errorLog{}
		m := newMemHub(t, Options{Authenticate: signer.Verify, OnError: log.add})
		dial := func(tok string) error {
			p, _, err := dialPage(context.Background(), "ws://mem/ws?id=conv-1", &fakeHost{}, pageOpts{client: m.client, token: tok})
			if err == nil {
				p.close()
			}
			return err
		}
		tok := signer.Sign("conv-1", 2*time.Minute)
		if err := dial(tok); err != nil {
			t.Fatalf("first use: %v", err)
		}
		time.Sleep(2*time.Minute - time.Second)
		if err := dial(tok); err != nil {
			t.Fatalf("replay within the TTL (the documented window): %v", err)
		}
		time.Sleep(time.Second)
		if err := dial(tok); err == nil {
			t.Fatal("replay at the TTL connected")
		}
		errs := log.get("conv-1")
		if len(errs) != 1 || !errors.Is(errs[0], ErrTokenExpired) || !errors.Is(errs[0], ErrUnauthenticated) {
			t.Errorf("OnError got %v, want one ErrTokenExpired", errs)
		}
		// A token asked for a day lives MaxTokenTTL.
		long := signer.Sign("conv-1", 24*time.Hour)
		time.Sleep(MaxTokenTTL)
		if err := dial(long); err == nil {
			t.Error("a 24 h token connected after MaxTokenTTL")
		}
	})
}
