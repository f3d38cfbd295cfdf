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
// rate limit and the customer's channel rules, and sends.
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
}

// The js/wasm trap: a js.FuncOf callback runs on the browser's event loop,
// which cannot run timers or other callbacks until the callback returns.
// A rate-limited Send waits for a timer, so calling it inside the callback
// deadlocks the page ("all goroutines are asleep" or a frozen tab). Hand the
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
// talk to them.
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
}
