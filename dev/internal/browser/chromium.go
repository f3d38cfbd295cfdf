package browser

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// ChromiumFlags are the flags Chromium starts with (New uses them; the
// pacing lab, which drives chromedp itself, too): headless, its profile
// in dir, without network side traffic, and without throttling background
// timers, so that pacing can be measured.
func ChromiumFlags(path, dir string) []chromedp.ExecAllocatorOption {
	return []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.UserDataDir(dir),
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

func startChromium(ctx context.Context, t testing.TB, path, dir string, _ map[string]any) (target, func(), error) {
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, ChromiumFlags(path, dir)...)
	bctx, cancelBrowser := chromedp.NewContext(actx, chromedp.WithErrorf(t.Logf))
	stop := func() {
		cancelBrowser()
		cancelAlloc()
	}
	// Start the browser now so a broken install fails here, clearly.
	if err := chromedp.Do(bctx); err != nil {
		stop()
		return nil, nil, err
	}
	return &chromiumTarget{ctx: bctx}, stop, nil
}

// chromiumTarget is a tab, or a cross-site iframe attached as a target of
// its own; ctx is its chromedp context.
// Every ctx derives from the one New bounds the test with.
type chromiumTarget struct {
	ctx     context.Context
	isFrame bool
	detach  context.CancelFunc // for a frame: detaches when the browser closes
}

func (c *chromiumTarget) navigate(ctx context.Context, url string) error {
	if c.isFrame {
		return errNoFrameNavigate
	}
	return chromedp.Do(c.ctx, chromedp.Navigate(url))
}

func (c *chromiumTarget) eval(ctx context.Context, expr string) (string, error) {
	return chromedp.Run(c.ctx, chromedp.Evaluate[string](expr, chromedp.EvalAwaitPromise))
}

func (c *chromiumTarget) frame(ctx context.Context, prefix string) (target, bool, []string, error) {
	infos, err := chromedp.Targets(c.ctx)
	if err != nil {
		return nil, false, nil, err
	}
	var seen []string
	for _, info := range infos {
		if info.Type != "iframe" {
			continue
		}
		if !strings.HasPrefix(info.URL, prefix) {
			seen = append(seen, info.URL)
			continue
		}
		// Detach, not close, when the test ends: closing an iframe
		// target would remove the frame from its page.
		fctx, detach := chromedp.NewContext(c.ctx, chromedp.WithTargetID(info.TargetID), chromedp.WithDetachOnCancel())
		if err := chromedp.Do(fctx); err != nil {
			detach()
			return nil, false, nil, err
		}
		return &chromiumTarget{ctx: fctx, isFrame: true, detach: detach}, true, nil, nil
	}
	return nil, false, seen, nil
}

func (c *chromiumTarget) screenshot(ctx context.Context) ([]byte, error) {
	return chromedp.Run(c.ctx, chromedp.CaptureScreenshot())
}
