//go:build !js

package wsbridge_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/coder/websocket"
	"github.com/imworkspace/assistant"
	"github.com/imworkspace/assistant/wsbridge"
)

// examplePage plays a bridge page with the given id for the Hub served at
// srv: it acks every message at once. close ends it; closed reports the
// close code the Hub sent.
type examplePage struct {
	ws     *websocket.Conn
	closed chan websocket.StatusCode
}

func dialExamplePage(srv *httptest.Server, id string) *examplePage {
	ctx := context.Background()
	ws, _, err := websocket.Dial(ctx, strings.Replace(srv.URL, "http", "ws", 1)+"?id="+id,
		&websocket.DialOptions{HTTPHeader: map[string][]string{"Origin": {srv.URL}}})
	if err != nil {
		panic(err)
	}
	p := &examplePage{ws: ws, closed: make(chan websocket.StatusCode, 1)}
	go func() {
		for {
			_, f, err := ws.Read(ctx)
			if err != nil {
				p.closed <- websocket.CloseStatus(err)
				return
			}
			rest := f[len(`{"op":"msg","id":`):]
			n, _ := strconv.Atoi(string(rest[:strings.IndexByte(string(rest), ',')]))
			ws.Write(ctx, websocket.MessageText, []byte(`{"op":"ack","id":`+strconv.Itoa(n)+`}`))
		}
	}()
	return p
}

// exampleHub serves a Hub that lets example pages in without a token (do
// not do that in production: set Authenticate).
func exampleHub(opts wsbridge.Options) (*wsbridge.Hub, *httptest.Server) {
	opts.InsecureSkipAuthentication = true
	hub := wsbridge.NewHub(opts)
	return hub, httptest.NewServer(hub)
}

// Hooks see each connection and each Send. Here they print; an
// application counts, or hands the event to its own goroutine.
func ExampleHooks() {
	disconnected := make(chan struct{})
	hub, srv := exampleHub(wsbridge.Options{Hooks: []wsbridge.Hooks{{
		Connect: func(i wsbridge.ConnectInfo) { fmt.Printf("connect %s (connection %d)\n", i.ID, i.Conn) },
		Send: func(i wsbridge.SendInfo) {
			fmt.Printf("send to %s: %s, %d bytes\n", i.ID, i.Outcome, i.Bytes)
		},
		Disconnect: func(i wsbridge.DisconnectInfo) {
			fmt.Printf("disconnect %s (connection %d): hub closed: %v\n", i.ID, i.Conn, errors.Is(i.Cause, wsbridge.ErrClosed))
			close(disconnected)
		},
	}}})
	defer srv.Close()
	ctx := context.Background()
	dialExamplePage(srv, "conv-1")
	hub.WaitConnected(ctx, "conv-1")
	hub.Sender("conv-1").Send(ctx, assistant.NewText("hi"))
	hub.Sender("conv-2").Send(ctx, assistant.NewText("hi"))
	hub.Close()
	<-disconnected
	// Unordered output:
	// connect conv-1 (connection 1)
	// send to conv-1: acked, 49 bytes
	// send to conv-2: not_connected, 49 bytes
	// disconnect conv-1 (connection 1): hub closed: true
}

func ExampleHub_WaitConnected() {
	hub, srv := exampleHub(wsbridge.Options{})
	defer srv.Close()
	defer hub.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	fmt.Println(hub.Connected("conv-1"), hub.WaitConnected(ctx, "conv-1"))

	dialExamplePage(srv, "conv-1")
	ctx, cancel = context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	fmt.Println(hub.WaitConnected(ctx, "conv-1"), hub.Connected("conv-1"))
	// Output:
	// false context deadline exceeded
	// <nil> true
}

func ExampleHub_Stats() {
	hub, srv := exampleHub(wsbridge.Options{})
	defer srv.Close()
	defer hub.Close()
	ctx := context.Background()
	dialExamplePage(srv, "conv-1")
	hub.WaitConnected(ctx, "conv-1")
	for range 2 { // the second waits for the page's turn, about a second
		hub.Sender("conv-1").Send(ctx, assistant.NewText("hi"))
	}
	hub.Sender("conv-2").Send(ctx, assistant.NewText("hi"))

	s := hub.Stats()
	fmt.Println("pages:", s.Pages, "in flight:", s.InFlight)
	fmt.Println("sends:", s.Sends)
	fmt.Println("acks timed:", s.AckLatency.Count, "p99 under a second:", s.AckLatency.P99 < time.Second)
	// Output:
	// pages: 1 in flight: 0
	// sends: map[acked:2 not_connected:1]
	// acks timed: 2 p99 under a second: true
}

// On SIGTERM, a service drains its Hub before it exits; the pages
// reconnect to another replica.
func ExampleHub_Shutdown() {
	hub, srv := exampleHub(wsbridge.Options{})
	defer srv.Close()
	ctx := context.Background()
	page := dialExamplePage(srv, "conv-1")
	hub.WaitConnected(ctx, "conv-1")

	// In a service: signal.NotifyContext(ctx, syscall.SIGTERM), then
	// after <-ctx.Done():
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	fmt.Println("Shutdown:", hub.Shutdown(sctx))
	fmt.Println("page closed with", <-page.closed)
	fmt.Println("Send after:", errors.Is(hub.Sender("conv-1").Send(ctx, assistant.NewText("hi")), wsbridge.ErrClosed))
	// Output:
	// Shutdown: <nil>
	// page closed with StatusGoingAway
	// Send after: true
}

// A router that learns of a newer connection for the id on another
// replica closes its own, as a local reconnect would.
func ExampleHub_Replace() {
	conns := make(chan uint64, 1)
	hub, srv := exampleHub(wsbridge.Options{Hooks: []wsbridge.Hooks{{
		Connect: func(i wsbridge.ConnectInfo) { conns <- i.Conn },
	}}})
	defer srv.Close()
	defer hub.Close()
	page := dialExamplePage(srv, "conv-1")
	conn := <-conns

	fmt.Println(hub.Replace("conv-1", conn+1)) // not that connection
	fmt.Println(hub.Replace("conv-1", conn))
	fmt.Println(<-page.closed == wsbridge.StatusReplaced, hub.Connected("conv-1"))
	// Output:
	// false
	// true
	// true false
}

// Options.Logger gets the Hub's logs; ids are quoted, message content is
// never logged. (Time and the remote address are dropped here to keep the
// output stable.)
func ExampleOptions_logger() {
	log := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		Level: slog.LevelDebug,
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey || a.Key == "remote" || a.Key == "duration" {
				return slog.Attr{}
			}
			return a
		},
	}))
	hub, srv := exampleHub(wsbridge.Options{Logger: log})
	defer srv.Close()
	ctx := context.Background()
	dialExamplePage(srv, "conv-1")
	hub.WaitConnected(ctx, "conv-1")
	hub.Sender("conv-1").Send(ctx, assistant.NewText("your reset code is 424242"))
	hub.Close()
	// Output:
	// level=INFO msg="wsbridge: page connected" page="\"conv-1\"" conn=1
	// level=DEBUG msg="wsbridge: send" page="\"conv-1\"" outcome=acked delivery=delivered bytes=72
	// level=INFO msg="wsbridge: closing"
	// level=INFO msg="wsbridge: page disconnected" page="\"conv-1\"" conn=1 cause="wsbridge: hub closed"
}

func ExampleOutcome_String() {
	fmt.Println(wsbridge.OutcomeAcked, wsbridge.OutcomeTooManyPending)
	// Output: acked too_many_pending
}
