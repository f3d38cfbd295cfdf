//go:build !js

package natsroute_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/coder/websocket"
	"github.com/imworkspace/assistant"
	"github.com/imworkspace/assistant/wsbridge"
	"github.com/imworkspace/assistant/wsbridge/natsroute"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// Two replicas of a service share a NATS server. The page's WebSocket
// lands on replica B; replica A sends to it. (A real deployment points
// nats.Connect at its cluster instead of an embedded server.)
func Example() {
	ns, _ := server.NewServer(&server.Options{Host: "127.0.0.1", Port: server.RANDOM_PORT, NoLog: true, NoSigs: true})
	go ns.Start()
	defer ns.Shutdown()
	ns.ReadyForConnections(10 * time.Second)

	// Every replica verifies the tokens of every page: they share the key.
	key := make([]byte, wsbridge.MinKeySize)
	rand.Read(key) // in a real service: a secret from your configuration
	signer, _ := wsbridge.NewTokenSigner(key)
	// And they seal what they send each other through NATS with another
	// shared secret (never the token key).
	routeKey := make([]byte, natsroute.MinKeySize)
	rand.Read(routeKey)

	replica := func(name string) (*natsroute.Router, *httptest.Server) {
		nc, _ := nats.Connect(ns.ClientURL(), nats.MaxReconnects(-1), nats.ReconnectBufSize(-1))
		r, err := natsroute.New(nc, wsbridge.Options{Authenticate: signer.Verify}, natsroute.Options{Replica: name, Keys: [][]byte{routeKey}})
		if err != nil {
			panic(err)
		}
		return r, httptest.NewServer(r.Hub())
	}
	a, srvA := replica("a")
	defer srvA.Close()
	defer a.Close()
	b, srvB := replica("b")
	defer srvB.Close()
	defer b.Close()

	// The page (normally bridge.js in the browser) connects to B.
	ctx := context.Background()
	token := signer.Sign("conv-1", 5*time.Minute) // the page's data-token, offered as a subprotocol
	u := strings.Replace(srvB.URL, "http", "ws", 1) + "/?id=conv-1"
	page, _, err := websocket.Dial(ctx, u, &websocket.DialOptions{
		HTTPHeader:   http.Header{"Origin": {srvB.URL}},
		Subprotocols: []string{wsbridge.Subprotocol, wsbridge.TokenProtocolPrefix + token},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer page.CloseNow()
	go func() {
		for {
			_, frame, err := page.Read(ctx)
			if err != nil {
				return
			}
			var f struct {
				ID   uint64 `json:"id"`
				Data string `json:"data"`
			}
			json.Unmarshal(frame, &f)
			fmt.Println("page posts", f.Data)
			page.Write(ctx, websocket.MessageText, fmt.Appendf(nil, `{"op":"ack","id":%d}`, f.ID))
		}
	}()
	b.Hub().WaitConnected(ctx, "conv-1")

	err = a.Sender("conv-1").Send(ctx, assistant.NewText("Your order has shipped."))
	fmt.Println("Send from A:", err)
	// Output:
	// page posts {"method":"sendMsg","type":"text","content":"Your order has shipped."}
	// Send from A: <nil>
}

// A Send to a page no replica holds fails fast with
// wsbridge.ErrNotConnected: NATS reports no responders (checked twice,
// Options.RetryDelay apart). Nothing was sent; retry once the page is
// back, or reload the user's view from your own data.
func ExampleRouter_Sender() {
	ns, _ := server.NewServer(&server.Options{DontListen: true, NoLog: true, NoSigs: true})
	go ns.Start()
	defer ns.Shutdown()
	ns.ReadyForConnections(10 * time.Second)
	nc, _ := nats.Connect("", nats.InProcessServer(ns), nats.ReconnectBufSize(-1))
	defer nc.Close()
	key := make([]byte, natsroute.MinKeySize)
	rand.Read(key) // shared by all replicas: a secret from your configuration
	r, err := natsroute.New(nc, wsbridge.Options{InsecureSkipAuthentication: true}, natsroute.Options{Keys: [][]byte{key}})
	if err != nil {
		panic(err)
	}
	defer r.Close()

	err = r.Sender("conv-9").Send(context.Background(), assistant.NewText("hello"))
	fmt.Println(errors.Is(err, wsbridge.ErrNotConnected))
	fmt.Println(err)
	// Output:
	// true
	// natsroute: page "conv-9": wsbridge: page not connected
}
