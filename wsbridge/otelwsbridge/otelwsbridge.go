//go:build !js

package otelwsbridge

import (
	"context"
	"errors"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/imworkspace/assistant"
	"github.com/imworkspace/assistant/wsbridge"
)

// ScopeName is the instrumentation scope (the Meter's name).
const ScopeName = "github.com/imworkspace/assistant/wsbridge/otelwsbridge"

// Option configures [Hooks].
type Option func(*config)

type config struct {
	mp metric.MeterProvider
}

// WithMeterProvider sets the MeterProvider to create the instruments
// with. The default is the global one, otel.GetMeterProvider() at the
// time Hooks is called.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(c *config) { c.mp = mp }
}

// durationBuckets suit a Send: milliseconds when the page is free, about a
// second when it waits for the page's turn, up to the ack timeout.
var durationBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 1.5, 2.5, 5, 10, 30, 60}

// Hooks returns wsbridge.Hooks that record the instruments listed in the
// package doc. Put it in wsbridge.Options.Hooks, next to any others. It
// returns an error if an instrument cannot be created. The Hooks are safe
// for concurrent use and cost one or two instrument updates per event,
// without allocating.
func Hooks(opts ...Option) (wsbridge.Hooks, error) {
	c := config{}
	for _, o := range opts {
		o(&c)
	}
	if c.mp == nil {
		c.mp = otel.GetMeterProvider()
	}
	m := c.mp.Meter(ScopeName)
	conns, err1 := m.Int64UpDownCounter("wsbridge.connections",
		metric.WithUnit("{connection}"), metric.WithDescription("Pages connected to the Hub."))
	sends, err2 := m.Int64Counter("wsbridge.sends",
		metric.WithUnit("{send}"), metric.WithDescription("Sends that returned, by outcome and delivery."))
	dur, err3 := m.Float64Histogram("wsbridge.send.duration",
		metric.WithUnit("s"), metric.WithDescription("Duration of a Send, waiting for the page's turn included."),
		metric.WithExplicitBucketBoundaries(durationBuckets...))
	viol, err4 := m.Int64Counter("wsbridge.violations",
		metric.WithUnit("{violation}"), metric.WithDescription("Refused connections and protocol violations, by kind."))
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		return wsbridge.Hooks{}, err
	}

	// Attribute sets and option slices are made once, so that recording
	// does not allocate.
	var addOutcome [256][numDeliveries][]metric.AddOption
	var recordOutcome [256][]metric.RecordOption
	for i := range addOutcome {
		outcome := attribute.String("outcome", wsbridge.Outcome(i).String())
		recordOutcome[i] = []metric.RecordOption{metric.WithAttributeSet(attribute.NewSet(outcome))}
		for d := range numDeliveries {
			set := attribute.NewSet(outcome, attribute.String("delivery", deliveryName(d)))
			addOutcome[i][d] = []metric.AddOption{metric.WithAttributeSet(set)}
		}
	}
	protocol := []metric.AddOption{metric.WithAttributeSet(attribute.NewSet(attribute.String("kind", "protocol")))}
	refused := []metric.AddOption{metric.WithAttributeSet(attribute.NewSet(attribute.String("kind", "refused")))}
	ctx := context.Background()

	return wsbridge.Hooks{
		Connect:    func(wsbridge.ConnectInfo) { conns.Add(ctx, 1) },
		Disconnect: func(wsbridge.DisconnectInfo) { conns.Add(ctx, -1) },
		Send: func(i wsbridge.SendInfo) {
			sends.Add(ctx, 1, addOutcome[i.Outcome][deliveryIndex(i.Delivery)]...)
			dur.Record(ctx, i.Duration.Seconds(), recordOutcome[i.Outcome]...)
		},
		Violation: func(i wsbridge.ViolationInfo) {
			if errors.Is(i.Err, wsbridge.ErrProtocol) {
				viol.Add(ctx, 1, protocol...)
			} else {
				viol.Add(ctx, 1, refused...)
			}
		},
	}, nil
}

// The "delivery" values: the four assistant.Delivery names, and "unknown"
// for any other value, so that the attribute's cardinality stays fixed.
const numDeliveries = int(assistant.Rejected) + 2

func deliveryIndex(d assistant.Delivery) int {
	if d < 0 || int(d) >= numDeliveries-1 {
		return numDeliveries - 1
	}
	return int(d)
}

func deliveryName(i int) string {
	if i == numDeliveries-1 {
		return "unknown"
	}
	return assistant.Delivery(i).String()
}
