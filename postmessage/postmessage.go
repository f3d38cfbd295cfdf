//go:build js && wasm

package postmessage

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"syscall/js"

	"github.com/imworkspace/assistant"
)

// ErrNoHost is matched (errors.Is) by the error New returns when there is
// no host window to post to (the page is not in a frame: it has no parent,
// or its parent is itself) and by the error Send returns once the target
// window has been closed. Nothing is posted.
var ErrNoHost = errors.New("postmessage: no host window")

// OriginError rejects a target origin: it must be the serialized origin of
// the host page, such as "https://workspace.example.com" or
// "http://127.0.0.1:8080".
type OriginError struct {
	Origin string // as given
	Reason string // what is wrong with it, e.g. "must use http or https"
}

func (e *OriginError) Error() string {
	return "postmessage: target origin " + strconv.Quote(e.Origin) + " " + e.Reason
}

// Option configures [New].
type Option func(*config)

type config struct {
	target    js.Value
	targetSet bool
	anyOrigin bool
}

// WithTarget posts to w instead of window.parent: for example
// js.Global().Get("top") when the component is framed inside another frame
// of the host, or js.Global().Get("opener") when the host opens it as a
// popup. w must be a window other than this page's own.
func WithTarget(w js.Value) Option {
	return func(c *config) { c.target, c.targetSet = w, true }
}

// AllowAnyOrigin lets New accept the target origin "*", as in the vendor's
// examples. It is a risk: the browser then delivers every message to
// whatever page frames the component at that moment, including a page an
// attacker controls that frames your component to read what it sends, or
// a host page that has navigated elsewhere. Use it only for messages that
// are not confidential and when the host's origin cannot be known; prefer
// a fixed origin or [ParentOrigin] checked against an allow-list.
func AllowAnyOrigin() Option {
	return func(c *config) { c.anyOrigin = true }
}

// Sender posts messages to the host window with postMessage. It is safe
// for concurrent use: each Send posts one whole message in a single
// synchronous call. It does not pace messages: wrap it in
// assistant.RateLimited.
//
// Send waits for the browser to run one task after posting (see Send), so,
// like every blocking call in js/wasm, it must not be called directly in a
// js.FuncOf callback: hand off to a goroutine.
type Sender struct {
	target js.Value
	origin string
}

// New returns a Sender that posts to window.parent (or the window chosen
// with [WithTarget]) with targetOrigin, so the browser delivers a message
// only while the target window shows a page of that origin and silently
// drops it otherwise; a Sender cannot tell whether a message was dropped.
//
// targetOrigin must be a serialized origin such as
// "https://workspace.example.com" (http is accepted for local hosts and
// tests), else New returns an *OriginError; "*" is accepted only with
// [AllowAnyOrigin]. When the page is not in a frame (no parent, or the
// parent is the page itself), New returns an error matching [ErrNoHost].
func New(targetOrigin string, opts ...Option) (*Sender, error) {
	var c config
	for _, o := range opts {
		o(&c)
	}
	if targetOrigin != "*" || !c.anyOrigin {
		if err := checkOrigin(targetOrigin); err != nil {
			return nil, err
		}
	}
	w := c.target
	if !c.targetSet {
		w = prop(js.Global(), "parent")
	}
	if err := checkTarget(w); err != nil {
		return nil, err
	}
	return &Sender{target: w, origin: targetOrigin}, nil
}

// TargetOrigin returns the origin the Sender posts to.
func (s *Sender) TargetOrigin() string { return s.origin }

// Send posts the string [assistant.Encode] returns for m to the target
// window, at once; the host receives it as event.data, a string. It then
// returns once the event loop has run the task after the post (usually
// under a millisecond), when a message to a host in another process has
// left this page. Call it from a goroutine, never in a js.FuncOf callback,
// where that wait would deadlock the page.
//
// An invalid m returns its validation error and a done ctx returns
// ctx.Err(); neither posts anything. Once the target window is closed, Send
// returns an error matching [ErrNoHost]. An exception thrown by
// postMessage is returned wrapped (errors.As finds the js.Error).
func (s *Sender) Send(ctx context.Context, m assistant.Message) error {
	data, err := assistant.Encode(m)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if prop(s.target, "closed").Truthy() {
		return fmt.Errorf("%w: the target window is closed", ErrNoHost)
	}
	if err := post(s.target, string(data), s.origin); err != nil {
		return err
	}
	handOff()
	return nil
}

// handOff returns once the browser's event loop has run a task after the
// current one. A message to a window in another process leaves in a task
// queued behind the current task, and Go code that runs before this page
// yields (a cold page compiles new code for tens of milliseconds) holds it
// back. Returning only after it has left makes assistant.RateLimited, which
// counts the next slot from Send's return, count from when the message
// left: measured in the simulator, a first message posted 1013 ms before
// the second reached the host only 937 ms before it without this.
//
// The task is a MessageChannel message, not setTimeout(0), which browsers
// clamp to 4 ms once timers nest, as a paced sender's do.
func handOff() {
	done := make(chan struct{})
	cb := js.FuncOf(func(js.Value, []js.Value) any {
		close(done)
		return nil
	})
	defer cb.Release()
	if mc := prop(js.Global(), "MessageChannel"); mc.Type() == js.TypeFunction {
		ch := mc.New()
		port := ch.Get("port1")
		port.Set("onmessage", cb)
		ch.Get("port2").Call("postMessage", nil)
		<-done
		port.Call("close")
		return
	}
	js.Global().Call("setTimeout", cb, 0)
	<-done
}

// post calls w.postMessage(data, origin), turning a thrown exception into
// an error.
func post(w js.Value, data, origin string) (err error) {
	defer func() {
		if r := recover(); r != nil {
			jsErr, ok := r.(js.Error)
			if !ok {
				panic(r)
			}
			err = fmt.Errorf("postmessage: postMessage failed: %w", jsErr)
		}
	}()
	w.Call("postMessage", data, origin)
	return nil
}

// checkTarget reports why w cannot be posted to.
func checkTarget(w js.Value) error {
	switch {
	case w.IsUndefined() || w.IsNull():
		return fmt.Errorf("%w: the page is not in a frame (no parent window)", ErrNoHost)
	case w.Equal(js.Global()):
		return fmt.Errorf("%w: the page is not in a frame (its parent is itself)", ErrNoHost)
	case prop(w, "postMessage").Type() != js.TypeFunction:
		return fmt.Errorf("%w: the target has no postMessage method", ErrNoHost)
	case prop(w, "closed").Truthy():
		return fmt.Errorf("%w: the target window is closed", ErrNoHost)
	}
	return nil
}

// checkOrigin reports why s is not a serialized http(s) origin, using the
// browser's own URL parser so that the rules are the ones postMessage
// applies.
func checkOrigin(s string) error {
	switch s {
	case "":
		return &OriginError{Origin: s, Reason: "is empty"}
	case "*":
		return &OriginError{Origin: s, Reason: `is "*", which posts to any page: use AllowAnyOrigin to accept the risk`}
	case "null":
		return &OriginError{Origin: s, Reason: "is opaque: a sandboxed or data: page cannot be targeted"}
	}
	u, ok := parseURL(s)
	if !ok {
		return &OriginError{Origin: s, Reason: `is not a URL; want an origin such as "https://host[:port]"`}
	}
	if p := u.Get("protocol").String(); p != "https:" && p != "http:" {
		return &OriginError{Origin: s, Reason: "must use http or https"}
	}
	if o := u.Get("origin").String(); o != s {
		return &OriginError{Origin: s, Reason: "must be an origin (scheme://host[:port], lower case, no default port, path or slash): " + strconv.Quote(o) + "?"}
	}
	return nil
}

// parseURL returns new URL(s), or false if the URL parser throws.
func parseURL(s string) (u js.Value, ok bool) {
	ctor := prop(js.Global(), "URL")
	if ctor.Type() != js.TypeFunction {
		return js.Undefined(), false
	}
	defer func() {
		if r := recover(); r != nil {
			if _, isJS := r.(js.Error); !isJS {
				panic(r)
			}
			u, ok = js.Undefined(), false
		}
	}()
	return ctor.New(s), true
}

// prop returns v[name], or undefined when v is not an object or function
// (where Get would panic).
func prop(v js.Value, name string) js.Value {
	if t := v.Type(); t != js.TypeObject && t != js.TypeFunction {
		return js.Undefined()
	}
	return v.Get(name)
}
