package assistanttest_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/imworkspace/assistant"
	"github.com/imworkspace/assistant/assistanttest"
)

var errBroken = errors.New("broken transport")

func TestRecorderConformance(t *testing.T) {
	assistanttest.TestSender(t, func(t *testing.T) assistanttest.Transport {
		rec := &assistanttest.Recorder{}
		return assistanttest.Transport{
			Sender:    rec,
			Delivered: rec.Wire,
			Break:     func() { rec.FailNext(1<<30, errBroken) },
		}
	})
}

func TestHostConformance(t *testing.T) {
	assistanttest.TestSender(t, func(t *testing.T) assistanttest.Transport {
		// The suite sends in bursts; a host with a 1 ns interval accepts them
		// while still decoding and checking every message.
		h := &assistanttest.Host{Channel: assistant.Web(), Interval: time.Nanosecond,
			Rules: assistant.Rules{
				assistant.TypeText: {Other: true, Web: true}, assistant.TypeRich: {Web: true},
				assistant.TypeProduct: {Web: true}, assistant.TypeMiniProgramPage: {Web: true},
			}}
		return assistanttest.Transport{Sender: h, Delivered: func() [][]byte {
			var w [][]byte
			for _, r := range h.Accepted() {
				w = append(w, r.Wire)
			}
			return w
		}}
	})
}

func TestRecorderRecords(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &assistanttest.Recorder{}
		ctx := context.Background()
		start := time.Now()
		if err := rec.Send(ctx, assistant.NewText("a")); err != nil {
			t.Fatal(err)
		}
		time.Sleep(1500 * time.Millisecond)
		if err := rec.Send(ctx, &assistant.Rich{HTML: "<b>b</b>"}); err != nil {
			t.Fatal(err)
		}
		rec.FailNext(1, errBroken)
		if err := rec.Send(ctx, assistant.NewText("c")); !errors.Is(err, errBroken) {
			t.Fatalf("Send after FailNext = %v, want errBroken", err)
		}
		if err := rec.Send(ctx, assistant.NewText("d")); err != nil {
			t.Fatalf("Send after the failure was used up: %v", err)
		}
		want := []assistanttest.Record{
			{Message: assistant.Text{Content: "a"}, Wire: []byte(`{"method":"sendMsg","type":"text","content":"a"}`), At: start},
			{Message: assistant.Rich{HTML: "<b>b</b>"}, Wire: []byte(`{"method":"sendMsg","type":"rich","content":"<b>b</b>"}`), At: start.Add(1500 * time.Millisecond)},
			{Message: assistant.Text{Content: "d"}, Wire: []byte(`{"method":"sendMsg","type":"text","content":"d"}`), At: start.Add(1500 * time.Millisecond)},
		}
		if diff := cmp.Diff(want, rec.Records()); diff != "" {
			t.Errorf("records (-want +got):\n%s", diff)
		}
		rec.Reset()
		if n := len(rec.Messages()); n != 0 {
			t.Errorf("after Reset: %d messages", n)
		}
	})
}

func TestHostRefuses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := assistanttest.NewHost(assistant.MiniProgram())
		ctx := context.Background()
		card := assistant.NewMiniProgramPage("t", "pages/a", "https://img.example.com/a.png")
		if err := h.Send(ctx, card); err != nil {
			t.Fatalf("first card: %v", err)
		}
		time.Sleep(999 * time.Millisecond)
		err := h.Send(ctx, card)
		var tooFast *assistanttest.TooFastError
		if !errors.As(err, &tooFast) || !errors.Is(err, assistanttest.ErrTooFast) {
			t.Fatalf("card after 999ms: %v, want *TooFastError", err)
		}
		if tooFast.Gap != 999*time.Millisecond || tooFast.Min != time.Second {
			t.Errorf("TooFastError = %+v, want gap 999ms, min 1s", tooFast)
		}
		time.Sleep(time.Second)
		if err := h.Send(ctx, assistant.NewProduct("p", "", "https://img.example.com/p.png")); !errors.Is(err, assistant.ErrNotAllowed) {
			t.Errorf("product on mini program: %v, want ErrNotAllowed", err)
		}
		time.Sleep(time.Second)
		if err := h.Receive([]byte(`{"method":"sendMsg","type":"text","content":""}`)); !errors.Is(err, assistant.ErrInvalid) {
			t.Errorf("empty text: %v, want ErrInvalid", err)
		}
		time.Sleep(time.Second)
		if err := h.Receive([]byte(`{"method":"sendMsg","type":"text","content":"ok"}`)); err != nil {
			t.Errorf("valid text 1s after a refusal: %v", err)
		}
		if n := len(h.Accepted()); n != 2 {
			t.Errorf("accepted %d messages, want 2", n)
		}
	})
}

// TestHostRefusesTooLarge: the Host applies assistant.MaxMessageSize, as
// a transport's frame limit would, to what it receives and to what it is
// asked to send.
func TestHostRefusesTooLarge(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := assistanttest.NewHost(assistant.Web())
		big := `{"method":"sendMsg","type":"text","content":"` + strings.Repeat("a", assistant.MaxMessageSize) + `"}`
		var tl *assistant.TooLargeError
		if err := h.Receive([]byte(big)); !errors.As(err, &tl) || !errors.Is(err, assistant.ErrTooLarge) {
			t.Errorf("Receive of %d bytes = %v; want a *TooLargeError", len(big), err)
		}
		time.Sleep(time.Second)
		if err := h.Send(context.Background(), assistant.NewText(strings.Repeat("a", assistant.MaxMessageSize))); !errors.Is(err, assistant.ErrTooLarge) {
			t.Errorf("Send of a text over the limit = %v; want ErrTooLarge", err)
		}
		if n := len(h.Accepted()); n != 0 {
			t.Errorf("accepted %d messages, want 0", n)
		}
	})
}

// FailNext(n, nil) cannot make Send return a nil that delivered nothing:
// the n sends fail, saying why, and record nothing.
func TestRecorderFailNextNil(t *testing.T) {
	rec := &assistanttest.Recorder{}
	ctx := context.Background()
	rec.FailNext(2, nil)
	for i := range 2 {
		err := rec.Send(ctx, assistant.NewText("x"))
		if err == nil || !strings.Contains(err.Error(), "FailNext") {
			t.Fatalf("Send %d after FailNext(2, nil) = %v, want an error naming FailNext", i, err)
		}
		if d := assistant.DeliveryOf(err); d != assistant.NotDelivered {
			t.Errorf("Send %d: DeliveryOf = %v, want NotDelivered", i, d)
		}
	}
	if n := len(rec.Records()); n != 0 {
		t.Errorf("%d records after the failures, want 0", n)
	}
	if err := rec.Send(ctx, assistant.NewText("y")); err != nil {
		t.Errorf("third Send = %v, want nil", err)
	}
}

// Recorder and Host look at the message before ctx, as RateLimited does,
// and classify what they return.
func TestDoublesValidateFirst(t *testing.T) {
	done, cancel := context.WithCancel(context.Background())
	cancel()
	host := &assistanttest.Host{Channel: assistant.Web(), Interval: time.Nanosecond}
	for name, s := range map[string]assistant.Sender{"Recorder": &assistanttest.Recorder{}, "Host": host} {
		err := s.Send(done, assistant.Text{})
		if !errors.Is(err, assistant.ErrInvalid) || assistant.DeliveryOf(err) != assistant.Rejected {
			t.Errorf("%s: invalid message, done ctx: %v (%v), want ErrInvalid, Rejected", name, err, assistant.DeliveryOf(err))
		}
		err = s.Send(done, assistant.NewText("x"))
		if !errors.Is(err, context.Canceled) || assistant.DeliveryOf(err) != assistant.NotDelivered {
			t.Errorf("%s: done ctx: %v (%v), want context.Canceled, NotDelivered", name, err, assistant.DeliveryOf(err))
		}
	}
}

func TestHostClassifies(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := assistanttest.NewHost(assistant.MiniProgram())
		ctx := context.Background()
		if err := h.Send(ctx, assistant.NewText("a")); err != nil {
			t.Fatal(err)
		}
		if err := h.Send(ctx, assistant.NewText("b")); !errors.Is(err, assistanttest.ErrTooFast) || assistant.DeliveryOf(err) != assistant.NotDelivered {
			t.Errorf("too fast: %v (%v), want ErrTooFast, NotDelivered", err, assistant.DeliveryOf(err))
		}
		time.Sleep(time.Second)
		err := h.Send(ctx, assistant.NewProduct("p", "", "https://img.example.com/p.png"))
		if !errors.Is(err, assistant.ErrNotAllowed) || assistant.DeliveryOf(err) != assistant.Rejected {
			t.Errorf("not allowed: %v (%v), want ErrNotAllowed, Rejected", err, assistant.DeliveryOf(err))
		}
		time.Sleep(time.Second)
		err = h.Receive([]byte(`{"method":"sendMsg"`))
		if !errors.Is(err, assistant.ErrInvalid) || assistant.DeliveryOf(err) != assistant.Rejected {
			t.Errorf("malformed: %v (%v), want ErrInvalid, Rejected", err, assistant.DeliveryOf(err))
		}
	})
}
