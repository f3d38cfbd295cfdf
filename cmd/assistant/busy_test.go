//go:build !js

package main

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/imworkspace/assistant/cmd/assistant/internal/browsertest"
)

// TestSimBrowserBusyHost checks the "Busy host" control: picking long tasks
// of up to 300 ms makes the workspace page run them (it says how busy it
// is, and the URL keeps the choice), and a host long task still gets
// messages flagged: two messages the component posts 1.1 s apart, the
// first during a 1.5 s task, reach the page's handler less than 1 s apart,
// and the second is refused as too fast.
func TestSimBrowserBusyHost(t *testing.T) {
	ctx := browsertest.New(t, 90*time.Second)
	s := startSim(t, simConfig{})
	comps := startComponents(t)
	p := openSim(t, ctx, s, comps+"/test.html?origin="+url.QueryEscape(s.hostOrigin), "#send-text")

	eval[string](p, `(() => {
		const sel = document.getElementById('busy');
		sel.value = '300';
		sel.dispatchEvent(new Event('change'));
		return sel.value;
	})()`)
	if err := chromedp.Do(ctx, chromedp.Poll[chromedp.Void](`/^[0-9]+ long tasks, busy [1-9][0-9]*% of the time$/.test(document.getElementById('busy-stat').textContent)`,
		chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Fatalf("no long tasks reported after picking 300 ms: %v (status %q)", err, eval[string](p, `document.getElementById('busy-stat').textContent`))
	}
	if u := eval[string](p, `location.href`); !strings.Contains(u, "busy=300") {
		t.Errorf("URL after picking 300 ms = %s, want busy=300 in it", u)
	}
	// Back to idle, then one long task of 1.5 s, as the busy host runs
	// them, while the component posts twice, 1.1 s apart (its own pacing):
	// the first arrives during the task and is dispatched when it ends.
	eval[string](p, `(() => {
		const sel = document.getElementById('busy');
		sel.value = '0';
		sel.dispatchEvent(new Event('change'));
		return sel.value;
	})()`)
	time.Sleep(500 * time.Millisecond) // a task of the 300 ms level may still run
	eval[string](p, `(() => {
		setTimeout(() => { const end = performance.now() + 1500; while (performance.now() < end) {} }, 0);
		return 'scheduled';
	})()`)
	time.Sleep(100 * time.Millisecond) // the task has started
	if err := chromedp.Do(p.frame, chromedp.Evaluate[chromedp.Void](`document.getElementById('send-text').click(); document.getElementById('send-rich').click()`)); err != nil {
		t.Fatalf("clicking in the component: %v", err)
	}
	p.waitCounts(1, 1)
	fast := eval[struct {
		Kinds string
		Gap   float64
	}](p, `(() => {
		const e = document.querySelector('#log .entry.refused:last-child');
		return { Kinds: e.dataset.kinds, Gap: parseFloat(e.querySelector('.head').textContent.split('+')[1]) };
	})()`)
	if fast.Kinds != "too fast" || fast.Gap >= 1000 {
		t.Errorf("second message after the host's long task: kinds %q, gap %v ms; want too fast, under 1000 ms", fast.Kinds, fast.Gap)
	}
	t.Logf("posted 1100 ms apart; the busy host saw +%.1f ms", fast.Gap)
}
