package assistanttest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/imworkspace/assistant"
)

// Transport is what TestSender needs to know of a Sender under test.
type Transport struct {
	// Sender is the implementation under test.
	Sender assistant.Sender
	// Delivered returns the wire strings that have reached the far side (the
	// host, or a fake of it) so far, in arrival order. When Send has returned
	// nil, its message must already be there.
	Delivered func() [][]byte
	// Break, if not nil, makes every later send fail at the transport (for
	// example by closing the connection). TestSender then checks that Send
	// returns an error and delivers nothing.
	Break func()
}

// sendTimeout bounds every Send of the suite, so a broken transport fails
// the test instead of hanging it.
const sendTimeout = 20 * time.Second

// Messages returns valid messages of all four types, with content that
// trips naive encoders: quotes, backslashes, control characters, HTML,
// U+2028, emoji.
func Messages() []assistant.Message {
	return []assistant.Message{
		assistant.NewText("hello"),
		assistant.NewText("quote \" backslash \\ tab\tnewline\n </script> & U+2028:\u2028 emoji:😀"),
		assistant.NewRich("<p style='font-size:18px'>hello world</p>"),
		assistant.NewRich(assistant.MiniProgramLink("/path/navigate/to", `Jump "there" & back`)),
		assistant.NewProduct("Apple iPhone X (A1903) 64GB", "https://item.jd.com/6748052.html",
			"http://img12.360buyimg.com/n1/s450x450.jpg",
			assistant.ProductParam{Text: "¥6999.00", Color: "#FF0000", Fold: true, Size: 12},
			assistant.ProductParam{Text: "Additional ¥30 for orders over ¥1999", Break: true}),
		assistant.NewProduct("Path product", "/pages/product/detail", "https://img.example.com/p.png"),
		assistant.NewMiniProgramPage("title", "pages/index/index?foo=bar", "http://img12.360buyimg.com/n1/xxx.jpg"),
		assistant.MiniProgramPage{Title: "thumb only", PagePath: "pages/a", ThumbMediaID: "MEDIA_ID_1"},
	}
}

// TestSender checks that a Sender keeps the contract of assistant.Sender:
// exact wire bytes in order, nothing delivered for invalid messages or a
// done context, whole messages under concurrent use, and transport errors
// returned. It checks the errors' classes where it can make the case: an
// invalid message is assistant.Rejected (also with a done context: the
// message is validated first), and a context done before Send is
// assistant.NotDelivered. newTransport is called once per subtest and must return a fresh
// transport; the suite sends a few dozen messages, so give it a Sender
// without pacing (or with a fast one).
func TestSender(t *testing.T, newTransport func(t *testing.T) Transport) {
	t.Helper()
	t.Run("ExactBytesInOrder", func(t *testing.T) {
		tr := newTransport(t)
		base := len(tr.Delivered())
		var want [][]byte
		for _, m := range Messages() {
			w, err := assistant.Encode(m)
			if err != nil {
				t.Fatalf("Encode(%#v): %v", m, err)
			}
			want = append(want, w)
			if err := send(tr.Sender, m); err != nil {
				t.Fatalf("Send(%s): %v", m.Type(), err)
			}
		}
		got := tr.Delivered()[base:]
		if len(got) != len(want) {
			t.Fatalf("delivered %d messages, want %d", len(got), len(want))
		}
		for i := range want {
			if !bytes.Equal(got[i], want[i]) {
				t.Errorf("message %d:\n got %s\nwant %s", i, got[i], want[i])
			}
		}
	})
	t.Run("InvalidNotDelivered", func(t *testing.T) {
		tr := newTransport(t)
		base := len(tr.Delivered())
		for _, m := range []assistant.Message{
			assistant.Text{},
			assistant.Product{Name: "no image"},
			assistant.MiniProgramPage{Title: "t", PagePath: "p"},
			(*assistant.Text)(nil),
			nil,
		} {
			err := send(tr.Sender, m)
			if !errors.Is(err, assistant.ErrInvalid) {
				t.Errorf("Send(%#v) = %v, want an error matching assistant.ErrInvalid", m, err)
			}
			if d := assistant.DeliveryOf(err); d != assistant.Rejected {
				t.Errorf("Send(%#v) = %v: DeliveryOf = %v, want Rejected", m, err, d)
			}
		}
		// Validated before ctx is looked at, as assistant.RateLimited does.
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		err := tr.Sender.Send(ctx, assistant.Text{})
		if !errors.Is(err, assistant.ErrInvalid) || assistant.DeliveryOf(err) != assistant.Rejected {
			t.Errorf("Send(invalid) with a cancelled ctx = %v (%v), want its validation error, Rejected", err, assistant.DeliveryOf(err))
		}
		if got := tr.Delivered()[base:]; len(got) != 0 {
			t.Errorf("invalid messages delivered: %q", got)
		}
	})
	t.Run("DoneContext", func(t *testing.T) {
		tr := newTransport(t)
		base := len(tr.Delivered())
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		err := tr.Sender.Send(ctx, assistant.NewText("cancelled"))
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Send with cancelled ctx = %v, want context.Canceled", err)
		}
		if d := assistant.DeliveryOf(err); d != assistant.NotDelivered {
			t.Errorf("Send with cancelled ctx = %v: DeliveryOf = %v, want NotDelivered", err, d)
		}
		ctx, cancel = context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
		defer cancel()
		err = tr.Sender.Send(ctx, assistant.NewText("expired"))
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Send with expired ctx = %v, want context.DeadlineExceeded", err)
		}
		if d := assistant.DeliveryOf(err); d != assistant.NotDelivered {
			t.Errorf("Send with expired ctx = %v: DeliveryOf = %v, want NotDelivered", err, d)
		}
		if got := tr.Delivered()[base:]; len(got) != 0 {
			t.Errorf("delivered with a done context: %q", got)
		}
	})
	t.Run("Concurrent", func(t *testing.T) {
		tr := newTransport(t)
		base := len(tr.Delivered())
		const goroutines, each = 8, 5
		var wg sync.WaitGroup
		errs := make(chan error, goroutines*each)
		for g := range goroutines {
			wg.Go(func() {
				for i := range each {
					if err := send(tr.Sender, assistant.NewText(fmt.Sprintf("g%d-m%d", g, i))); err != nil {
						errs <- fmt.Errorf("goroutine %d message %d: %w", g, i, err)
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		got := tr.Delivered()[base:]
		seen := map[string]int{}
		next := make([]int, goroutines) // next expected message per goroutine
		for _, w := range got {
			m, err := assistant.Decode(w)
			if err != nil {
				t.Fatalf("delivered bytes do not decode (interleaved?): %q: %v", w, err)
			}
			txt, ok := m.(assistant.Text)
			if !ok {
				t.Fatalf("delivered %#v, want a Text", m)
			}
			seen[txt.Content]++
			var g, i int
			if _, err := fmt.Sscanf(txt.Content, "g%d-m%d", &g, &i); err != nil || g < 0 || g >= goroutines {
				t.Fatalf("unexpected message %q", txt.Content)
			}
			if i != next[g] {
				t.Errorf("goroutine %d: message %d arrived when %d was expected", g, i, next[g])
			}
			next[g] = i + 1
		}
		if len(got) != goroutines*each {
			t.Errorf("delivered %d messages, want %d", len(got), goroutines*each)
		}
		for c, n := range seen {
			if n != 1 {
				t.Errorf("%q delivered %d times", c, n)
			}
		}
	})
	t.Run("TransportError", func(t *testing.T) {
		tr := newTransport(t)
		if tr.Break == nil {
			t.Skip("Transport.Break is nil: transport errors not tested")
		}
		if err := send(tr.Sender, assistant.NewText("before")); err != nil {
			t.Fatalf("Send before Break: %v", err)
		}
		base := len(tr.Delivered())
		tr.Break()
		if err := send(tr.Sender, assistant.NewText("after")); err == nil {
			t.Error("Send after Break returned nil, want the transport's error")
		}
		if got := tr.Delivered()[base:]; len(got) != 0 {
			t.Errorf("delivered after Break: %q", got)
		}
	})
}

func send(s assistant.Sender, m assistant.Message) error {
	ctx, cancel := context.WithTimeout(context.Background(), sendTimeout)
	defer cancel()
	return s.Send(ctx, m)
}
