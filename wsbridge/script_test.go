//go:build !js

package wsbridge

import (
	"bytes"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"testing"

	"github.com/imworkspace/assistant"
)

// The bridge script's default interval is assistant.DefaultInterval +
// DefaultMargin, filled in where bridge.js has its one placeholder: the
// number is defined once, in Go, for both transports.
func TestScriptDefaultInterval(t *testing.T) {
	if n := bytes.Count(rawScript, []byte(intervalPlaceholder)); n != 1 {
		t.Fatalf("bridge.js has %d %s placeholders, want 1", n, intervalPlaceholder)
	}
	ms := (assistant.DefaultInterval + assistant.DefaultMargin).Milliseconds()
	want := fmt.Sprintf(`var DEFAULT_INTERVAL_MS = Number("%d");`, ms)
	if !bytes.Contains(script, []byte(want)) || bytes.Contains(script, []byte(intervalPlaceholder)) {
		t.Errorf("served bridge.js does not set %s", want)
	}
}

// bridge.js refuses by the same limit as Send.
func TestBridgeScriptMaxMessage(t *testing.T) {
	src, err := os.ReadFile("bridge.js")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`MAX_MESSAGE = (\d+)`).FindSubmatch(src)
	if m == nil {
		t.Fatal("bridge.js has no MAX_MESSAGE = N")
	}
	if n, _ := strconv.Atoi(string(m[1])); n != MaxMessageSize {
		t.Errorf("bridge.js MAX_MESSAGE = %d, MaxMessageSize = %d", n, MaxMessageSize)
	}
}
