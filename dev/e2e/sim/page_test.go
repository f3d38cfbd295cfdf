package sim_test

import (
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/imworkspace/assistant/dev/internal/browser"
)

// page drives the sim's workspace page in a browser tab.
type page struct {
	t     *testing.T
	tab   *browser.Tab // the workspace page
	frame *browser.Tab // the component frame (cross-site)
}

// openSim opens the sim's page with query added to the printed URL, finds
// the component frame at compOrigin and waits until firstButton is shown
// in it.
func openSim(t *testing.T, tab *browser.Tab, s *simProc, query url.Values, compOrigin, firstButton string) *page {
	t.Helper()
	s.open(t, tab, query)
	frame, err := tab.Frame(compOrigin+"/", 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	p := &page{t: t, tab: tab, frame: frame}
	if err := frame.Poll(`(() => { const b = document.querySelector(`+jsString(firstButton)+`); return !!b && b.offsetParent !== null; })()`, 30*time.Second); err != nil {
		var shown string
		frame.Eval(`document.body ? document.body.innerText : ''`, &shown)
		t.Fatalf("waiting for %s in the component: %v; the frame shows:\n%s", firstButton, err, shown)
	}
	return p
}

// waitReady waits until the default component's Go code has set up its
// buttons (window.componentReady).
func (p *page) waitReady() {
	p.t.Helper()
	if err := p.frame.Poll("window.componentReady === true", time.Minute); err != nil {
		p.t.Fatalf("the default component never became ready: %v", err)
	}
}

// click clicks a button inside the component frame.
func (p *page) click(sel string) {
	p.t.Helper()
	if err := p.frame.Eval(`document.querySelector(`+jsString(sel)+`).click()`, nil); err != nil {
		p.t.Fatalf("clicking %s in the component: %v", sel, err)
	}
}

// setChannel picks the customer's channel in the page's picker.
func (p *page) setChannel(kind, extra string) {
	p.t.Helper()
	js := `(() => {
		const sel = document.getElementById('channel');
		sel.value = ` + jsString(kind) + `;
		sel.dispatchEvent(new Event('change'));
		const extra = ` + jsString(extra) + `;
		if (extra) {
			const input = document.getElementById(sel.value === 'sdk' ? 'sdk-version' : 'other-name');
			input.value = extra;
			input.dispatchEvent(new Event('input'));
		}
		return document.getElementById('channel-value').textContent;
	})()`
	if err := p.tab.Eval(js, nil); err != nil {
		p.t.Fatalf("setting channel %s: %v", kind, err)
	}
}

// waitCounts waits until the host has accepted and refused that many
// messages.
func (p *page) waitCounts(accepted, refused int) {
	p.t.Helper()
	js := `document.querySelectorAll('#conversation .msg').length === ` + strconv.Itoa(accepted) +
		` && document.querySelectorAll('#log .entry.refused').length === ` + strconv.Itoa(refused)
	if err := p.tab.Poll(js, 15*time.Second); err != nil {
		var log string
		p.tab.Eval(`document.getElementById('log').innerText`, &log)
		p.t.Fatalf("waiting for %d accepted, %d refused: %v\nhost log:\n%s", accepted, refused, err, log)
	}
}

// sendOne clicks sel, waits until the host has judged the message (so
// many accepted and refused in all), then waits 1.1 s more, so the next
// message cannot be too fast whatever the component's own pacing does.
func (p *page) sendOne(sel string, accepted, refused int) {
	p.t.Helper()
	p.click(sel)
	p.waitCounts(accepted, refused)
	time.Sleep(1100 * time.Millisecond)
}

// eval evaluates js in tab and decodes its value.
func eval[T any](t *testing.T, tab *browser.Tab, js string) T {
	t.Helper()
	var v T
	if err := tab.Eval(js, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// screenshot saves what the tab shows as a PNG under the test's temp dir,
// and to copyTo unless it is "".
func (p *page) screenshot(name, copyTo string) {
	p.t.Helper()
	png, err := p.tab.Screenshot()
	if err != nil {
		p.t.Fatal(err)
	}
	path := filepath.Join(p.t.TempDir(), name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		p.t.Fatal(err)
	}
	p.t.Logf("screenshot: %s", path)
	if copyTo != "" {
		if err := os.WriteFile(copyTo, png, 0o644); err != nil {
			p.t.Fatal(err)
		}
		p.t.Logf("screenshot copied to %s", copyTo)
	}
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s) // escapes <, > and & too
	return string(b)
}
