//go:build !js && !natsserver

package main

import (
	"errors"

	"github.com/imworkspace/assistant"
	"github.com/imworkspace/assistant/wsbridge"
)

// errNoNATSServer is the error of --replicas 2 in a binary built without
// the embedded NATS server: leaving nats-server out halves a cold build
// (see wsreplicas.go).
var errNoNATSServer = errors.New("--replicas 2 needs the embedded NATS server, which this binary leaves out to keep its build fast; " +
	"run it from a checkout with: go run -tags natsserver ./cmd/assistant sim --replicas 2 " +
	"(or install it with go install -tags natsserver github.com/imworkspace/assistant/cmd/assistant@VERSION)")

func startWSReplicas(wsbridge.Options, string) (replicaSet, *wsbridge.Hub, assistant.Sender, error) {
	return nil, nil, nil, errNoNATSServer
}
