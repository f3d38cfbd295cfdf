//go:build js && wasm

// Command component is the page the end-to-end test frames: once started
// (the load event has fired and the Go program runs), it reports "ready"
// to its own server, waits for the host page to post "start", then sends
// e2etest.Message(0..n-1) through RateLimited(postmessage.New(origin)) with the default
// options, as fast as Send returns, and reports what Send returned.
//
// Query parameters: origin (the Sender's target origin), host (the origin
// "start" must come from), n (how many messages), margin (optional: the
// limiter's margin in ms instead of the default; the pacing lab varies it).
package main

import (
	"context"
	"strconv"
	"syscall/js"
	"time"

	"github.com/imworkspace/assistant"
	"github.com/imworkspace/assistant/dev/internal/e2etest"
	"github.com/imworkspace/assistant/postmessage"
)

func main() {
	g := js.Global()
	q := g.Get("URLSearchParams").New(g.Get("location").Get("search"))
	n, _ := strconv.Atoi(q.Call("get", "n").String())
	host := q.Call("get", "host").String()

	pm, err := postmessage.New(q.Call("get", "origin").String())
	if err != nil {
		report(map[string]any{"event": "error", "error": err.Error()})
		return
	}
	var opts []assistant.LimitOption
	if ms, err := strconv.Atoi(q.Call("get", "margin").String()); err == nil {
		opts = append(opts, assistant.WithMargin(time.Duration(ms)*time.Millisecond))
	}
	s := assistant.RateLimited(pm, opts...)

	start := make(chan struct{}, 1)
	onMessage := js.FuncOf(func(this js.Value, args []js.Value) any {
		e := args[0]
		if e.Get("origin").String() == host && e.Get("data").String() == "start" {
			select {
			case start <- struct{}{}:
			default:
			}
		}
		return nil
	})
	defer onMessage.Release()
	g.Call("addEventListener", "message", onMessage)

	if g.Get("document").Get("readyState").String() != "complete" {
		loaded := make(chan struct{})
		onLoad := js.FuncOf(func(js.Value, []js.Value) any { close(loaded); return nil })
		g.Call("addEventListener", "load", onLoad)
		<-loaded
		onLoad.Release()
	}
	report(map[string]any{"event": "ready"})
	<-start

	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(n)*2*time.Second+time.Minute)
	defer cancel()
	perf := g.Get("performance")
	var errs, sent, details []any
	for i := range n {
		err := s.Send(ctx, e2etest.Message(i))
		sent = append(sent, perf.Get("timeOrigin").Float()+perf.Call("now").Float())
		if err != nil {
			errs = append(errs, strconv.Itoa(i)+": "+err.Error())
			details = append(details, map[string]any{
				"i": i, "error": err.Error(),
				"delivery":    assistant.DeliveryOf(err).String(),
				"wrongParent": isWrongParent(err),
			})
		}
	}
	report(map[string]any{"event": "done", "errors": errs, "sent": sent, "details": details})
}

// report POSTs v as JSON to /report on the component's own server.
func report(v map[string]any) {
	body := js.Global().Get("JSON").Call("stringify", v)
	js.Global().Call("fetch", "/report", map[string]any{"method": "POST", "body": body, "keepalive": true})
}
