package wsbridge_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/imworkspace/assistant"
	"github.com/imworkspace/assistant/assistanttest"
	"github.com/imworkspace/assistant/dev/internal/browser"
	"github.com/imworkspace/assistant/dev/internal/hostpage"
	"github.com/imworkspace/assistant/wsbridge"
)

// Ten messages of all four types, sent from Go through a Hub's Sender,
// reach a host page in a real browser with their exact bytes, in order, at
// least 1000 ms apart as the host measures.
func TestBrowserEndToEnd(t *testing.T) {
	browser.Each(t, func(t *testing.T, e browser.Engine) {
		b := newSetup(t, e, config{timeout: 90 * time.Second})
		msgs := append(assistanttest.Messages(),
			assistant.NewText("the ninth"),
			assistant.NewProduct("Tenth", "", "https://img.example.com/10.png"))
		var want []string
		for _, m := range msgs {
			w, err := assistant.Encode(m)
			if err != nil {
				t.Fatal(err)
			}
			want = append(want, string(w))
		}
		s := b.hub.Sender("conv-1") // paced by the Hub: no RateLimited of our own
		ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
		defer cancel()
		for i, m := range msgs {
			if err := s.Send(ctx, m); err != nil {
				t.Fatalf("Send %d (%s): %v", i, m.Type(), err)
			}
		}
		// Send returned nil for all ten: the page has posted them all, so
		// the host has them or will within a task.
		recs := hostpage.Wait(t, b.tab, len(want), 5*time.Second)
		if len(recs) != len(want) {
			t.Fatalf("host received %d messages, want %d", len(recs), len(want))
		}
		for i := range want {
			if !recs[i].Str || recs[i].Data != want[i] {
				t.Errorf("message %d at the host:\n got %q (string: %v)\nwant %q", i, recs[i].Data, recs[i].Str, want[i])
			}
		}
		t.Logf("%s: smallest host-observed gap: %.1f ms", e.Name, hostpage.CheckGaps(t, recs))
		hostpage.Note(t)
	})
}

// The fault test in a real browser: 30 sends while the connection is cut
// four times (1001, as a load balancer or a dying server does; once with
// the message in flight, swallowed, so it never reaches the page) and the
// component page reloads once. Every Send that returned nil reached the
// host exactly once, none twice, the others returned an error (the
// swallowed one certainly); host-observed gaps stay >= 1000 ms throughout.
func TestBrowserFault(t *testing.T) {
	if testing.Short() {
		t.Skip("about 40 s per engine; skipped with -short")
	}
	browser.Each(t, func(t *testing.T, e browser.Engine) {
		b := newSetup(t, e, config{timeout: 120 * time.Second, proxy: true, opts: wsbridge.Options{AckTimeout: 5 * time.Second}})
		inner := b.hub.Sender("conv-1")
		s := assistant.RateLimited(inner)
		ctx, cancel := context.WithTimeout(context.Background(), 75*time.Second)
		defer cancel()
		text := func(i int) string { return fmt.Sprintf("fault-%02d", i) }
		results := make([]error, 30)
		for i := range 30 {
			switch i {
			case 5, 25: // between sends
				b.proxy.cut()
			case 8: // the message is lost on the way: Send must fail
				b.proxy.dropAndCutNext()
			case 12: // 20 ms after the next write: the page holds the message
				b.proxy.cutAfterNext()
			case 18:
				if err := b.tab.Eval("reloadComponent()", nil); err != nil {
					t.Fatal(err)
				}
			}
			results[i] = s.Send(ctx, assistant.NewText(text(i)))
		}
		time.Sleep(500 * time.Millisecond) // let the last events land
		recs := hostpage.Records(t, b.tab)
		count := map[string]int{}
		for _, r := range recs {
			count[r.Data]++
		}
		ok := 0
		for i, err := range results {
			w, _ := assistant.Encode(assistant.NewText(text(i)))
			n := count[string(w)]
			switch {
			case n > 1:
				t.Errorf("%s reached the host %d times", text(i), n)
			case err == nil && n != 1:
				t.Errorf("Send(%s) = nil but the host got it %d times", text(i), n)
			case err != nil && !errors.Is(err, wsbridge.ErrDisconnected) && !errors.Is(err, wsbridge.ErrNotConnected):
				t.Errorf("Send(%s) = %v, want ErrDisconnected or ErrNotConnected", text(i), err)
			}
			if err == nil {
				ok++
			} else {
				t.Logf("Send(%s): %v (host got it %d times)", text(i), err, n)
			}
		}
		if n := b.proxy.cutCount(); n != 4 {
			t.Errorf("%d cuts, want 4", n)
		}
		if results[8] == nil {
			t.Errorf("Send(%s), whose frame never reached the page, = nil", text(8))
		}
		if ok < 15 {
			t.Errorf("only %d of 30 sends succeeded; the bridge does not recover well", ok)
		}
		t.Logf("%s: 30 sends: %d nil; host got %d messages; smallest host gap %.1f ms", e.Name, ok, len(recs), hostpage.CheckGaps(t, recs))
		hostpage.Note(t)
	})
}
