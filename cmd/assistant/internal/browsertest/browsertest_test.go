//go:build !js

package browsertest

import (
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

func TestNewEvaluates(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte(`<!doctype html><title>t</title><script>window.answer = 6*7</script>`))
	}))
	defer srv.Close()
	ctx := New(t, time.Minute)
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL)); err != nil {
		t.Fatal(err)
	}
	got, err := chromedp.Run(ctx, chromedp.Evaluate[int]("window.answer"))
	if err != nil {
		t.Fatal(err)
	}
	if got != 42 {
		t.Fatalf("window.answer = %d, want 42", got)
	}
}

// TestFrame frames two pages of one server in a page on 127.0.0.1: one
// as 127.0.0.1 (same site, in the page's process) and one as localhost
// (another site, a target of its own). Frame finds the cross-site one, and
// a click there runs in it: its message reaches the page from its origin.
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

	ctx := New(t, time.Minute)
	if err := chromedp.Do(ctx, chromedp.Navigate(outer.URL)); err != nil {
		t.Fatal(err)
	}
	frame := Frame(t, ctx, crossSite, 20*time.Second)
	if err := chromedp.Do(frame, chromedp.Click(chromedp.ID("b"))); err != nil {
		t.Fatalf("clicking in the frame: %v", err)
	}
	want := []string{
		"http://127.0.0.1:" + port + " loaded 127.0.0.1:" + port,
		"http://localhost:" + port + " clicked localhost:" + port,
		"http://localhost:" + port + " loaded localhost:" + port,
	}
	var got []string
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		var err error
		if got, err = chromedp.Run(ctx, chromedp.Evaluate[[]string]("got.slice().sort()")); err != nil {
			t.Fatal(err)
		}
		if len(got) >= len(want) || time.Now().After(deadline) {
			break
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("page received %q, want %q", got, want)
	}

	// The same-site frame has loaded (it posted), and is no target.
	targets, err := chromedp.Targets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, info := range targets {
		if info.Type == "iframe" && strings.HasPrefix(info.URL, sameSite) {
			t.Errorf("the same-site frame is a target of its own: %+v", info)
		}
	}
}
