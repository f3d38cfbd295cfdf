//go:build js && wasm

// Command wasm-component is a minimal assistant component page written in
// Go: a text box and four buttons that send a text, a rich message with a
// mini-program link, a product card and a mini-program card to the
// workspace page that frames it.
//
// Build it from the repository root (one command; main.wasm and the copied
// wasm_exec.js are git-ignored), then serve this directory over http(s):
//
//	GOOS=js GOARCH=wasm go build -o examples/wasm-component/main.wasm ./examples/wasm-component && cp "$(go env GOROOT)/lib/wasm/wasm_exec.js" examples/wasm-component/
//
// Query parameters of index.html:
//
//	origin   the host page's origin to post to, e.g. https://workspace.example.com;
//	         when absent, the origin the browser reports for the parent
//	         (postmessage.ParentOrigin). A real component pins it.
//	channel  optional: the customer's channel ("web", "miniprogram",
//	         "sdk@5.1.1" or another name); when given, messages the channel
//	         cannot carry are refused here, before they use a rate-limit slot.
//
// #status shows the outcome of the last send: "sent <type>" or the error.
// window.componentReady is true once the buttons work.
package main

import (
	"context"
	"syscall/js"
	"time"

	"github.com/imworkspace/assistant"
	"github.com/imworkspace/assistant/postmessage"
)

func main() {
	doc := js.Global().Get("document")
	byID := func(id string) js.Value { return doc.Call("getElementById", id) }
	status := byID("status")
	setStatus := func(s string) { status.Set("textContent", s) }

	s, err := newSender()
	if err != nil {
		setStatus(err.Error())
	}

	// send returns a click handler. It must not block: a js.FuncOf
	// callback runs on the browser's event loop, and the rate-limited Send
	// waits for a timer that cannot fire until the callback returns. So it
	// reads the page, then sends from a goroutine.
	send := func(build func() assistant.Message) js.Func {
		return js.FuncOf(func(this js.Value, args []js.Value) any {
			m := build()
			go func() {
				if s == nil {
					setStatus(err.Error())
					return
				}
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				if err := s.Send(ctx, m); err != nil {
					setStatus(err.Error())
					return
				}
				setStatus("sent " + m.Type())
			}()
			return nil
		})
	}
	text := func() string { return byID("text").Get("value").String() }
	handlers := map[string]js.Func{
		"send-text": send(func() assistant.Message { return assistant.NewText(text()) }),
		"send-rich": send(func() assistant.Message {
			// User text goes into HTML only escaped.
			return assistant.NewRich(assistant.EscapeHTML(text()) + "<br>" +
				assistant.MiniProgramLink("pages/index/index", "Open our mini program"))
		}),
		"send-product": send(func() assistant.Message {
			return assistant.NewProduct("iPhone X 64GB", "https://item.jd.com/6748052.html",
				"https://img14.360buyimg.com/n1/jfs/t1/6748052.jpg",
				assistant.ProductParam{Text: "¥6999.00", Color: "#FF0000", Fold: true, Break: true},
				assistant.ProductParam{Text: "Ships tomorrow", Size: 12})
		}),
		"send-miniprogram": send(func() assistant.Message {
			return assistant.NewMiniProgramPage("Item 7", "pages/item/item?id=7",
				"https://img14.360buyimg.com/n1/jfs/t1/6748052.jpg")
		}),
	}
	for id, h := range handlers {
		byID(id).Call("addEventListener", "click", h)
	}
	js.Global().Set("componentReady", true)
	select {} // keep the handlers alive for the life of the page
}

// newSender builds ForChannel(RateLimited(postmessage)) from the page's
// query parameters.
func newSender() (assistant.Sender, error) {
	q := js.Global().Get("URLSearchParams").New(js.Global().Get("location").Get("search"))
	origin := q.Call("get", "origin")
	var target string
	if origin.IsNull() {
		o, err := postmessage.ParentOrigin()
		if err != nil {
			return nil, err
		}
		target = o
	} else {
		target = origin.String()
	}
	pm, err := postmessage.New(target)
	if err != nil {
		return nil, err
	}
	s := assistant.RateLimited(pm)
	if c := q.Call("get", "channel"); !c.IsNull() {
		ch, err := assistant.ParseChannel(c.String())
		if err != nil {
			return nil, err
		}
		return assistant.ForChannel(s, ch), nil
	}
	return s, nil
}
