//go:build !js

// Package browsertest starts a headless Chromium for end-to-end tests.
//
// Browser tests skip when no browser is found, except under CI=true, where
// a missing browser fails the test: CI installs Debian's chromium
// (.ci/run), so a skip there would hide a broken set-up.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// ExecPath returns the browser to use: $CHROMIUM if set, else the first of
// chromium, chromium-browser, google-chrome found on PATH, or "".
func ExecPath() string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// New starts a fresh headless browser (its own user-data dir, no network
// side traffic) and returns a chromedp context for one tab. It is closed
// when the test ends. timeout bounds the whole test's browser work.
func New(t testing.TB, timeout time.Duration) context.Context {
	t.Helper()
	path := ExecPath()
	if path == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("browsertest: no chromium found, but CI=true: .ci/run must install it (apt-get install -y chromium)")
		}
		t.Skip("browsertest: no chromium on PATH (apt-get install -y chromium, or set CHROMIUM); skipping browser test")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		// Timers in background frames must not be throttled: pacing is measured.
		chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-renderer-backgrounding", true),
		chromedp.Flag("disable-backgrounding-occluded-windows", true),
	}
	ctx, cancelTimeout := context.WithTimeout(context.Background(), timeout)
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx, chromedp.WithErrorf(t.Logf))
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc()
		cancelTimeout()
	})
	// Start the browser now so a broken install fails here, clearly.
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("browsertest: starting %s: %v", path, err)
	}
	return bctx
}
