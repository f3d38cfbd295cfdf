//go:build !js

package wsbridge_test

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
)

// A Go service sends through a component page. Here a few lines of Go play
// the page's bridge script: they receive each frame and acknowledge it.
func Example() {
	key := make([]byte, wsbridge.MinKeySize)
	rand.Read(key) // in a real service: a secret kept across restarts
	signer, err := wsbridge.NewTokenSigner(key)
	if err != nil {
		fmt.Println(err)
		return
	}
	hub := wsbridge.NewHub(wsbridge.Options{Authenticate: signer.Verify})
	mux := http.NewServeMux()
	mux.Handle("/ws", hub)
	mux.Handle("/bridge.js", wsbridge.ScriptHandler())
	srv := httptest.NewServer(mux)
	defer srv.Close()
	defer hub.Close() // before srv.Close: it ends the page connections

	// The component page gets data-token from the service that serves it
	// (or the bridge fetches one from data-token-url before each connect).
	token := signer.Sign("conv-1", 5*time.Minute)

	// The page (normally bridge.js in the browser, on the Hub's origin or
	// one of its OriginPatterns) offers its token as a subprotocol, never
	// in the URL.
	ctx := context.Background()
	u := strings.Replace(srv.URL, "http", "ws", 1) + "/ws?id=conv-1"
	page, _, err := websocket.Dial(ctx, u, &websocket.DialOptions{
		HTTPHeader:   http.Header{"Origin": {srv.URL}},
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

// A token opens one page id, for minutes. Verify has the signature of
// Options.Authenticate and reads the token bridge.js offers in the
// Sec-WebSocket-Protocol header.
func ExampleTokenSigner() {
	signer, err := wsbridge.NewTokenSigner([]byte("an example key of at least 32 bytes, kept secret"))
	if err != nil {
		fmt.Println(err)
		return
	}
	token := signer.Sign("conv-1", 5*time.Minute) // put it in data-token, or serve it at data-token-url

	r := httptest.NewRequest("GET", "/ws?id=conv-1", nil)
	r.Header.Set("Sec-WebSocket-Protocol", wsbridge.Subprotocol+", "+wsbridge.TokenProtocolPrefix+token)
	fmt.Println("conv-1:", signer.Verify(r, "conv-1"))
	err = signer.Verify(r, "conv-2")
	fmt.Println("conv-2:", errors.Is(err, wsbridge.ErrTokenInvalid))
	err = signer.Verify(httptest.NewRequest("GET", "/ws?id=conv-1", nil), "conv-1")
	fmt.Println("none:", err)

	_, err = wsbridge.NewTokenSigner([]byte("short"))
	fmt.Println(err)
	// Output:
	// conv-1: <nil>
	// conv-2: true
	// none: wsbridge: token missing
	// wsbridge: token key too short: 5 bytes, want at least 32
}

// A Send the bridge would not post fails with ErrRefused; RefusedError
// says why.
func ExampleRefusedError() {
	err := fmt.Errorf("sending: %w", &wsbridge.RefusedError{Reason: wsbridge.ReasonWrongParent})
	var refused *wsbridge.RefusedError
	if errors.As(err, &refused) {
		fmt.Println(errors.Is(err, wsbridge.ErrRefused), refused.Reason)
	}
	// Output:
	// true wrong_parent
}
