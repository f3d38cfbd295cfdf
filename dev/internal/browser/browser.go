// Package browser drives a real browser for end-to-end tests, in every
// engine the project supports: Chromium (over the DevTools protocol, with
// chromedp) and Firefox (over WebDriver BiDi, which Firefox speaks itself).
// One small API serves both, so a test is written once and runs per engine:
//
//	func TestX(t *testing.T) {
//		browser.Each(t, func(t *testing.T, e browser.Engine) {
//			tab := browser.New(t, e, 2*time.Minute) // closed when t ends
//			if err := tab.Navigate(hostURL); err != nil {
//				t.Fatal(err)
//			}
//			comp, err := tab.Frame("http://localhost:", 30*time.Second) // the cross-site iframe
//			if err != nil {
//				t.Fatal(err)
//			}
//			if err := comp.Poll(`window.ready === true`, 30*time.Second); err != nil {
//				t.Fatal(err)
//			}
//			if err := comp.Eval(`document.getElementById("send").click()`, nil); err != nil {
//				t.Fatal(err)
//			}
//			var got []string
//			if err := tab.Eval(`window.received`, &got); err != nil {
//				t.Fatal(err)
//			}
//		})
//	}
//
// Eval takes a JavaScript expression (wrap statements in an arrow function:
// `(() => { ...; return x })()`), awaits it if it is a promise, and decodes
// its value as JSON into out (nil discards it). A thrown exception or a
// rejected promise is an error. Clicks and form input are done in script
// (element.click(), input.value = ...), which behaves the same in both
// engines.
//
// Frame finds a cross-site iframe by its URL's prefix and returns a Tab that
// evaluates inside it. In Chromium it fails unless the frame runs in a
// renderer process of its own (an "iframe" target): pacing tests depend on
// that, since a same-site frame shares the host's process, is stalled with a
// busy host, and hides the delays production sees. Firefox runs cross-site
// frames in their own process too (Fission, on by default and set in the
// profile), but WebDriver BiDi does not show processes: there Frame finds
// the child browsing context.
//
// A test skips when its engine's browser is not installed, except under
// CI=true, where it fails: CI installs both (apt-get install -y chromium
// firefox-esr), and a skip there would hide a broken set-up. $CHROMIUM and
// $FIREFOX name the executables instead of a PATH lookup.
//
// Firefox ESR 153 exposes location.ancestorOrigins, as Chromium does; run a
// test also in FirefoxNoAncestorOrigins for what a page does where the
// browser hides its parent's origin (older Firefox). Engine.WithPrefs makes
// other Firefox variants. Pages shared by the tests: dev/internal/hostpage
// (a workspace host page and a bridge.js component page) and the Go WASM
// component dev/e2e/postmessage/testdata/component; Chromium's flags are
// ChromiumFlags, for code that drives chromedp itself.
//
// Timing: both engines start without timer throttling of background pages
// and frames (Chromium flags; Firefox prefs, see firefoxPrefs), so host-page
// measurements reflect the code under test. Browser tests are timing tests:
// run their packages one at a time (go test -p 1).
package browser

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"
)

// An Engine is a browser engine to run a test in.
type Engine struct {
	// Name is "chromium" or "firefox": subtests are named after it.
	Name string
	// Env is the environment variable naming the executable ($CHROMIUM,
	// $FIREFOX); Commands are looked up on PATH otherwise, in order.
	Env      string
	Commands []string
	// Install says how to install the browser on Debian.
	Install string

	// prefs are extra Firefox prefs (see WithPrefs).
	prefs map[string]any

	start func(ctx context.Context, t testing.TB, path, dir string, prefs map[string]any) (target, func(), error)
}

// WithPrefs returns Firefox with extra profile prefs, named name: a test
// uses it to run as a browser without a feature does, e.g. with
// "dom.location.ancestorOrigins.enabled" false. Chromium ignores prefs.
func (e Engine) WithPrefs(name string, prefs map[string]any) Engine {
	e.Name = name
	e.prefs = prefs
	return e
}

// Chromium is Debian's chromium (or Chrome), driven with chromedp.
var Chromium = Engine{
	Name:     "chromium",
	Env:      "CHROMIUM",
	Commands: []string{"chromium", "chromium-browser", "google-chrome"},
	Install:  "apt-get install -y chromium",
	start:    startChromium,
}

// Firefox is Debian's firefox-esr (or Firefox), driven over WebDriver BiDi.
var Firefox = Engine{
	Name:     "firefox",
	Env:      "FIREFOX",
	Commands: []string{"firefox-esr", "firefox"},
	Install:  "apt-get install -y firefox-esr",
	start:    startFirefox,
}

// FirefoxNoAncestorOrigins is Firefox without location.ancestorOrigins
// (pref dom.location.ancestorOrigins.enabled false), as Firefox releases
// before it shipped the property were: Firefox ESR 153 has it. Tests of what
// a page does where the browser does not tell it its parent's origin run
// in it.
var FirefoxNoAncestorOrigins = Firefox.WithPrefs("firefox-no-ancestororigins",
	map[string]any{"dom.location.ancestorOrigins.enabled": false})

// Engines returns every engine, Chromium first.
func Engines() []Engine { return []Engine{Chromium, Firefox} }

// Each runs f as a subtest per engine, named after it ("chromium",
// "firefox"), one after the other: never two browsers at once, since the
// tests measure timing.
func Each(t *testing.T, f func(t *testing.T, e Engine)) {
	t.Helper()
	for _, e := range Engines() {
		t.Run(e.Name, func(t *testing.T) { f(t, e) })
	}
}

// ExecPath returns e's executable: $Env if set (and found), else the first
// of Commands on PATH, or "" when there is none.
func (e Engine) ExecPath() string {
	if p := os.Getenv(e.Env); p != "" {
		if p, err := exec.LookPath(p); err == nil {
			return p
		}
		return ""
	}
	for _, name := range e.Commands {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// A Tab is a browser tab, or a frame in one (see Tab.Frame). Its methods
// are bounded by the timeout given to New and fail once the test has
// ended. A Tab is not safe for concurrent use.
type Tab struct {
	engine Engine
	ctx    context.Context
	tg     target
}

// target is what an engine implements for a tab or a frame.
type target interface {
	navigate(ctx context.Context, url string) error
	// eval evaluates a script whose value is a string (JSON text) and
	// returns that string.
	eval(ctx context.Context, expr string) (string, error)
	// frame looks once for a frame of the tab whose URL starts with
	// prefix; ok is false when there is none yet, and seen lists the
	// frames there are (for the error message).
	frame(ctx context.Context, prefix string) (f target, ok bool, seen []string, err error)
	screenshot(ctx context.Context) ([]byte, error)
}

// New starts a fresh headless browser of engine e (its own profile in a
// temporary directory, no network side traffic, no timer throttling) and
// returns its tab. The browser is closed when t ends; timeout bounds all of
// the test's work in it. New skips t when e's browser is not installed, and
// fails it instead under CI=true.
func New(t testing.TB, e Engine, timeout time.Duration) *Tab {
	t.Helper()
	path := e.ExecPath()
	if path == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("browser: no %s found (looked for $%s, %v), but CI=true: CI must install it (%s)", e.Name, e.Env, e.Commands, e.Install)
		}
		t.Skipf("browser: no %s found (looked for $%s, %v; %s); skipping", e.Name, e.Env, e.Commands, e.Install)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	tg, stop, err := e.start(ctx, t, path, t.TempDir(), e.prefs)
	if err != nil {
		cancel()
		t.Fatalf("browser: starting %s (%s): %v", e.Name, path, err)
	}
	t.Cleanup(func() {
		stop()
		cancel()
	})
	return &Tab{engine: e, ctx: ctx, tg: tg}
}

// Engine returns the engine the tab runs in.
func (b *Tab) Engine() Engine { return b.engine }

// Navigate loads url in the tab and waits for its load event.
func (b *Tab) Navigate(url string) error {
	if err := b.tg.navigate(b.ctx, url); err != nil {
		return fmt.Errorf("browser: navigate to %s: %w", url, err)
	}
	return nil
}

// Eval evaluates the JavaScript expression expr, awaits its value if it is
// a promise, and decodes the value as JSON into out (nil discards it;
// undefined decodes as null). An exception or a rejection is an error that
// includes its message.
func (b *Tab) Eval(expr string, out any) error {
	wrapped := "Promise.resolve((\n" + expr + "\n)).then((v) => JSON.stringify(v === undefined ? null : v))"
	s, err := b.tg.eval(b.ctx, wrapped)
	if err != nil {
		return fmt.Errorf("browser: eval %s: %w", short(expr), err)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal([]byte(s), out); err != nil {
		return fmt.Errorf("browser: eval %s: decoding %s: %w", short(expr), short(s), err)
	}
	return nil
}

// Poll evaluates expr every 50 ms until its value is truthy, for at most
// timeout. It returns an error when the time is up or an evaluation fails.
func (b *Tab) Poll(expr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		var ok bool
		if err := b.Eval("!!(\n"+expr+"\n)", &ok); err != nil {
			return err
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("browser: %s still false after %v", short(expr), timeout)
		}
		select {
		case <-b.ctx.Done():
			return fmt.Errorf("browser: polling %s: %w", short(expr), b.ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Frame waits up to timeout for an iframe of the tab whose URL starts with
// prefix, and returns a Tab that evaluates inside it. In Chromium the frame
// must be cross-site (a renderer process of its own): a same-site frame is
// not found. Navigate on a frame's Tab is not supported.
func (b *Tab) Frame(prefix string, timeout time.Duration) (*Tab, error) {
	deadline := time.Now().Add(timeout)
	for {
		f, ok, seen, err := b.tg.frame(b.ctx, prefix)
		if err != nil {
			return nil, fmt.Errorf("browser: finding the frame %s*: %w", prefix, err)
		}
		if ok {
			return &Tab{engine: b.engine, ctx: b.ctx, tg: f}, nil
		}
		if time.Now().After(deadline) {
			what := "frames"
			if b.engine.Env == Chromium.Env {
				what = "cross-site iframe targets (a same-site frame has none)"
			}
			return nil, fmt.Errorf("browser: no frame at %s* within %v in %s; %s: %q", prefix, timeout, b.engine.Name, what, seen)
		}
		select {
		case <-b.ctx.Done():
			return nil, fmt.Errorf("browser: waiting for a frame at %s*: %w", prefix, b.ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Screenshot returns a PNG of what the tab (or frame) shows.
func (b *Tab) Screenshot() ([]byte, error) {
	png, err := b.tg.screenshot(b.ctx)
	if err != nil {
		return nil, fmt.Errorf("browser: screenshot: %w", err)
	}
	return png, nil
}

// errNoFrameNavigate is returned by Navigate on a frame.
var errNoFrameNavigate = errors.New("browser: Navigate is for tabs, not frames")

func short(s string) string {
	if len(s) > 80 {
		return fmt.Sprintf("%q...", s[:77])
	}
	return fmt.Sprintf("%q", s)
}
