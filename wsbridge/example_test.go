//go:build !js

package wsbridge_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/coder/websocket"
	"github.com/imworkspace/assistant"
	"github.com/imworkspace/assistant/wsbridge"
)

// A Go service sends through a component page. Here a few lines of Go play
// the page's bridge script: they receive each frame and acknowledge it.
func Example() {
	hub := wsbridge.NewHub(wsbridge.Options{
		Authenticate: func(r *http.Request, id string) error {
			if r.URL.Query().Get("token") != "t0ken" {
				return errors.New("bad token")
			}
			return nil
		},
	})
	mux := http.NewServeMux()
	mux.Handle("/ws", hub)
	mux.Handle("/bridge.js", wsbridge.ScriptHandler())
	srv := httptest.NewServer(mux)
	defer srv.Close()
	defer hub.Close() // before srv.Close: it ends the page connections

	// The page (normally bridge.js in the browser).
	ctx := context.Background()
	page, _, err := websocket.Dial(ctx, strings.Replace(srv.URL, "http", "ws", 1)+"/ws?id=conv-1&token=t0ken", nil)
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
			fmt.Printf("page got message %s\n", f.Data)
			page.Write(ctx, websocket.MessageText, fmt.Appendf(nil, `{"op":"ack","id":%d}`, f.ID)) // after posting it
		}
	}()

	if err := hub.WaitConnected(ctx, "conv-1"); err != nil {
		fmt.Println(err)
		return
	}
	s := hub.Sender("conv-1") // paced per page by the Hub
	err = s.Send(ctx, assistant.NewText("Your order has shipped."))
	fmt.Println("Send:", err)
	// Output:
	// page got message {"method":"sendMsg","type":"text","content":"Your order has shipped."}
	// Send: <nil>
}
