//go:build !js

package otelwsbridge_test

import (
	"context"
	"fmt"
	"net/http"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/imworkspace/assistant"
	"github.com/imworkspace/assistant/wsbridge"
	"github.com/imworkspace/assistant/wsbridge/otelwsbridge"
)

// The Hub's metrics go to the global MeterProvider, which the application
// sets up with the SDK and an exporter (see the README for Prometheus).
func ExampleHooks() {
	hooks, err := otelwsbridge.Hooks()
	if err != nil {
		fmt.Println(err)
		return
	}
	hub := wsbridge.NewHub(wsbridge.Options{
		Authenticate: func(r *http.Request, id string) error { return nil }, // your check here
		Hooks:        []wsbridge.Hooks{hooks},
	})
	defer hub.Close()
	mux := http.NewServeMux()
	mux.Handle("/ws", hub)
}

// A ManualReader shows what the instruments recorded.
func ExampleWithMeterProvider() {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	hooks, err := otelwsbridge.Hooks(otelwsbridge.WithMeterProvider(mp))
	if err != nil {
		fmt.Println(err)
		return
	}
	hub := wsbridge.NewHub(wsbridge.Options{InsecureSkipAuthentication: true, Hooks: []wsbridge.Hooks{hooks}})
	defer hub.Close()

	ctx := context.Background()
	hub.Sender("conv-1").Send(ctx, assistant.NewText("hi")) // no such page yet

	var rm metricdata.ResourceMetrics
	reader.Collect(ctx, &rm)
	for _, m := range rm.ScopeMetrics[0].Metrics {
		if sum, ok := m.Data.(metricdata.Sum[int64]); ok {
			for _, p := range sum.DataPoints {
				outcome, _ := p.Attributes.Value("outcome")
				fmt.Println(m.Name, outcome.Emit(), p.Value)
			}
		}
	}
	// Output:
	// wsbridge.sends not_connected 1
}
