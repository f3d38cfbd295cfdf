// Package otelwsbridge records OpenTelemetry metrics for a [wsbridge.Hub].
// It uses only the OpenTelemetry metrics API; the application picks the
// SDK and the exporter (Prometheus, OTLP, ...).
//
//	hooks, err := otelwsbridge.Hooks() // the global MeterProvider
//	if err != nil { ... }
//	hub := wsbridge.NewHub(wsbridge.Options{Hooks: []wsbridge.Hooks{hooks}, ...})
//
// The instruments, on a Meter named [ScopeName]:
//
//	wsbridge.connections    up-down counter  {connection}  pages connected now
//	wsbridge.sends          counter          {send}        Sends that returned, by "outcome" and "delivery"
//	wsbridge.send.duration  histogram        s             duration of a Send (waiting for the page's turn included), by "outcome"
//	wsbridge.violations     counter          {violation}   refused connections and protocol violations, by "kind" ("protocol" or "refused")
//
// "outcome" is a [wsbridge.Outcome]'s String; "delivery" is the Send
// error's class, an [assistant.Delivery]'s String ("delivered",
// "not_delivered", "rejected", "maybe_delivered"): the sends an operator
// should watch are those with delivery="maybe_delivered", which may have
// reached the host although their Send failed. No attribute holds a page
// id: there are as many ids as conversations, too many for a metric.
package otelwsbridge
