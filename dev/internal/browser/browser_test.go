package browser

import (
	"bytes"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestEval(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte(`<!doctype html><title>t</title><script>window.answer = 6*7</script>`))
	}))
	defer srv.Close()
	Each(t, func(t *testing.T, e Engine) {
		tab := New(t, e, time.Minute)
		if err := tab.Navigate(srv.URL); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := tab.Eval("window.answer", &n); err != nil || n != 42 {
			t.Errorf("Eval(window.answer) = %d, %v; want 42", n, err)
		}
		var s []string
		if err := tab.Eval(`new Promise((r) => setTimeout(() => r(["a", "中文 😀"]), 50))`, &s); err != nil || !slices.Equal(s, []string{"a", "中文 😀"}) {
			t.Errorf("Eval(promise) = %q, %v", s, err)
		}
		var v any = "unchanged"
		if err := tab.Eval("undefined", &v); err != nil || v != nil {
			t.Errorf("Eval(undefined) = %v, %v; want nil", v, err)
		}
		for _, expr := range []string{`(() => { throw new Error("boom-42") })()`, `Promise.reject(new Error("boom-42"))`} {
			if err := tab.Eval(expr, nil); err == nil || !strings.Contains(err.Error(), "boom-42") {
				t.Errorf("Eval(%s) = %v, want an error saying boom-42", expr, err)
			}
		}
		if err := tab.Eval("no_such_name", nil); err == nil {
			t.Error("Eval of an undefined name = nil error")
		}
		if err := tab.Poll("window.answer === 43", 200*time.Millisecond); err == nil {
			t.Error("Poll of a false expression = nil error")
		}
		if err := tab.Eval("setTimeout(() => { window.answer = 43 }, 100)", nil); err != nil {
			t.Fatal(err)
		}
		if err := tab.Poll("window.answer === 43", 5*time.Second); err != nil {
			t.Error(err)
		}
		png, err := tab.Screenshot()
		if err != nil || !bytes.HasPrefix(png, []byte("\x89PNG")) {
			t.Errorf("Screenshot = %d bytes, %v; want a PNG", len(png), err)
		}
	})
}

// TestFrame frames two pages of one server in a page on 127.0.0.1: one
// as 127.0.0.1 (same site) and one as localhost (another site). Frame finds
// the cross-site one, and a click there runs in it: its message reaches the
// page from its origin. In Chromium, the same-site frame (in the page's
// process) is not found.
func TestFrame(t *testing.T) {
	inner := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte(`<!doctype html><title>inner</title>
<button id="b" onclick="parent.postMessage('clicked ' + location.host, '*')">b</button>
<script>parent.postMessage('loaded ' + location.host, '*')</script>`))
	}))
	defer inner.Close()
	_, port, _ := net.SplitHostPort(inner.Listener.Addr().String())
	sameSite, crossSite := "http://127.0.0.1:"+port+"/", "http://localhost:"+port+"/"
	outer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte(`<!doctype html><title>outer</title>
<script>window.got = []; addEventListener('message', (e) => got.push(e.origin + ' ' + e.data));</script>
<iframe src="` + sameSite + `?same"></iframe><iframe src="` + crossSite + `?cross"></iframe>`))
	}))
	defer outer.Close()

	Each(t, func(t *testing.T, e Engine) {
		tab := New(t, e, time.Minute)
		if err := tab.Navigate(outer.URL); err != nil {
			t.Fatal(err)
		}
		frame, err := tab.Frame(crossSite, 20*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		var host string
		if err := frame.Eval("location.host", &host); err != nil || host != "localhost:"+port {
			t.Errorf("location.host in the frame = %q, %v; want localhost:%s", host, err, port)
		}
		if err := frame.Eval(`document.getElementById("b").click()`, nil); err != nil {
			t.Fatalf("clicking in the frame: %v", err)
		}
		if err := tab.Poll("got.length >= 3", 10*time.Second); err != nil {
			t.Error(err)
		}
		var got []string
		if err := tab.Eval("got.slice().sort()", &got); err != nil {
			t.Fatal(err)
		}
		want := []string{
			"http://127.0.0.1:" + port + " loaded 127.0.0.1:" + port,
			"http://localhost:" + port + " clicked localhost:" + port,
			"http://localhost:" + port + " loaded localhost:" + port,
		}
		if !slices.Equal(got, want) {
			t.Errorf("page received %q, want %q", got, want)
		}
		if err := frame.Navigate(outer.URL); err == nil {
			t.Error("Navigate on a frame = nil error")
		}
		_, err = tab.Frame(sameSite, time.Second)
		switch e.Name {
		case Chromium.Name:
			if err == nil {
				t.Error("Chromium: Frame found the same-site frame, which shares the page's process")
			}
		case Firefox.Name:
			// BiDi lists every frame as a child context, whatever its process.
			if err != nil {
				t.Errorf("Firefox: Frame(same-site) = %v", err)
			}
		}
	})
}

// fakeTB records how New ends a test without a browser.
type fakeTB struct {
	testing.TB
	skipped, failed bool
	msg             string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Skipf(format string, args ...any) {
	f.skipped, f.msg = true, format
	runtime.Goexit()
}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.failed, f.msg = true, format
	runtime.Goexit()
}

// A missing browser skips the test, but fails it under CI=true.
func TestMissingBrowser(t *testing.T) {
	for _, e := range Engines() {
		for _, ci := range []string{"", "true"} {
			t.Run(e.Name+" CI="+ci, func(t *testing.T) {
				t.Setenv(e.Env, "/nonexistent/"+e.Name)
				t.Setenv("CI", ci)
				if p := e.ExecPath(); p != "" {
					t.Fatalf("ExecPath = %q, want none", p)
				}
				f := &fakeTB{TB: t}
				done := make(chan struct{})
				go func() {
					defer close(done)
					New(f, e, time.Second)
					t.Error("New returned without a browser")
				}()
				<-done
				if wantFail := ci == "true"; f.failed != wantFail || f.skipped == wantFail {
					t.Errorf("CI=%q: failed %v, skipped %v (%s); want failed %v", ci, f.failed, f.skipped, f.msg, wantFail)
				}
			})
		}
	}
}
