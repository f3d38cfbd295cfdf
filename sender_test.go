package assistant_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/imworkspace/assistant"
	"github.com/imworkspace/assistant/assistanttest"
)

func TestForChannelRefusesBeforeLimiter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &assistanttest.Recorder{}
		s := assistant.ForChannel(assistant.RateLimited(rec), assistant.MiniProgram())
		ctx := context.Background()
		start := time.Now()
		err := s.Send(ctx, assistant.NewProduct("n", "", "https://img/x.jpg"))
		var na *assistant.NotAllowedError
		if !errors.As(err, &na) || na.Type != assistant.TypeProduct || na.Channel.Kind() != assistant.KindMiniProgram {
			t.Fatalf("product on mini program = %v, want *NotAllowedError", err)
		}
		if err := s.Send(ctx, assistant.NewMiniProgramPage("t", "pages/a", "https://img/x.jpg")); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d != 0 {
			t.Errorf("allowed message waited %v: the refused one used a slot", d)
		}
		if n := len(rec.Records()); n != 1 {
			t.Errorf("delivered %d, want 1", n)
		}
	})
}

func TestRulesForChannel(t *testing.T) {
	rec := &assistanttest.Recorder{}
	textOnly := assistant.Rules{assistant.TypeText: {Web: true}}
	s := textOnly.ForChannel(rec, assistant.Web())
	if err := s.Send(context.Background(), assistant.NewRich("<b>x</b>")); !errors.Is(err, assistant.ErrNotAllowed) {
		t.Errorf("rich under text-only rules = %v, want ErrNotAllowed", err)
	}
	if err := s.Send(context.Background(), assistant.NewText("x")); err != nil {
		t.Errorf("text = %v", err)
	}
}

func TestSenderFunc(t *testing.T) {
	var got assistant.Message
	s := assistant.SenderFunc(func(ctx context.Context, m assistant.Message) error { got = m; return nil })
	if err := s.Send(context.Background(), assistant.NewText("x")); err != nil || got != assistant.NewText("x") {
		t.Errorf("SenderFunc got %v, %v", got, err)
	}
}

// TestRulesForChannelCopies: the Sender keeps the rules it was given, not
// the caller's live map.
func TestRulesForChannelCopies(t *testing.T) {
	rec := &assistanttest.Recorder{}
	rules := assistant.Rules{assistant.TypeText: {Web: true}}
	s := rules.ForChannel(rec, assistant.Web())
	delete(rules, assistant.TypeText)
	rules[assistant.TypeRich] = assistant.Allow{Web: true}
	ctx := context.Background()
	if err := s.Send(ctx, assistant.NewText("hi")); err != nil {
		t.Errorf("text after the caller deleted its rule = %v; want it sent under the rules given", err)
	}
	if err := s.Send(ctx, assistant.NewRich("<b>hi</b>")); !errors.Is(err, assistant.ErrNotAllowed) {
		t.Errorf("rich after the caller added a rule = %v; want ErrNotAllowed", err)
	}
	if n := len(rec.Records()); n != 1 {
		t.Errorf("delivered %d, want 1", n)
	}
}

// ForChannel's refusals are Rejected; what the Sender it wraps returns
// passes through with its class.
func TestForChannelDelivery(t *testing.T) {
	ctx := context.Background()
	cause := errors.New("gone")
	next := assistant.SenderFunc(func(context.Context, assistant.Message) error {
		return assistant.WithDelivery(cause, assistant.NotDelivered)
	})
	s := assistant.ForChannel(next, assistant.MiniProgram())
	checkClass(t, "not allowed", s.Send(ctx, assistant.NewProduct("n", "", "https://img/x.jpg")), assistant.ErrNotAllowed, assistant.Rejected)
	checkClass(t, "nil message", s.Send(ctx, nil), assistant.ErrInvalid, assistant.Rejected)
	checkClass(t, "from next", s.Send(ctx, assistant.NewText("x")), cause, assistant.NotDelivered)
}
