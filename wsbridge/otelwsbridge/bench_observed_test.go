//go:build !js

package otelwsbridge_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/coder/websocket"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/imworkspace/assistant"
	"github.com/imworkspace/assistant/wsbridge"
	"github.com/imworkspace/assistant/wsbridge/otelwsbridge"
)

// A whole Send over a loopback WebSocket to a Go page that acks at once
// (no pacing), with the instrumentation off and on (otelwsbridge on the
// SDK, an Info logger, a hook): the difference is the observers' cost per
// Send.
func BenchmarkSendObserved(b *testing.B) {
	metrics, err := otelwsbridge.Hooks(otelwsbridge.WithMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))))
	if err != nil {
		b.Fatal(err)
	}
	on := wsbridge.Options{
		Hooks:  []wsbridge.Hooks{metrics, {Send: func(wsbridge.SendInfo) {}}},
		Logger: slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo})),
	}
	for _, bc := range []struct {
		name string
		opts wsbridge.Options
	}{{"off", wsbridge.Options{}}, {"on", on}} {
		b.Run(bc.name, func(b *testing.B) {
			opts := bc.opts
			opts.InsecureSkipAuthentication, opts.NoPacing = true, true
			hub := wsbridge.NewHub(opts)
			srv := httptest.NewServer(hub)
			defer srv.Close()
			defer hub.Close()
			ctx := context.Background()
			page, _, err := websocket.Dial(ctx, strings.Replace(srv.URL, "http", "ws", 1)+"?id=conv-1",
				&websocket.DialOptions{HTTPHeader: map[string][]string{"Origin": {srv.URL}}})
			if err != nil {
				b.Fatal(err)
			}
			defer page.CloseNow()
			go func() { // ack every message at once
				for {
					_, f, err := page.Read(ctx)
					if err != nil {
						return
					}
					id := f[len(`{"op":"msg","id":`):]
					id = id[:strings.IndexByte(string(id), ',')]
					n, _ := strconv.Atoi(string(id))
					page.Write(ctx, websocket.MessageText, []byte(`{"op":"ack","id":`+strconv.Itoa(n)+`}`))
				}
			}()
			if err := hub.WaitConnected(ctx, "conv-1"); err != nil {
				b.Fatal(err)
			}
			s := hub.Sender("conv-1")
			m := assistant.NewText("hello")
			b.ReportAllocs()
			for b.Loop() {
				if err := s.Send(ctx, m); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
