//go:build !js

package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// browser is the HTTP client of get, post and do: like a browser that has
// opened each started sim's printed URL, it holds their secret cookies
// (startSim opens the URL).
var browser = func() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar}
}()

// startSim runs a simulator on loopback ports for the test's lifetime, and
// opens its printed URL with browser.
func startSim(t *testing.T, cfg simConfig) *sim {
	t.Helper()
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.Log == nil {
		cfg.Log = testLog{t}
	}
	ctx, cancel := context.WithCancel(context.Background())
	s, err := newSim(ctx, cfg)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := s.serve(ctx); err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
	if res, body := get(t, s.startURL()); res.StatusCode != http.StatusOK {
		t.Fatalf("opening the printed URL %s: %s %q", s.startURL(), res.Status, body)
	}
	return s
}

type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Logf("sim: %s", p)
	return len(p), nil
}

func post(t *testing.T, url, origin, body string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest("POST", url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	return do(t, req)
}

func get(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return do(t, req)
}

func do(t *testing.T, req *http.Request) (*http.Response, string) {
	t.Helper()
	res, err := browser.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(b)
}

// TestSimCheckAPI checks the endpoint the host page forwards message
// events to, and that only the page itself may call it.
func TestSimCheckAPI(t *testing.T) {
	s := startSim(t, simConfig{Component: "http://127.0.0.1:1/c.html"})
	a := arrival{
		Data: `{"method":"sendMsg","type":"text","content":"hi"}`, DataType: "string",
		Origin: "http://127.0.0.1:1", FromFrame: true, Component: "http://127.0.0.1:1/c.html",
		Channel: "web", At: 2000, Prev: ms(1500),
	}
	body, _ := json.Marshal(a)

	res, got := post(t, s.hostOrigin+"/api/check", s.hostOrigin, string(body))
	if res.StatusCode != http.StatusOK {
		t.Fatalf("check: %s %s", res.Status, got)
	}
	var v verdict
	if err := json.Unmarshal([]byte(got), &v); err != nil {
		t.Fatal(err)
	}
	want := verdict{Counts: true, Gap: ms(500), Type: "text", Problems: []problem{{Kind: kindTooFast,
		Rule: "arrived 500.0 ms after the previous message; the host takes one message per second (>= 1000 ms)"}}}
	if diff := cmp.Diff(want, v); diff != "" {
		t.Errorf("verdict (-want +got):\n%s", diff)
	}

	for _, tt := range []struct {
		name, origin, body string
		want               int
	}{
		{"no Origin", "", string(body), http.StatusForbidden},
		{"other Origin", "http://evil.example", string(body), http.StatusForbidden},
		{"unknown field", s.hostOrigin, `{"data":"x","extra":1}`, http.StatusBadRequest},
		{"not JSON", s.hostOrigin, `data=x`, http.StatusBadRequest},
	} {
		if res, got := post(t, s.hostOrigin+"/api/check", tt.origin, tt.body); res.StatusCode != tt.want {
			t.Errorf("%s: %s %q, want %d", tt.name, res.Status, got, tt.want)
		}
	}

	// DNS rebinding: a page on evil.example resolving to 127.0.0.1 sends
	// its own Host and Origin; the sim answers only to loopback names.
	req, _ := http.NewRequest("POST", s.hostOrigin+"/api/check", strings.NewReader(string(body)))
	_, port, _ := net.SplitHostPort(s.hostLn.Addr().String())
	req.Host = "evil.example:" + port
	req.Header.Set("Origin", "http://evil.example:"+port)
	if res, got := do(t, req); res.StatusCode != http.StatusMisdirectedRequest {
		t.Errorf("foreign Host: %s %q, want 421", res.Status, got)
	}
}

func TestSimPage(t *testing.T) {
	s := startSim(t, simConfig{})
	res, body := get(t, s.hostOrigin+"/")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /: %s", res.Status)
	}
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self';") {
		t.Errorf("page CSP %q does not restrict scripts to the sim's own", csp)
	}
	wantComp := s.compOrigin + "/?origin=" + url.QueryEscape(s.hostOrigin)
	if !strings.Contains(body, `data-component="`+html.EscapeString(wantComp)+`"`) ||
		!strings.Contains(body, `data-origin="`+s.compOrigin+`"`) {
		t.Errorf("page does not frame the default component %s from %s:\n%s", wantComp, s.compOrigin, body)
	}
	// Different sites, not only origins: 127.0.0.1 and localhost.
	_, compPort, _ := net.SplitHostPort(s.compLn.Addr().String())
	if want := "http://localhost:" + compPort; s.compOrigin != want || !strings.HasPrefix(s.hostOrigin, "http://127.0.0.1:") {
		t.Errorf("workspace on %s, component on %s; want the component on %s", s.hostOrigin, s.compOrigin, want)
	}
	// A page opened on localhost frames the component from 127.0.0.1.
	req, _ := http.NewRequest("GET", s.hostOrigin+"/", nil)
	_, hostPort, _ := net.SplitHostPort(s.hostLn.Addr().String())
	req.Host = "localhost:" + hostPort
	req.AddCookie(&http.Cookie{Name: s.secretCookie(), Value: s.secret}) // as set by the printed URL opened on localhost
	_, body = do(t, req)
	wantComp = "http://127.0.0.1:" + compPort + "/?origin=" + url.QueryEscape("http://localhost:"+hostPort)
	if !strings.Contains(body, `data-component="`+html.EscapeString(wantComp)+`"`) {
		t.Errorf("page opened on localhost does not frame the component %s:\n%s", wantComp, body)
	}

	_, body = get(t, s.hostOrigin+"/?component="+url.QueryEscape("http://localhost:9/mine.html?a=1&b=<x>"))
	if !strings.Contains(body, `data-component="http://localhost:9/mine.html?a=1&amp;b=&lt;x&gt;"`) {
		t.Errorf("?component= not framed, or not escaped:\n%s", body)
	}
	if res, _ := get(t, s.hostOrigin+"/?component="+url.QueryEscape("javascript:alert(1)")); res.StatusCode != http.StatusBadRequest {
		t.Errorf("?component=javascript:... gave %s, want 400", res.Status)
	}
	if res, _ := get(t, s.hostOrigin+"/static/host.js"); res.StatusCode != http.StatusOK {
		t.Errorf("host.js: %s", res.Status)
	}
}

func TestComponentOrigin(t *testing.T) {
	for addr, want := range map[string]string{
		"127.0.0.1:8801":   "http://localhost:8801",
		"0.0.0.0:8801":     "http://localhost:8801",
		"[::1]:8801":       "http://[::1]:8801",
		"192.0.2.7:8801":   "http://192.0.2.7:8801",
		"[2001:db8::]:443": "http://[2001:db8::]:443",
	} {
		a, err := net.ResolveTCPAddr("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		if got := componentOrigin(a); got != want {
			t.Errorf("componentOrigin(%s) = %q, want %q", addr, got, want)
		}
	}
}

// TestSimDefaultComponent checks the embedded default component: served
// gzip-encoded to a browser, plain to a client that does not accept gzip,
// with the types instantiateStreaming needs; nothing else is served.
func TestSimDefaultComponent(t *testing.T) {
	s := startSim(t, simConfig{})
	build, err := componentFS.ReadFile("component/BUILD")
	if err != nil {
		t.Fatal(err)
	}
	sums := map[string]string{} // file name -> sha256 from BUILD
	for _, line := range strings.Split(string(build), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "sha256" {
			sums[f[1]] = f[2]
		}
	}
	fetch := func(path, accept string) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest("GET", s.compOrigin+path, nil)
		// A Transport that leaves Accept-Encoding and the body alone.
		req.Header.Set("Accept-Encoding", accept)
		res, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		return res, b
	}
	for _, tc := range []struct {
		path, file, typ string
		gzip            bool
	}{
		{"/?origin=x", "index.html", "text/html; charset=utf-8", false},
		{"/main.wasm", "main.wasm", "application/wasm", true},
		{"/wasm_exec.js", "wasm_exec.js", "text/javascript; charset=utf-8", true},
	} {
		for _, accept := range []string{"gzip, deflate, br, zstd", "", "gzip;q=0, identity"} {
			res, body := fetch(tc.path, accept)
			wantEnc := ""
			if tc.gzip && accept == "gzip, deflate, br, zstd" {
				wantEnc = "gzip"
				zr, err := gzip.NewReader(bytes.NewReader(body))
				if err != nil {
					t.Fatalf("GET %s (Accept-Encoding %q): %v", tc.path, accept, err)
				}
				if body, err = io.ReadAll(zr); err != nil {
					t.Fatal(err)
				}
			}
			sum := sha256.Sum256(body)
			got := []string{res.Status, res.Header.Get("Content-Type"), res.Header.Get("Content-Encoding"), hex.EncodeToString(sum[:])}
			want := []string{"200 OK", tc.typ, wantEnc, sums[tc.file]}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("GET %s (Accept-Encoding %q): status, type, encoding, sha256 of the content (-want +got):\n%s", tc.path, accept, diff)
			}
		}
	}
	if _, body := fetch("/main.wasm", ""); !bytes.HasPrefix(body, []byte("\x00asm")) {
		t.Errorf("main.wasm starts with %q, want the wasm magic", body[:min(8, len(body))])
	}
	if _, body := fetch("/wasm_exec.js", ""); !bytes.Contains(body, []byte("globalThis.Go = class")) {
		t.Errorf("wasm_exec.js is not Go's")
	}
	for _, path := range []string{"/main.go", "/BUILD", "/main.wasm.gz", "/component/BUILD"} {
		if res, _ := fetch(path, ""); res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %s, want 404", path, res.Status)
		}
	}
	req, _ := http.NewRequest("POST", s.compOrigin+"/main.wasm", nil)
	req.Header.Set("Origin", s.compOrigin)
	if res, _ := do(t, req); res.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /main.wasm: %s, want 405", res.Status)
	}
}

func TestAcceptsGzip(t *testing.T) {
	for accept, want := range map[string]bool{
		"":                              false,
		"gzip":                          true,
		"GZIP":                          true,
		"gzip, deflate, br, zstd":       true,
		"deflate, gzip;q=1.0":           true,
		"br;q=1.0, gzip;q=0.8, *;q=0.1": true,
		"identity":                      false,
		"gzip;q=0":                      false,
		"gzip; q=0.000":                 false,
		"*":                             true,
		"x-gzip":                        false,
	} {
		if got := acceptsGzip(accept); got != want {
			t.Errorf("acceptsGzip(%q) = %v, want %v", accept, got, want)
		}
	}
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// TestRunSim runs "assistant sim" as main does and stops it as Ctrl-C
// does, by cancelling its context: it prints the URL, serves, and exits 0.
func TestRunSim(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"sim", "--addr", "127.0.0.1:0", "--component", "http://127.0.0.1:9/c.html"}, nil, &stdout, &stderr)
	}()
	var hostURL string
	for deadline := time.Now().Add(10 * time.Second); hostURL == ""; {
		if _, rest, ok := strings.Cut(stdout.String(), "workspace on "); ok {
			hostURL, _, _ = strings.Cut(rest, " ")
		}
		if time.Now().After(deadline) {
			t.Fatalf("no URL printed; stdout %q, stderr %q", stdout.String(), stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	// The printed URL works in a fresh browser: it sets the secret
	// cookie and lands on the URL without the secret.
	jar, _ := cookiejar.New(nil)
	fresh := &http.Client{Jar: jar}
	res, err := fresh.Get(hostURL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), `data-component="http://127.0.0.1:9/c.html"`) {
		t.Errorf("GET %s: %s", hostURL, res.Status)
	}
	if strings.Contains(res.Request.URL.String(), "token") {
		t.Errorf("the printed URL %s ended on %s, want the URL without the secret", hostURL, res.Request.URL)
	}
	cancel()
	select {
	case code := <-done:
		if code != exitOK || !strings.HasSuffix(stdout.String(), "assistant sim: stopped\n") {
			t.Errorf("after Ctrl-C: exit %d, stdout %q, stderr %q", code, stdout.String(), stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("sim did not stop after its context was cancelled")
	}
	if _, err := fresh.Get(hostURL); err == nil {
		t.Errorf("%s still answers after shutdown", hostURL)
	}
}

// TestRunSimStopsWithBrowserOpen stops the sim while a client holds a
// connection it has sent no request on, as Chromium's preconnected sockets
// do: the sim still stops cleanly (exit 0), within the 5 s grace period
// and a margin for a loaded machine. It used to exit 2 with "context
// deadline exceeded".
func TestRunSimStopsWithBrowserOpen(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"sim", "--addr", "127.0.0.1:0", "--component", "http://127.0.0.1:9/c.html"}, nil, &stdout, &stderr)
	}()
	var hostURL string
	for deadline := time.Now().Add(10 * time.Second); hostURL == ""; {
		if _, rest, ok := strings.Cut(stdout.String(), "workspace on "); ok {
			hostURL, _, _ = strings.Cut(rest, " ")
		}
		if time.Now().After(deadline) {
			t.Fatalf("no URL printed; stdout %q, stderr %q", stdout.String(), stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	u, _ := url.Parse(hostURL)
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	time.Sleep(100 * time.Millisecond) // the server has accepted it
	cancel()
	select {
	case code := <-done:
		if code != exitOK {
			t.Errorf("after Ctrl-C with a connection open: exit %d, stdout %q, stderr %q; want 0", code, stdout.String(), stderr.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("sim did not stop within 15 s of Ctrl-C with a connection open")
	}
}

func TestRunSimUsage(t *testing.T) {
	for _, args := range [][]string{
		{"sim", "--addr"},
		{"sim", "--component", "ftp://example.com/c"},
		{"sim", "--addr", "127.0.0.1:0", "extra"},
		{"sim", "--addr", "256.0.0.1:bad"},
		{},
		{"simulate"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), args, nil, &stdout, &stderr); code != exitUsage || stderr.Len() == 0 {
			t.Errorf("run %q: exit %d, stderr %q; want %d and a message", args, code, stderr.String(), exitUsage)
		}
	}
}
