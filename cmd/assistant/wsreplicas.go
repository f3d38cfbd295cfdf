//go:build !js

package main

import (
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/imworkspace/assistant/wsbridge"
	"github.com/imworkspace/assistant/wsbridge/natsroute"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// wsReplicas is the wsbridge demo with --replicas 2: two replicas of the
// Go service, each a natsroute.Router with its own NATS connection to an
// embedded NATS server that listens on no port. The bridge page's socket
// lands on replica B (its Hub serves /ws); the workspace form sends from
// replica A, so every message crosses NATS to reach the page.
type wsReplicas struct {
	ns     *server.Server
	a, b   *natsroute.Router
	ncs    []*nats.Conn
	closed bool
}

func startWSReplicas(hubOpts wsbridge.Options) (*wsReplicas, error) {
	ns, err := server.NewServer(&server.Options{DontListen: true, NoLog: true, NoSigs: true})
	if err != nil {
		return nil, err
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		ns.Shutdown()
		return nil, errors.New("embedded NATS server not ready in 10 s")
	}
	w := &wsReplicas{ns: ns}
	// The replicas seal what they send each other under a key they share:
	// a fresh one per run here, a secret from the configuration in a
	// service.
	key := make([]byte, natsroute.MinKeySize)
	rand.Read(key)
	for _, name := range []string{"A", "B"} {
		nc, err := nats.Connect("", nats.InProcessServer(ns), nats.Name("assistant sim replica "+name),
			nats.MaxReconnects(-1), nats.ReconnectBufSize(-1))
		if err != nil {
			w.close()
			return nil, fmt.Errorf("replica %s: %w", name, err)
		}
		w.ncs = append(w.ncs, nc)
		r, err := natsroute.New(nc, hubOpts, natsroute.Options{Replica: name, Keys: [][]byte{key}})
		if err != nil {
			w.close()
			return nil, fmt.Errorf("replica %s: %w", name, err)
		}
		if name == "A" {
			w.a = r
		} else {
			w.b = r
		}
	}
	return w, nil
}

// route says which replica sent and which one holds the page.
func (w *wsReplicas) route(id string) string {
	holder := "no replica"
	switch {
	case w.b.Hub().Connected(id):
		holder = "replica B"
	case w.a.Hub().Connected(id):
		holder = "replica A"
	}
	return "sent by replica A through NATS; the page's socket is on " + holder
}

// close stops both replicas, their connections and the server.
func (w *wsReplicas) close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	var err error
	for _, r := range []*natsroute.Router{w.a, w.b} {
		if r != nil {
			err = errors.Join(err, r.Close())
		}
	}
	for _, nc := range w.ncs {
		nc.Close()
	}
	w.ns.Shutdown()
	return err
}
