//go:build !js

package otelwsbridge_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/google/go-cmp/cmp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/imworkspace/assistant"
	"github.com/imworkspace/assistant/wsbridge"
	"github.com/imworkspace/assistant/wsbridge/otelwsbridge"
)

// points flattens what reader collected into "name{k=v,...}" -> value:
// a counter's sum, or a histogram's "count/sum".
func points(t testing.TB, reader sdkmetric.Reader) map[string]string {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != otelwsbridge.ScopeName {
			t.Errorf("scope %q, want %q", sm.Scope.Name, otelwsbridge.ScopeName)
		}
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					out[m.Name+attrs(p.Attributes)] = fmt.Sprint(p.Value)
				}
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					out[m.Name+attrs(p.Attributes)] = fmt.Sprintf("%d/%g", p.Count, p.Sum)
				}
			default:
				t.Errorf("%s: unexpected data %T", m.Name, m.Data)
			}
		}
	}
	return out
}

func attrs(s attribute.Set) string {
	var kv []string
	for _, a := range s.ToSlice() {
		kv = append(kv, string(a.Key)+"="+a.Value.Emit())
	}
	return "{" + strings.Join(kv, ",") + "}"
}

func newReader(t testing.TB) (*sdkmetric.ManualReader, wsbridge.Hooks) {
	reader := sdkmetric.NewManualReader()
	hooks, err := otelwsbridge.Hooks(otelwsbridge.WithMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))))
	if err != nil {
		t.Fatal(err)
	}
	return reader, hooks
}

// Each hook updates its instruments; no attribute holds a page id.
func TestHooksRecord(t *testing.T) {
	reader, h := newReader(t)
	h.Connect(wsbridge.ConnectInfo{ID: "conv-1", Conn: 1})
	h.Connect(wsbridge.ConnectInfo{ID: "conv-2", Conn: 2})
	h.Disconnect(wsbridge.DisconnectInfo{ID: "conv-1", Conn: 1, Cause: wsbridge.ErrReplaced})
	h.Send(wsbridge.SendInfo{ID: "conv-2", Outcome: wsbridge.OutcomeAcked, Delivery: assistant.Delivered, Duration: 500 * time.Millisecond, Bytes: 10})
	h.Send(wsbridge.SendInfo{ID: "conv-2", Outcome: wsbridge.OutcomeAcked, Delivery: assistant.Delivered, Duration: 1250 * time.Millisecond, Bytes: 10})
	h.Send(wsbridge.SendInfo{ID: "conv-3", Outcome: wsbridge.OutcomeNotConnected, Delivery: assistant.NotDelivered, Duration: time.Millisecond})
	// A ctx that ended before the write, and one that ended waiting for
	// the ack: the same outcome, told apart by delivery.
	h.Send(wsbridge.SendInfo{ID: "conv-2", Outcome: wsbridge.OutcomeCanceled, Delivery: assistant.NotDelivered, Duration: time.Second})
	h.Send(wsbridge.SendInfo{ID: "conv-2", Outcome: wsbridge.OutcomeCanceled, Delivery: assistant.MaybeDelivered, Duration: time.Second})
	h.Send(wsbridge.SendInfo{ID: "conv-2", Outcome: wsbridge.OutcomeCanceled, Delivery: assistant.Delivery(42), Duration: time.Second})
	h.Violation(wsbridge.ViolationInfo{ID: "conv-2", Err: fmt.Errorf("x: %w", wsbridge.ErrProtocol)})
	h.Violation(wsbridge.ViolationInfo{Err: wsbridge.ErrBadID})
	h.Violation(wsbridge.ViolationInfo{ID: "conv-4", Err: wsbridge.ErrUnauthenticated})

	want := map[string]string{
		"wsbridge.connections{}":                                       "1",
		"wsbridge.sends{delivery=delivered,outcome=acked}":             "2",
		"wsbridge.sends{delivery=not_delivered,outcome=not_connected}": "1",
		"wsbridge.sends{delivery=not_delivered,outcome=canceled}":      "1",
		"wsbridge.sends{delivery=maybe_delivered,outcome=canceled}":    "1",
		"wsbridge.sends{delivery=unknown,outcome=canceled}":            "1",
		"wsbridge.send.duration{outcome=acked}":                        "2/1.75",
		"wsbridge.send.duration{outcome=not_connected}":                "1/0.001",
		"wsbridge.send.duration{outcome=canceled}":                     "3/3",
		"wsbridge.violations{kind=protocol}":                           "1",
		"wsbridge.violations{kind=refused}":                            "2",
	}
	if diff := cmp.Diff(want, points(t, reader)); diff != "" {
		t.Errorf("metrics (-want +got):\n%s", diff)
	}
}

// Histogram buckets are in seconds and separate a free page (ms) from one
// whose Send waited for its turn (about 1 s).
func TestDurationBuckets(t *testing.T) {
	reader, h := newReader(t)
	h.Send(wsbridge.SendInfo{Outcome: wsbridge.OutcomeAcked, Duration: 3 * time.Millisecond})
	h.Send(wsbridge.SendInfo{Outcome: wsbridge.OutcomeAcked, Duration: 1020 * time.Millisecond})
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	for _, m := range rm.ScopeMetrics[0].Metrics {
		if m.Name != "wsbridge.send.duration" {
			continue
		}
		if m.Unit != "s" {
			t.Errorf("unit %q, want s", m.Unit)
		}
		p := m.Data.(metricdata.Histogram[float64]).DataPoints[0]
		var nonEmpty []float64 // upper bounds of the buckets that counted
		for i, n := range p.BucketCounts {
			if n > 0 && i < len(p.Bounds) {
				nonEmpty = append(nonEmpty, p.Bounds[i])
			}
		}
		if diff := cmp.Diff([]float64{0.005, 1.5}, nonEmpty); diff != "" {
			t.Errorf("buckets hit (-want +got):\n%s", diff)
		}
		return
	}
	t.Fatal("no wsbridge.send.duration")
}

// Without WithMeterProvider, the global MeterProvider is used.
func TestGlobalMeterProvider(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	prev := otel.GetMeterProvider()
	otel.SetMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)))
	t.Cleanup(func() { otel.SetMeterProvider(prev) })
	h, err := otelwsbridge.Hooks()
	if err != nil {
		t.Fatal(err)
	}
	h.Connect(wsbridge.ConnectInfo{ID: "conv-1"})
	if got := points(t, reader)["wsbridge.connections{}"]; got != "1" {
		t.Errorf("connections on the global provider = %q, want 1", got)
	}
}

// Plugged into a real Hub, next to other hooks.
func TestWithHub(t *testing.T) {
	reader, h := newReader(t)
	disconnected := make(chan struct{})
	hub := wsbridge.NewHub(wsbridge.Options{
		InsecureSkipAuthentication: true,
		NoPacing:                   true,
		Hooks:                      []wsbridge.Hooks{h, {Disconnect: func(wsbridge.DisconnectInfo) { close(disconnected) }}},
	})
	srv := httptest.NewServer(hub)
	defer srv.Close()
	defer hub.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	page, _, err := websocket.Dial(ctx, strings.Replace(srv.URL, "http", "ws", 1)+"?id=conv-1",
		&websocket.DialOptions{HTTPHeader: map[string][]string{"Origin": {srv.URL}}})
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			_, frame, err := page.Read(ctx)
			if err != nil {
				return
			}
			var f struct{ ID uint64 }
			json.Unmarshal(frame, &f) // message ids start at a random point
			page.Write(ctx, websocket.MessageText, fmt.Appendf(nil, `{"op":"ack","id":%d}`, f.ID))
		}
	}()
	if err := hub.WaitConnected(ctx, "conv-1"); err != nil {
		t.Fatal(err)
	}
	if err := hub.Sender("conv-1").Send(ctx, assistant.NewText("hi")); err != nil {
		t.Fatal(err)
	}
	page.Close(websocket.StatusNormalClosure, "")
	<-disconnected
	got := points(t, reader)
	for _, k := range []string{"wsbridge.connections{}", "wsbridge.sends{delivery=delivered,outcome=acked}"} {
		if want := map[bool]string{true: "0", false: "1"}[k == "wsbridge.connections{}"]; got[k] != want {
			t.Errorf("%s = %q, want %s (all: %v)", k, got[k], want, got)
		}
	}
	for k := range got {
		if strings.Contains(k, "conv-1") {
			t.Errorf("page id in %s", k)
		}
	}
}

// The cost of the Send hook per Send, on the SDK with a ManualReader.
func BenchmarkSendHook(b *testing.B) {
	_, h := newReader(b)
	info := wsbridge.SendInfo{ID: "conv-1", Outcome: wsbridge.OutcomeAcked, Duration: time.Second, Bytes: 100}
	b.ReportAllocs()
	for b.Loop() {
		h.Send(info)
	}
}

// The same from many goroutines at once, as a busy Hub calls it.
func BenchmarkSendHookParallel(b *testing.B) {
	_, h := newReader(b)
	info := wsbridge.SendInfo{ID: "conv-1", Outcome: wsbridge.OutcomeAcked, Duration: time.Second, Bytes: 100}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			h.Send(info)
		}
	})
}
