//go:build !js

// Package browsertest starts a headless Chromium for cmd/assistant's
// end-to-end tests. It is on its way out: every other browser test runs in
// Chromium and Firefox with the dev module's dev/internal/browser, and these
// move there too (then this package goes).
//
// Browser tests skip when no browser is found, except under CI=true, where
// a missing browser fails the test: CI installs Debian's chromium
// (.ci/run), so a skip there would hide a broken set-up.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"strings"
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

// AllocatorOptions returns the options New starts a browser with: the
// browser at execPath, headless, with its profile in userDataDir (which
// should be fresh and empty), without network side traffic, and without
// throttling background timers, so that pacing can be measured.
func AllocatorOptions(execPath, userDataDir string) []chromedp.ExecAllocatorOption {
	return []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(execPath),
		chromedp.UserDataDir(userDataDir),
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
	ctx, cancelTimeout := context.WithTimeout(context.Background(), timeout)
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, AllocatorOptions(path, t.TempDir())...)
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

// Frame returns a chromedp context attached to a cross-site iframe of the
// browser of ctx: the first iframe target whose URL starts with prefix,
// waiting up to timeout for it to appear. Chromium runs a cross-site frame
// in its own process, as a target of its own, which the page's DOM tree
// and chromedp.FromNode do not reach; actions run in the returned context
// run in the frame (clicks land in the frame's own coordinates). A
// same-site frame is no target, so Frame does not find it. The context
// detaches from the frame when the test ends.
func Frame(t testing.TB, ctx context.Context, prefix string, timeout time.Duration) context.Context {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		targets, err := chromedp.Targets(ctx)
		if err != nil {
			t.Fatalf("browsertest: listing targets: %v", err)
		}
		var seen []string
		for _, info := range targets {
			if info.Type != "iframe" {
				continue
			}
			if !strings.HasPrefix(info.URL, prefix) {
				seen = append(seen, info.URL)
				continue
			}
			fctx, cancel := chromedp.NewContext(ctx, chromedp.WithTargetID(info.TargetID), chromedp.WithDetachOnCancel())
			t.Cleanup(cancel)
			if err := chromedp.Do(fctx); err != nil {
				t.Fatalf("browsertest: attaching to the frame %s: %v", info.URL, err)
			}
			return fctx
		}
		if time.Now().After(deadline) {
			t.Fatalf("browsertest: no cross-site iframe at %s* within %v (a same-site frame has no target of its own); iframe targets: %q", prefix, timeout, seen)
		}
		select {
		case <-ctx.Done():
			t.Fatalf("browsertest: waiting for an iframe at %s*: %v", prefix, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}
