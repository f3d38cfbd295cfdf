//go:build js && wasm

package postmessage_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"syscall/js"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/imworkspace/assistant"
	"github.com/imworkspace/assistant/postmessage"
)

// newFakeWindow returns a JS object standing in for a host window: its
// postMessage records each call's arguments, or throws w.throwMsg when set.
func newFakeWindow() js.Value {
	return js.Global().Get("Function").New(`
		const w = {
			calls: [],
			closed: false,
			throwMsg: "",
			postMessage(data, origin) {
				if (w.throwMsg) throw new TypeError(w.throwMsg);
				w.calls.push({data, origin, type: typeof data, argc: arguments.length});
			},
		};
		return w;`).Invoke()
}

type call struct {
	Data, Origin string
	Type         string // typeof data
	Argc         int
}

func calls(w js.Value) []call {
	var out []call
	cs := w.Get("calls")
	for i := range cs.Length() {
		c := cs.Index(i)
		out = append(out, call{
			Data:   c.Get("data").String(),
			Origin: c.Get("origin").String(),
			Type:   c.Get("type").String(),
			Argc:   c.Get("argc").Int(),
		})
	}
	return out
}

// setGlobal sets globalThis[name] for the test and restores it after.
func setGlobal(t *testing.T, name string, v any) {
	t.Helper()
	g := js.Global()
	had := g.Call("hasOwnProperty", name).Bool()
	old := g.Get(name)
	g.Set(name, v)
	t.Cleanup(func() {
		if had {
			g.Set(name, old)
		} else {
			g.Delete(name)
		}
	})
}

// framed installs a fake window.parent and returns it.
func framed(t *testing.T) js.Value {
	t.Helper()
	w := newFakeWindow()
	setGlobal(t, "parent", w)
	return w
}

const host = "https://workspace.example.com"

func TestSendPostsExactBytes(t *testing.T) {
	w := framed(t)
	s, err := postmessage.New(host)
	if err != nil {
		t.Fatal(err)
	}
	msgs := []assistant.Message{
		assistant.NewText("hi"),
		assistant.NewText("<b>&\"quotes\"</b>\u2028 中文 😀\n\ttab"),
		assistant.NewRich("Ask " + assistant.EscapeHTML("<Tom & Jerry>") + " " + assistant.MiniProgramLink("pages/item?id=7", "See item")),
		assistant.NewProduct("iPhone X 64GB", "https://item.jd.com/6748052.html", "https://img.example.com/x.jpg",
			assistant.ProductParam{Text: "¥6999.00", Color: "#FF0000", Fold: true, Break: true, Size: 14}),
		assistant.NewMiniProgramPage("Item 7", "pages/item/item?id=7", "https://img.example.com/7.jpg"),
	}
	var want []call
	for _, m := range msgs {
		if err := s.Send(context.Background(), m); err != nil {
			t.Fatalf("Send(%#v) = %v", m, err)
		}
		b, err := assistant.Encode(m)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, call{Data: string(b), Origin: host, Type: "string", Argc: 2})
	}
	if diff := cmp.Diff(want, calls(w)); diff != "" {
		t.Errorf("postMessage calls (-want +got):\n%s", diff)
	}
	// The first call, spelled out: what the vendor's JavaScript posts.
	if got, want := calls(w)[0].Data, `{"method":"sendMsg","type":"text","content":"hi"}`; got != want {
		t.Errorf("data = %s, want %s", got, want)
	}
}

func TestNewNoHost(t *testing.T) {
	noPostMessage := js.Global().Get("Object").New()
	closed := newFakeWindow()
	closed.Set("closed", true)
	tests := []struct {
		name   string
		parent any // globalThis.parent; nil: deleted
		opts   []postmessage.Option
	}{
		{name: "no parent", parent: nil},
		{name: "parent is self", parent: js.Global()},
		{name: "parent is null", parent: js.Null()},
		{name: "parent without postMessage", parent: noPostMessage},
		{name: "parent closed", parent: closed},
		{name: "target undefined", parent: newFakeWindow(), opts: []postmessage.Option{postmessage.WithTarget(js.Undefined())}},
		{name: "target is self", parent: newFakeWindow(), opts: []postmessage.Option{postmessage.WithTarget(js.Global())}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.parent == nil {
				setGlobal(t, "parent", js.Undefined())
				js.Global().Delete("parent")
			} else {
				setGlobal(t, "parent", tt.parent)
			}
			s, err := postmessage.New(host, tt.opts...)
			if !errors.Is(err, postmessage.ErrNoHost) {
				t.Fatalf("New = %v, %v; want an error matching ErrNoHost", s, err)
			}
			if s != nil {
				t.Errorf("New returned a Sender with error %v", err)
			}
		})
	}
}

func TestNewChecksOrigin(t *testing.T) {
	framed(t)
	valid := []string{
		"https://workspace.example.com",
		"https://workspace.example.com:8443",
		"http://127.0.0.1:8080",
		"http://localhost:3000",
		"https://[::1]:8443",
		"https://xn--fsq.example", // IDNs come punycoded from the browser
	}
	for _, o := range valid {
		s, err := postmessage.New(o)
		if err != nil {
			t.Errorf("New(%q) = %v", o, err)
			continue
		}
		if got := s.TargetOrigin(); got != o {
			t.Errorf("TargetOrigin() = %q, want %q", got, o)
		}
	}
	invalid := map[string]string{
		"":                                    "is empty",
		"*":                                   "AllowAnyOrigin",
		"null":                                "opaque",
		"workspace.example.com":               "not a URL",
		"/":                                   "not a URL",
		"ftp://workspace.example.com":         "http or https",
		"javascript:alert(1)":                 "http or https",
		"https://workspace.example.com/":      `"https://workspace.example.com"?`,
		"https://workspace.example.com/chat":  `"https://workspace.example.com"?`,
		"https://Workspace.Example.com":       `"https://workspace.example.com"?`,
		"https://workspace.example.com:443":   `"https://workspace.example.com"?`,
		"https://user@workspace.example.com":  `"https://workspace.example.com"?`,
		"https://workspace.example.com?x#y":   `"https://workspace.example.com"?`,
		" https://workspace.example.com":      `"https://workspace.example.com"?`,
		"https://workspace.example.com:99999": "not a URL",
		"https://work space.example.com":      "not a URL",
	}
	for o, reason := range invalid {
		s, err := postmessage.New(o)
		var oe *postmessage.OriginError
		if !errors.As(err, &oe) {
			t.Errorf("New(%q) = %v, %v; want an *OriginError", o, s, err)
			continue
		}
		if oe.Origin != o || !strings.Contains(oe.Reason, reason) {
			t.Errorf("New(%q): OriginError{%q, %q}, want reason containing %q", o, oe.Origin, oe.Reason, reason)
		}
	}
}

func TestAllowAnyOrigin(t *testing.T) {
	w := framed(t)
	s, err := postmessage.New("*", postmessage.AllowAnyOrigin())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), assistant.NewText("hi")); err != nil {
		t.Fatal(err)
	}
	want := []call{{Data: `{"method":"sendMsg","type":"text","content":"hi"}`, Origin: "*", Type: "string", Argc: 2}}
	if diff := cmp.Diff(want, calls(w)); diff != "" {
		t.Errorf("postMessage calls (-want +got):\n%s", diff)
	}
	// The option does not relax the check of other origins.
	var oe *postmessage.OriginError
	if _, err := postmessage.New("https://x.example/", postmessage.AllowAnyOrigin()); !errors.As(err, &oe) {
		t.Errorf(`New("https://x.example/", AllowAnyOrigin()) = %v, want *OriginError`, err)
	}
}

func TestWithTarget(t *testing.T) {
	parent := framed(t)
	top := newFakeWindow()
	s, err := postmessage.New(host, postmessage.WithTarget(top))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), assistant.NewText("to top")); err != nil {
		t.Fatal(err)
	}
	want := []call{{Data: `{"method":"sendMsg","type":"text","content":"to top"}`, Origin: host, Type: "string", Argc: 2}}
	if diff := cmp.Diff(want, calls(top)); diff != "" {
		t.Errorf("top's postMessage calls (-want +got):\n%s", diff)
	}
	if got := calls(parent); len(got) != 0 {
		t.Errorf("parent got %v, want nothing", got)
	}
}

func TestSendRefusesWithoutPosting(t *testing.T) {
	w := framed(t)
	s, err := postmessage.New(host)
	if err != nil {
		t.Fatal(err)
	}
	canceled, cancel := context.WithCancel(context.Background())
	cancel()

	if err := s.Send(context.Background(), assistant.NewText("")); !errors.Is(err, assistant.ErrInvalid) {
		t.Errorf("Send(empty text) = %v, want ErrInvalid", err)
	}
	var ve *assistant.ValidationError
	if err := s.Send(context.Background(), assistant.Product{Name: "x"}); !errors.As(err, &ve) || ve.Field != "imgUrl" {
		t.Errorf("Send(product without imgUrl) = %v, want a *ValidationError for imgUrl", err)
	}
	if err := s.Send(context.Background(), nil); !errors.Is(err, assistant.ErrInvalid) {
		t.Errorf("Send(nil) = %v, want ErrInvalid", err)
	}
	if err := s.Send(canceled, assistant.NewText("late")); !errors.Is(err, context.Canceled) {
		t.Errorf("Send(canceled ctx) = %v, want context.Canceled", err)
	}
	if got := calls(w); len(got) != 0 {
		t.Errorf("postMessage called %d times, want 0: %v", len(got), got)
	}
}

func TestSendAfterHostClosed(t *testing.T) {
	w := framed(t)
	s, err := postmessage.New(host)
	if err != nil {
		t.Fatal(err)
	}
	w.Set("closed", true)
	if err := s.Send(context.Background(), assistant.NewText("hi")); !errors.Is(err, postmessage.ErrNoHost) {
		t.Errorf("Send after the host closed = %v, want ErrNoHost", err)
	}
	if got := calls(w); len(got) != 0 {
		t.Errorf("postMessage called: %v", got)
	}
}

func TestSendReturnsJSException(t *testing.T) {
	w := framed(t)
	s, err := postmessage.New(host)
	if err != nil {
		t.Fatal(err)
	}
	w.Set("throwMsg", "boom")
	err = s.Send(context.Background(), assistant.NewText("hi"))
	var jsErr js.Error
	if !errors.As(err, &jsErr) || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("Send = %v, want an error wrapping the thrown js.Error", err)
	}
	if name := jsErr.Get("name").String(); name != "TypeError" {
		t.Errorf("thrown error name = %q, want TypeError", name)
	}
}

func TestConcurrentSends(t *testing.T) {
	w := framed(t)
	s, err := postmessage.New(host)
	if err != nil {
		t.Fatal(err)
	}
	const n = 64
	want := make(map[string]bool)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		m := assistant.NewText(fmt.Sprintf("message %d %s", i, strings.Repeat("x", i*100)))
		b, _ := assistant.Encode(m)
		want[string(b)] = true
		wg.Go(func() {
			if err := s.Send(context.Background(), m); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	got := make(map[string]bool)
	for _, c := range calls(w) {
		if c.Origin != host || c.Type != "string" {
			t.Errorf("call %+v: wrong origin or type", c)
		}
		got[c.Data] = true
	}
	if len(calls(w)) != n {
		t.Errorf("%d postMessage calls, want %d", len(calls(w)), n)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("posted messages (-want +got):\n%s", diff)
	}
}

func TestParentOrigin(t *testing.T) {
	array := func(s ...any) js.Value { return js.ValueOf(s) }
	tests := []struct {
		name      string
		ancestors js.Value // location.ancestorOrigins; undefined: absent
		referrer  string
		want      string
		wantErr   error
	}{
		{name: "ancestorOrigins", ancestors: array("https://workspace.example.com"), referrer: "https://other.example/x", want: "https://workspace.example.com"},
		{name: "ancestorOrigins with port", ancestors: array("http://127.0.0.1:8080", "https://top.example"), want: "http://127.0.0.1:8080"},
		{name: "ancestorOrigins null", ancestors: array("null"), referrer: "https://workspace.example.com/", wantErr: postmessage.ErrUnknownOrigin},
		{name: "referrer", ancestors: js.Undefined(), referrer: "https://workspace.example.com:8443/chat?id=1#x", want: "https://workspace.example.com:8443"},
		{name: "empty ancestorOrigins, referrer", ancestors: array(), referrer: "http://localhost:3000/", want: "http://localhost:3000"},
		{name: "no referrer", ancestors: js.Undefined(), referrer: "", wantErr: postmessage.ErrUnknownOrigin},
		{name: "referrer not a URL", ancestors: js.Undefined(), referrer: "not a url", wantErr: postmessage.ErrUnknownOrigin},
		{name: "referrer not http", ancestors: js.Undefined(), referrer: "file:///tmp/host.html", wantErr: postmessage.ErrUnknownOrigin},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			framed(t)
			loc := js.Global().Get("Object").New()
			if !tt.ancestors.IsUndefined() {
				loc.Set("ancestorOrigins", tt.ancestors)
			}
			setGlobal(t, "location", loc)
			setGlobal(t, "document", map[string]any{"referrer": tt.referrer})
			got, err := postmessage.ParentOrigin()
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("ParentOrigin() = %q, %v; want error matching %v", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParentOrigin() = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
	t.Run("not framed", func(t *testing.T) {
		setGlobal(t, "parent", js.Global())
		setGlobal(t, "document", map[string]any{"referrer": "https://workspace.example.com/"})
		if got, err := postmessage.ParentOrigin(); !errors.Is(err, postmessage.ErrNoHost) {
			t.Fatalf("ParentOrigin() = %q, %v; want ErrNoHost", got, err)
		}
	})
}

// withAncestors sets location.ancestorOrigins to origins (a fresh array,
// which the test may change) and returns it; nil origins: no
// ancestorOrigins at all, as in Firefox.
func withAncestors(t *testing.T, origins ...any) js.Value {
	t.Helper()
	loc := js.Global().Get("Object").New()
	if origins == nil {
		setGlobal(t, "location", loc)
		return js.Undefined()
	}
	ao := js.ValueOf(origins)
	loc.Set("ancestorOrigins", ao)
	setGlobal(t, "location", loc)
	return ao
}

// Issue 21: a Send to a parent the browser says is another origin posts
// nothing and says so, Rejected.
func TestSendWrongParent(t *testing.T) {
	const evil = "https://evil.example"
	for _, parent := range []string{evil, "null", host + ":8443", "http://workspace.example.com"} {
		t.Run(parent, func(t *testing.T) {
			w := framed(t)
			withAncestors(t, parent, "https://top.example")
			s, err := postmessage.New(host)
			if err != nil {
				t.Fatal(err)
			}
			err = s.Send(context.Background(), assistant.NewText("secret"))
			var wp *postmessage.WrongParentError
			if !errors.Is(err, postmessage.ErrWrongParent) || !errors.As(err, &wp) {
				t.Fatalf("Send = %v, want a *WrongParentError matching ErrWrongParent", err)
			}
			if diff := cmp.Diff(&postmessage.WrongParentError{Target: host, Parent: parent}, wp); diff != "" {
				t.Errorf("WrongParentError (-want +got):\n%s", diff)
			}
			if !strings.Contains(err.Error(), host) || !strings.Contains(err.Error(), parent) {
				t.Errorf("%q does not name both origins", err)
			}
			if d := assistant.DeliveryOf(err); d != assistant.Rejected {
				t.Errorf("DeliveryOf = %v, want Rejected", d)
			}
			if got := calls(w); len(got) != 0 {
				t.Errorf("posted to the wrong parent: %v", got)
			}
		})
	}
}

// A parent of the target origin, and a browser that does not tell
// (Firefox: no ancestorOrigins; or an empty list), get the message.
func TestSendParentChecked(t *testing.T) {
	for name, ancestors := range map[string][]any{
		"match":              {host, "https://top.example"},
		"no ancestorOrigins": nil,
		"empty":              {},
	} {
		t.Run(name, func(t *testing.T) {
			w := framed(t)
			withAncestors(t, ancestors...)
			s, err := postmessage.New(host)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Send(context.Background(), assistant.NewText("hi")); err != nil {
				t.Fatalf("Send = %v", err)
			}
			if got := calls(w); len(got) != 1 || got[0].Origin != host {
				t.Errorf("posted %v, want one message to %s", got, host)
			}
		})
	}
}

// The check runs on every Send: a parent that changes between two Sends
// makes the second fail, and back again it delivers.
func TestSendParentChangesBetweenSends(t *testing.T) {
	w := framed(t)
	ao := withAncestors(t, host)
	s, err := postmessage.New(host)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := s.Send(ctx, assistant.NewText("1")); err != nil {
		t.Fatalf("first Send = %v", err)
	}
	ao.SetIndex(0, "https://elsewhere.example")
	if err := s.Send(ctx, assistant.NewText("2")); !errors.Is(err, postmessage.ErrWrongParent) {
		t.Fatalf("Send after the parent changed = %v, want ErrWrongParent", err)
	}
	ao.SetIndex(0, host)
	if err := s.Send(ctx, assistant.NewText("3")); err != nil {
		t.Fatalf("Send after the parent came back = %v", err)
	}
	var got []string
	for _, c := range calls(w) {
		got = append(got, c.Data)
	}
	want := []string{`{"method":"sendMsg","type":"text","content":"1"}`, `{"method":"sendMsg","type":"text","content":"3"}`}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("posted (-want +got):\n%s", diff)
	}
}

// "*" checks nothing; WithTarget(top) checks top's origin (the last
// ancestor); any other target (an opener) is not checked.
func TestSendParentCheckTargets(t *testing.T) {
	ctx := context.Background()
	const topOrigin = "https://top.example"
	t.Run("any origin", func(t *testing.T) {
		w := framed(t)
		withAncestors(t, "https://evil.example")
		s, err := postmessage.New("*", postmessage.AllowAnyOrigin())
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Send(ctx, assistant.NewText("hi")); err != nil || len(calls(w)) != 1 {
			t.Errorf("Send = %v, %d posts; want nil, 1", err, len(calls(w)))
		}
	})
	t.Run("top", func(t *testing.T) {
		framed(t)
		top := newFakeWindow()
		setGlobal(t, "top", top)
		withAncestors(t, host, topOrigin)
		good, err := postmessage.New(topOrigin, postmessage.WithTarget(top))
		if err != nil {
			t.Fatal(err)
		}
		if err := good.Send(ctx, assistant.NewText("to top")); err != nil {
			t.Errorf("Send to top of its origin = %v", err)
		}
		bad, err := postmessage.New(host, postmessage.WithTarget(top))
		if err != nil {
			t.Fatal(err)
		}
		var wp *postmessage.WrongParentError
		if err := bad.Send(ctx, assistant.NewText("x")); !errors.As(err, &wp) || wp.Parent != topOrigin {
			t.Errorf("Send to top with the parent's origin = %v, want a WrongParentError naming %s", err, topOrigin)
		}
		if n := len(calls(top)); n != 1 {
			t.Errorf("top got %d posts, want 1", n)
		}
	})
	t.Run("opener", func(t *testing.T) {
		framed(t)
		setGlobal(t, "top", js.Global())
		opener := newFakeWindow()
		withAncestors(t, "https://evil.example")
		s, err := postmessage.New(host, postmessage.WithTarget(opener))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Send(ctx, assistant.NewText("hi")); err != nil || len(calls(opener)) != 1 {
			t.Errorf("Send = %v, %d posts; want nil, 1 (ancestorOrigins says nothing of an opener)", err, len(calls(opener)))
		}
	})
}

// Every error Send returns is classified.
func TestSendDelivery(t *testing.T) {
	w := framed(t)
	s, err := postmessage.New(host)
	if err != nil {
		t.Fatal(err)
	}
	bg := context.Background()
	done, cancel := context.WithCancel(bg)
	cancel()
	check := func(what string, err, is error, want assistant.Delivery) {
		t.Helper()
		if is != nil && !errors.Is(err, is) {
			t.Errorf("%s: %v, want an error matching %v", what, err, is)
		}
		if d := assistant.DeliveryOf(err); d != want {
			t.Errorf("%s: DeliveryOf(%v) = %v, want %v", what, err, d, want)
		}
	}
	check("invalid", s.Send(bg, assistant.Text{}), assistant.ErrInvalid, assistant.Rejected)
	check("invalid, done ctx", s.Send(done, assistant.Text{}), assistant.ErrInvalid, assistant.Rejected)
	check("done ctx", s.Send(done, assistant.NewText("x")), context.Canceled, assistant.NotDelivered)
	w.Set("throwMsg", "boom")
	err = s.Send(bg, assistant.NewText("x"))
	var jsErr js.Error
	if !errors.As(err, &jsErr) {
		t.Errorf("postMessage throws: %v, want a js.Error", err)
	}
	check("postMessage throws", err, nil, assistant.Rejected)
	w.Set("throwMsg", "")
	w.Set("closed", true)
	check("closed", s.Send(bg, assistant.NewText("x")), postmessage.ErrNoHost, assistant.Rejected)
	if got := calls(w); len(got) != 0 {
		t.Errorf("posted %v", got)
	}
}
