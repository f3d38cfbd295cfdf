//go:build !js

package wsbridge

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/imworkspace/assistant"
	"github.com/imworkspace/assistant/internal/browsertest"
)

// startLongTasks makes the host page busy as a heavy single-page app is: a
// long task of a random 0-maxMs ms every 150-400 ms.
const startLongTasks = `(() => {
  const L = %d;
  function longTask() {
    const end = performance.now() + Math.random() * L;
    while (performance.now() < end) {}
    setTimeout(longTask, 150 + Math.random() * 250);
  }
  setTimeout(longTask, 150 + Math.random() * 250);
})()`

// TestBrowserBusyHost is the pacing check at a busy host: 20 messages
// through RateLimited and the bridge script, both at their defaults, while
// the host runs long tasks of up to 200 ms every 150-400 ms (and, for
// comparison, while it is idle). A message that arrives during a task is
// dispatched when the task ends, the next one at once, so the host sees the
// gap shrink by up to the task's length; the default margin must cover it
// (docs/pacing.md). The component is cross-site, in its own renderer
// process, as in production (a same-site frame shares the host's process
// and is stalled with it, which hides the problem): the test checks that
// the frame is an iframe target.
func TestBrowserBusyHost(t *testing.T) {
	for _, busy := range []int{0, 200} {
		t.Run(fmt.Sprintf("long tasks up to %d ms", busy), func(t *testing.T) {
			b := newBrowserSetup(t, 90*time.Second, Options{})
			browsertest.Frame(t, b.ctx, "http://localhost:", 30*time.Second)
			if busy > 0 {
				if err := chromedp.Do(b.ctx, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(startLongTasks, busy))); err != nil {
					t.Fatal(err)
				}
			}
			sendPaced(t, b, 20)
		})
	}
}

// sendPaced sends n texts through RateLimited(hub.Sender) with the
// defaults and checks what the host saw: the exact messages, no gap under
// 1000 ms, and a span of at most (n-1) × (DefaultInterval+DefaultMargin)
// + 0.5 s.
func sendPaced(t *testing.T, b *browserSetup, n int) {
	t.Helper()
	text := func(i int) string { return fmt.Sprintf("paced-%02d", i) }
	s := assistant.RateLimited(b.hub.Sender("conv-1"))
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(n)*3*time.Second)
	defer cancel()
	for i := range n {
		if err := s.Send(ctx, assistant.NewText(text(i))); err != nil {
			t.Fatalf("Send %d: %v", i, err)
		}
	}
	// Every Send returned nil: the page has posted all of them; the last
	// event lands when the host's current task ends.
	var recs []hostRecord
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		recs = b.got(t)
		if len(recs) >= n || time.Now().After(deadline) {
			break
		}
	}
	if len(recs) != n {
		t.Fatalf("host received %d messages, want %d", len(recs), n)
	}
	for i, r := range recs {
		want, _ := assistant.Encode(assistant.NewText(text(i)))
		if r.Data != string(want) {
			t.Errorf("message %d at the host: got %q, want %q", i, r.Data, want)
		}
	}
	minGap := checkGaps(t, recs)
	span := recs[n-1].T - recs[0].T
	slot := assistant.DefaultInterval + assistant.DefaultMargin
	limit := time.Duration(n-1)*slot + 500*time.Millisecond
	if span > float64(limit.Milliseconds()) {
		t.Errorf("host received %d messages in %.1f ms, want <= %d ms (%d × %v + 0.5 s)", n, span, limit.Milliseconds(), n-1, slot)
	}
	t.Logf("%d messages in %.1f ms, smallest gap %.1f ms", n, span, minGap)
}

// The bridge script's default interval is assistant.DefaultInterval +
// DefaultMargin, filled in where bridge.js has its one placeholder: the
// number is defined once, in Go, for both transports.
func TestScriptDefaultInterval(t *testing.T) {
	if n := bytes.Count(rawScript, []byte(intervalPlaceholder)); n != 1 {
		t.Fatalf("bridge.js has %d %s placeholders, want 1", n, intervalPlaceholder)
	}
	ms := (assistant.DefaultInterval + assistant.DefaultMargin).Milliseconds()
	want := fmt.Sprintf(`var DEFAULT_INTERVAL_MS = Number("%d");`, ms)
	if !bytes.Contains(script, []byte(want)) || bytes.Contains(script, []byte(intervalPlaceholder)) {
		t.Errorf("served bridge.js does not set %s", want)
	}
}
