//go:build !js

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
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

// startComponents serves testdata/components from a third origin and
// returns it: http://localhost:PORT, another site than the sim's
// workspace on 127.0.0.1, as a real component is.
func startComponents(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.FileServer(http.Dir("testdata/components")))
	t.Cleanup(srv.Close)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	return "http://localhost:" + port
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
	s := startSim(t, simConfig{ModuleDir: t.TempDir()})
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

// TestSimComponentBuild checks the default component's build: a clear
// page when it fails, a rebuild once the source changes, and the built
// files served from the component origin.
func TestSimComponentBuild(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	mod := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		p := filepath.Join(mod, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s := startSim(t, simConfig{ModuleDir: mod, CacheDir: t.TempDir()})

	res, body := get(t, s.compOrigin+"/")
	if res.StatusCode != http.StatusInternalServerError || !strings.Contains(body, "could not be built") ||
		!strings.Contains(body, "examples/wasm-component is not in") {
		t.Errorf("missing example: %s\n%s", res.Status, body)
	}

	write("go.mod", "module "+modulePath+"\n\ngo 1.26.0\n")
	write("examples/wasm-component/index.html", "<!doctype html><title>demo</title>")
	write("examples/wasm-component/main.go", "package main\n\nfunc main() { undefinedName() }\n")
	res, body = get(t, s.compOrigin+"/")
	if res.StatusCode != http.StatusInternalServerError || !strings.Contains(body, "undefined: undefinedName") {
		t.Errorf("broken example: %s\n%s", res.Status, body)
	}

	write("examples/wasm-component/main.go", "package main\n\nfunc main() {}\n")
	res, body = get(t, s.compOrigin+"/?origin=x")
	if res.StatusCode != http.StatusOK || body != "<!doctype html><title>demo</title>" {
		t.Errorf("fixed example: %s\n%s", res.Status, body)
	}
	res, body = get(t, s.compOrigin+"/main.wasm")
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(body, "\x00asm") {
		t.Errorf("main.wasm: %s, %d bytes", res.Status, len(body))
	}
	if res, body = get(t, s.compOrigin+"/wasm_exec.js"); res.StatusCode != http.StatusOK || !strings.Contains(body, "globalThis.Go = class") {
		t.Errorf("wasm_exec.js: %s", res.Status)
	}
	if res, _ = get(t, s.compOrigin+"/main.go"); res.StatusCode != http.StatusNotFound {
		t.Errorf("main.go served: %s", res.Status)
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
