//go:build linux

package wsbridge_test

import (
	"context"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/imworkspace/assistant/wsbridge"
	"github.com/imworkspace/assistant/wsbridge/otelwsbridge"
)

// TestLoadObserved is TestLoad with what an operator turns on: metrics
// through otelwsbridge on the OpenTelemetry SDK, an Info logger (to a
// discarding text handler: formatting still happens) and a hook of the
// application's own. Compare its server CPU with TestLoad's.
func TestLoadObserved(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	metrics, err := otelwsbridge.Hooks(otelwsbridge.WithMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))))
	if err != nil {
		t.Fatal(err)
	}
	var acked atomic.Int64
	own := wsbridge.Hooks{Send: func(i wsbridge.SendInfo) {
		if i.Outcome == wsbridge.OutcomeAcked {
			acked.Add(1)
		}
	}}
	log := slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
	wsbridge.RunLoad(t, wsbridge.Options{Hooks: []wsbridge.Hooks{metrics, own}, Logger: log})

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	var sends int64
	for _, m := range rm.ScopeMetrics[0].Metrics {
		if m.Name == "wsbridge.sends" {
			for _, p := range m.Data.(metricdata.Sum[int64]).DataPoints {
				if v, _ := p.Attributes.Value("outcome"); v.AsString() == "acked" {
					sends = p.Value
				}
			}
		}
	}
	t.Logf("observed: wsbridge.sends{outcome=acked} = %d, own hook counted %d", sends, acked.Load())
	if sends == 0 || sends != acked.Load() {
		t.Errorf("metrics counted %d acked sends, the hook %d", sends, acked.Load())
	}
}
