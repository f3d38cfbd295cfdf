// Issue 21's tests: postmessage checks location.ancestorOrigins[0] against
// its target before each post.

package postmessage_test

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/imworkspace/assistant"
	"github.com/imworkspace/assistant/dev/internal/browser"
	"github.com/imworkspace/assistant/dev/internal/e2etest"
)

// A component whose target is the workspace (the host origin), framed by
// a foreign origin that is itself framed by the workspace: the component's
// parent is the foreign page. Where the browser exposes the parent's origin
// (Chromium; Firefox ESR 153 too), every Send fails with ErrWrongParent,
// Rejected, and neither the foreign page nor the workspace receives
// anything. Where it does not (Firefox with location.ancestorOrigins off,
// as older releases were), today's documented behaviour holds: Send returns
// nil, and the browser drops the message (the CSP frame-ancestors header is
// the defence there, TestBrowserCSPFrameAncestors). The same component
// framed directly by the workspace delivers.
func TestBrowserWrongParent(t *testing.T) {
	srv := serve(t, "./testdata/component", componentPage)
	for _, e := range append(browser.Engines(), browser.FirefoxNoAncestorOrigins) {
		t.Run(e.Name, func(t *testing.T) {
			tab := browser.New(t, e, 2*time.Minute)
			exposed := e.Name != browser.FirefoxNoAncestorOrigins.Name

			t.Run("foreign parent", func(t *testing.T) {
				const n = 2
				q := url.Values{"origin": {srv.hostOrigin}, "host": {srv.hostOrigin}, "n": {fmt.Sprint(n)}, "nocsp": {"1"}}
				inner := srv.framerURL(srv.foreignOrigin, q, 0) // the foreign page framing the component
				outer := srv.hostOrigin + "/?" + url.Values{"src": {inner}}.Encode()
				got, done := srv.runNested(t, tab, outer, n)
				if exposed {
					if len(done.Details) != n {
						t.Fatalf("Send errors: %+v, want %d wrong-parent errors", done.Details, n)
					}
					for _, d := range done.Details {
						if !d.WrongParent || d.Delivery != assistant.Rejected.String() ||
							!strings.Contains(d.Error, srv.hostOrigin) || !strings.Contains(d.Error, srv.foreignOrigin) {
							t.Errorf("Send %d = %q (%s, wrong parent: %v); want ErrWrongParent naming %s and %s, Rejected",
								d.I, d.Error, d.Delivery, d.WrongParent, srv.hostOrigin, srv.foreignOrigin)
						}
					}
				} else if len(done.Errors) != 0 {
					t.Errorf("Send errors where the browser hides the parent's origin: %v; documented: nil", done.Errors)
				}
				if len(got) != 0 {
					t.Errorf("the workspace received %+v, want nothing", got)
				}
			})

			t.Run("workspace parent delivers", func(t *testing.T) {
				const n = 2
				page := srv.hostURL(url.Values{"origin": {srv.hostOrigin}, "host": {srv.hostOrigin}, "n": {fmt.Sprint(n)}})
				got, done := srv.run(t, tab, page, n, true, false)
				if len(done.Errors) != 0 {
					t.Errorf("Send errors: %v", done.Errors)
				}
				if len(got) != n {
					t.Fatalf("host received %d messages, want %d", len(got), n)
				}
				for i, r := range got {
					want, _ := assistant.Encode(e2etest.Message(i))
					if r.Data != string(want) || r.Origin != srv.compOrigin {
						t.Errorf("message %d: host got %q from %s", i, r.Data, r.Origin)
					}
				}
			})

			// A frame's document is discarded when its parent navigates,
			// so one Go program never sees its parent change: "between two
			// Sends" spans two documents of the same component. The first,
			// framed by the workspace, delivers; the tab then navigates to
			// a foreign framer, and the same component's Send there fails.
			t.Run("parent navigates to another origin between two Sends", func(t *testing.T) {
				q := url.Values{"origin": {srv.hostOrigin}, "host": {srv.hostOrigin}, "n": {"1"}}
				got, done := srv.run(t, tab, srv.hostURL(q), 1, true, false)
				if len(done.Errors) != 0 || len(got) != 1 {
					t.Fatalf("first Send: errors %v, host got %d messages; want nil and 1", done.Errors, len(got))
				}
				q = url.Values{"origin": {srv.hostOrigin}, "host": {srv.foreignOrigin}, "n": {"1"}, "nocsp": {"1"}}
				got, done = srv.run(t, tab, srv.framerURL(srv.foreignOrigin, q, 0), 1, false, false)
				if exposed {
					if len(done.Details) != 1 || !done.Details[0].WrongParent || done.Details[0].Delivery != assistant.Rejected.String() {
						t.Errorf("second Send, parent now %s: %+v; want ErrWrongParent, Rejected", srv.foreignOrigin, done.Details)
					}
				} else if len(done.Errors) != 0 {
					t.Errorf("second Send where the browser hides the parent's origin: %v; documented: nil", done.Errors)
				}
				if len(got) != 0 {
					t.Errorf("the foreign parent received %+v", got)
				}
			})
		})
	}
}

// runNested loads outer, a host page framing a host page framing the
// component, starts the component from the outer page (which the component
// takes "start" from: host=<outer origin>), and returns what the outer page
// received and the component's report.
func (s *servers) runNested(t *testing.T, tab *browser.Tab, outer string, n int) ([]received, componentReport) {
	t.Helper()
	s.drain()
	if err := tab.Navigate(outer); err != nil {
		t.Fatal(err)
	}
	wait := func(event string, d time.Duration) componentReport {
		t.Helper()
		select {
		case rep := <-s.reports:
			if rep.Event != event {
				t.Fatalf("component reported %+v, want event %q", rep, event)
			}
			return rep
		case <-time.After(d):
			t.Fatalf("component did not report %q within %v", event, d)
		}
		panic("unreachable")
	}
	wait("ready", time.Minute)
	// A window may post to a frame's frame across origins.
	if err := tab.Eval(`document.getElementById("c").contentWindow.frames[0].postMessage("start", `+strconv.Quote(s.compOrigin)+`)`, nil); err != nil {
		t.Fatal(err)
	}
	done := wait("done", time.Duration(n)*2*time.Second+10*time.Second)
	time.Sleep(2 * time.Second) // anything posted arrives within a few ms
	var got []received
	if err := tab.Eval("window.received", &got); err != nil {
		t.Fatal(err)
	}
	return got, done
}
