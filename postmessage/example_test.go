//go:build js && wasm

package postmessage_test

import (
	"context"
	"errors"
	"fmt"
	"syscall/js"

	"github.com/imworkspace/assistant"
	"github.com/imworkspace/assistant/postmessage"
)

// A component pins the host's origin, wraps the transport in the host's
// rate limit and the customer's channel rules, and sends. (The output is
// what it prints outside a frame, as when the example runs under node.)
func Example() {
	pm, err := postmessage.New("https://workspace.example.com")
	if errors.Is(err, postmessage.ErrNoHost) {
		fmt.Println("open this page inside the workspace")
		return
	} else if err != nil {
		panic(err) // a bad origin: a bug in the page
	}
	s := assistant.ForChannel(assistant.RateLimited(pm), assistant.Web())
	if err := s.Send(context.Background(), assistant.NewText("Hello!")); err != nil {
		fmt.Println("not sent:", err)
	}
	// Output:
	// open this page inside the workspace
}

// The js/wasm trap: a js.FuncOf callback runs on the browser's event loop,
// which cannot run timers or other callbacks until the callback returns.
// Send waits for the event loop (for a timer when rate-limited, and for its
// message to leave the page), so calling it inside the callback deadlocks
// the page ("all goroutines are asleep" or a frozen tab). Hand the
// work to a goroutine and return at once.
func Example_clickHandler() {
	pm, err := postmessage.New("https://workspace.example.com")
	if err != nil {
		fmt.Println(err)
		return
	}
	s := assistant.RateLimited(pm) // one per page, shared by all handlers
	doc := js.Global().Get("document")
	status := doc.Call("getElementById", "status")

	onClick := js.FuncOf(func(this js.Value, args []js.Value) any {
		text := doc.Call("getElementById", "text").Get("value").String()
		// WRONG: s.Send(ctx, ...) here blocks the event loop.
		go func() { // RIGHT: send from a goroutine.
			if err := s.Send(context.Background(), assistant.NewText(text)); err != nil {
				status.Set("textContent", err.Error())
				return
			}
			status.Set("textContent", "sent")
		}()
		return nil
	})
	// onClick must outlive the page's use of it; call onClick.Release()
	// when the button goes away.
	doc.Call("getElementById", "send").Call("addEventListener", "click", onClick)
}

// New checks the target origin before anything else: it must be exactly
// what the browser reports as the host page's origin.
func ExampleNew_origin() {
	_, err := postmessage.New("https://workspace.example.com/")
	fmt.Println(err)
	_, err = postmessage.New("*")
	fmt.Println(err)
	// Output:
	// postmessage: target origin "https://workspace.example.com/" must be an origin (scheme://host[:port], lower case, no default port, path or slash): "https://workspace.example.com"?
	// postmessage: target origin "*" is "*", which posts to any page: use AllowAnyOrigin to accept the risk
}

// ParentOrigin tells who frames the page; the component decides whether to
// talk to them. (The output is what it prints outside a frame, as when the
// example runs under node.)
func ExampleParentOrigin() {
	trusted := map[string]bool{"https://workspace.example.com": true}
	origin, err := postmessage.ParentOrigin()
	if err != nil {
		fmt.Println(err) // not framed, or the browser does not say
		return
	}
	if !trusted[origin] {
		fmt.Println("not sending to", origin)
		return
	}
	pm, err := postmessage.New(origin)
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = assistant.RateLimited(pm)
	// Output:
	// postmessage: no host window: the page is not in a frame (no parent window)
}

// A component the host frames inside one of its own frames posts to the
// top window; one the host opens as a popup posts to its opener.
func ExampleWithTarget() {
	pm, err := postmessage.New("https://workspace.example.com",
		postmessage.WithTarget(js.Global().Get("top")))
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = assistant.RateLimited(pm)
}
