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
// window has been closed. Nothing is posted. Send's is
// assistant.Rejected: a closed window never opens again.
var ErrNoHost = errors.New("postmessage: no host window")

// ErrWrongParent is matched (errors.Is) by the error Send returns, a
// [*WrongParentError], when the browser says the target window shows a
// page of another origin than the target origin: the browser would drop
// the message silently, so Send posts nothing. The name is that of
// wsbridge's refusal for the same case ("wrong_parent").
var ErrWrongParent = errors.New("postmessage: wrong parent: the target window is not the target origin")

// WrongParentError is Send's error when the target window shows a page of
// another origin than the target, as location.ancestorOrigins reports it.
// Nothing was posted. It matches [ErrWrongParent] and is
// assistant.Rejected: the same Send fails the same way until the
// component is framed by the target origin.
type WrongParentError struct {
	Target string // the Sender's target origin
	Parent string // the target window's origin as the browser reports it; "null" when it hides it or it is opaque
}

func (e *WrongParentError) Error() string {
	return "postmessage: wrong parent: the target window is " + strconv.Quote(e.Parent) +
		", not the target origin " + strconv.Quote(e.Target) + "; the browser would drop the message"
}

// Is reports whether target is ErrWrongParent.
func (e *WrongParentError) Is(target error) bool { return target == ErrWrongParent }

// Delivery is assistant.Rejected: nothing was posted, and posting again
// to the same parent fails the same way.
func (e *WrongParentError) Delivery() assistant.Delivery { return assistant.Rejected }

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
// drops it otherwise. Where the browser names the target window's origin
// (see [Sender.Send]), Send checks it first and fails instead of posting
// a message the browser would drop.
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
// Before each post, Send compares the target window's origin, where the
// browser exposes it, with the target origin: location.ancestorOrigins
// names the origin of window.parent (its first entry) and of window.top
// (its last), in Chromium and Safari. On a mismatch (including "null",
// which a parent that frames the component with referrerpolicy=
// "no-referrer", or a sandboxed one, shows) Send posts nothing and returns
// a [*WrongParentError]. The check runs on every Send, since what the
// target window shows can change. So a nil Send means:
//
//   - Chromium, Safari, Firefox ESR 153; target window.parent or
//     window.top: the message was handed to the browser for a window
//     showing the target origin, which the browser delivers to it once.
//   - older Firefox (no location.ancestorOrigins), or another target (an
//     opener): the message left the page, and the browser drops it if the
//     target window shows another origin; nothing here can tell. Serve the
//     component with Content-Security-Policy: frame-ancestors <host
//     origin>, so that no other origin can frame it at all.
//   - target "*" ([AllowAnyOrigin]): no check; whatever page the target
//     window shows gets the message.
//
// Every error says what happened to the message (read it with
// assistant.DeliveryOf): an invalid m returns its validation error
// (Rejected); a done ctx returns an error wrapping ctx.Err()
// (NotDelivered); once the target window is closed, Send returns an error
// matching [ErrNoHost] (Rejected); a wrong parent, a [*WrongParentError]
// (Rejected). None of them posts anything. An exception thrown by
// postMessage is returned wrapped (errors.As finds the js.Error), Rejected:
// the browser throws before it posts (an origin or data it cannot take),
// and throws again for the same call. Once the message is posted, Send
// returns nil: its wait for the event loop does not give up on ctx, since
// the message has already gone.
func (s *Sender) Send(ctx context.Context, m assistant.Message) error {
	data, err := assistant.Encode(m)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return assistant.WithDelivery(err, assistant.NotDelivered)
	}
	if prop(s.target, "closed").Truthy() {
		return assistant.WithDelivery(fmt.Errorf("%w: the target window is closed", ErrNoHost), assistant.Rejected)
	}
	if s.origin != "*" {
		if parent, ok := s.targetOrigin(); ok && parent != s.origin {
			return &WrongParentError{Target: s.origin, Parent: parent}
		}
	}
	if err := post(s.target, string(data), s.origin); err != nil {
		return assistant.WithDelivery(err, assistant.Rejected)
	}
	handOff()
	return nil
}

// targetOrigin returns the origin of the target window as the browser
// reports it, and whether it does: location.ancestorOrigins, read afresh,
// lists the origins of the frames that contain this page, parent first and
// top last. Firefox ESR 153 has it, older Firefox releases do not, and it
// says nothing of an opener.
func (s *Sender) targetOrigin() (string, bool) {
	g := js.Global()
	ao := prop(prop(g, "location"), "ancestorOrigins")
	n := prop(ao, "length")
	if n.Type() != js.TypeNumber || n.Int() <= 0 {
		return "", false
	}
	var o js.Value
	switch {
	case s.target.Equal(prop(g, "parent")):
		o = prop(ao, "0")
	case s.target.Equal(prop(g, "top")):
		o = prop(ao, strconv.Itoa(n.Int()-1))
	default:
		return "", false
	}
	if o.Type() != js.TypeString {
		return "", false
	}
	return o.String(), true
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
