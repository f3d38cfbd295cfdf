//go:build !js

package wsbridgetest_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/imworkspace/assistant"
	"github.com/imworkspace/assistant/wsbridge"
	"github.com/imworkspace/assistant/wsbridge/wsbridgetest"
)

// A service's test sends through a Hub to a fake page and checks what the
// workspace would have received.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	hub := wsbridge.NewHub(wsbridge.Options{InsecureSkipAuthentication: true}) // tests only
	srv := httptest.NewServer(hub)
	defer srv.Close()
	defer hub.Close()

	host := new(wsbridgetest.Host)
	page, _, err := wsbridgetest.Dial(ctx, wsbridgetest.URL(srv.URL, "conv-1"), host, wsbridgetest.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer page.Close()
	if err := hub.WaitConnected(ctx, "conv-1"); err != nil {
		fmt.Println(err)
		return
	}

	err = hub.Sender("conv-1").Send(ctx, assistant.NewText("Your order has shipped."))
	fmt.Println(err, assistant.DeliveryOf(err))
	for _, p := range host.Posts() {
		fmt.Println(p.Data)
	}
	// Output:
	// <nil> delivered
	// {"method":"sendMsg","type":"text","content":"Your order has shipped."}
}

// Listener connects pages without sockets: thousands of them, or inside a
// testing/synctest bubble.
func ExampleListener() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	hub := wsbridge.NewHub(wsbridge.Options{InsecureSkipAuthentication: true})
	defer hub.Close()
	l := wsbridgetest.NewListener()
	defer l.Close()
	go http.Serve(l, hub) // returns when l is closed

	host := new(wsbridgetest.Host)
	page, _, err := wsbridgetest.Dial(ctx, "ws://mem/ws?id=conv-1", host, wsbridgetest.Options{Client: l.Client()})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer page.Close()
	fmt.Println(hub.WaitConnected(ctx, "conv-1"))
	// Output: <nil>
}
