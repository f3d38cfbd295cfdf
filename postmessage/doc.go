// Package postmessage delivers assistant messages from a component page
// written in Go (GOOS=js GOARCH=wasm) to the workspace page that frames it,
// exactly as the vendor's JavaScript does:
//
//	window.parent.postMessage(JSON.stringify({method: "sendMsg", type, content}), targetOrigin)
//
// The happy path, in a component's main package:
//
//	origin, err := postmessage.ParentOrigin() // or a constant you configure
//	if err != nil || !trusted(origin) {
//		return err // don't post to a page you don't know
//	}
//	pm, err := postmessage.New(origin)
//	if err != nil {
//		return err // errors.Is(err, postmessage.ErrNoHost): the page is not framed
//	}
//	s := assistant.ForChannel(assistant.RateLimited(pm), ch)
//	go func() { err := s.Send(ctx, assistant.NewText("hello")) /* show err */ }()
//
// A [Sender] posts one message per Send at once; wrap it in
// assistant.RateLimited, since the host accepts one message per second.
//
// What a nil Send means: the message left the page for the target window
// with the target origin, and the browser delivers it to that window once
// if it shows a page of that origin. In Chromium, Safari and Firefox (ESR
// 153), which name the parent's origin (location.ancestorOrigins), Send
// checks it before every post: a component framed by another origin gets a
// [*WrongParentError] (matching [ErrWrongParent]) and posts nothing, so
// there a nil means the host's origin got the message, as with wsbridge.
// Older Firefox releases do not name it: there a nil also follows a post
// the browser dropped because another origin frames the component. Serve
// component pages with Content-Security-Policy: frame-ancestors <host
// origin>, so that no other origin can frame them. Every error says, through
// assistant.DeliveryOf, whether sending again can help: a done ctx is
// NotDelivered, the rest (invalid message, wrong parent, closed host) are
// Rejected.
//
// The trap: in js/wasm, a js.FuncOf callback (a click handler) runs on the
// browser's event loop, and the page's timers, fetches and other callbacks
// cannot run until it returns. Send waits for the event loop (a rate-limited
// Send for its next slot, and every Send for its message to leave the page),
// so calling it inside the callback deadlocks the page. Start a goroutine
// in the callback and send from there (see the package examples).
//
// The package builds only for GOOS=js GOARCH=wasm; this file exists so that
// the documentation shows on every platform.
package postmessage
