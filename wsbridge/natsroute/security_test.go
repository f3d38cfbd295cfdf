//go:build !js

package natsroute

import (
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// testKey is the replicas' shared key in tests.
var testKey = []byte("natsroute test key: 32+ bytes, never in production")

// sealed seals data as a key holder named replica would, now.
func sealed(t testing.TB, key []byte, kind byte, subject, reply, replica, reqID string, h nats.Header, data []byte) *nats.Msg {
	t.Helper()
	k, err := newKeyring([][]byte{key})
	if err != nil {
		t.Fatal(err)
	}
	m, err := k.seal(kind, subject, reply, envelope{replica: replica, sent: time.Now(), reqID: reqID, header: h, data: data})
	if err != nil {
		t.Fatal(err)
	}
	return m
}
