//go:build !js && !natsserver

package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// Without -tags natsserver, --replicas 2 fails at once and says how to get
// the embedded NATS server.
func TestRunSimReplicasNeedTag(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"sim", "--addr", "127.0.0.1:0", "--replicas", "2"}, nil, &stdout, &stderr)
	if code != exitUsage || !strings.Contains(stderr.String(), "go run -tags natsserver ./cmd/assistant sim --replicas 2") || stdout.Len() != 0 {
		t.Errorf("sim --replicas 2 without the tag: exit %d, stdout %q, stderr %q; want %d and how to build with the tag", code, stdout.String(), stderr.String(), exitUsage)
	}
}
