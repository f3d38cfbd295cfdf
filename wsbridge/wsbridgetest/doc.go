// Package wsbridgetest helps test services that send through wsbridge,
// without a browser: a [Page] is a Go stand-in for bridge.js that posts to
// a recording [Host], and a [Listener] is an in-memory network that holds
// thousands of pages without file descriptors.
//
//	hub := wsbridge.NewHub(wsbridge.Options{InsecureSkipAuthentication: true})
//	srv := httptest.NewServer(hub)
//	host := new(wsbridgetest.Host)
//	page, _, err := wsbridgetest.Dial(ctx, wsbridgetest.URL(srv.URL, "conv-1"), host, wsbridgetest.Options{})
//	defer page.Close()
//	hub.WaitConnected(ctx, "conv-1")
//	err = hub.Sender("conv-1").Send(ctx, assistant.NewText("hi"))
//	// host.Posts()[0].Data is the wire string bridge.js would have posted.
package wsbridgetest
