//go:build !js

package browsertest

import (
	"net/http"
	"net/http/httptest"
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
