//go:build !js

package wsbridge

import (
	"context"
	"errors"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/imworkspace/assistant"
)

// Finding 2, and the package doc's Delivery claim: in Chromium, a bridge
// page framed by another origin than its data-target-origin (any site can
// frame it) refuses every message with wrong_parent, so Send returns
// ErrRefused instead of a nil for a message the browser dropped. The host
// page gets nothing.
func TestBrowserWrongParent(t *testing.T) {
	b := newBrowserSetupTarget(t, 60*time.Second, Options{}, "https://workspace.example")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	start := time.Now()
	err := b.hub.Sender("conv-1").Send(ctx, assistant.NewText("for the workspace only"))
	var refused *RefusedError
	if !errors.Is(err, ErrRefused) || !errors.As(err, &refused) || refused.Reason != ReasonWrongParent {
		t.Fatalf("Send from a page framed by a foreign origin = %v, want ErrRefused (%s)", err, ReasonWrongParent)
	}
	// Refused at once, not after the pacing interval or AckTimeout.
	t.Logf("refused after %v", time.Since(start))
	time.Sleep(300 * time.Millisecond)
	if recs := b.got(t); len(recs) != 0 {
		t.Errorf("the foreign parent received %d messages", len(recs))
	}
}

// Findings 4 and 5: what a hostile or buggy service writes that the bridge
// will not post is refused by id, at once, with the reason, in Chromium;
// the page stays connected and posts the next good message, which is all
// the host sees. The frames bypass Send's own checks (conn.send).
func TestBrowserRefusals(t *testing.T) {
	b := newBrowserSetup(t, 60*time.Second, Options{AckTimeout: 20 * time.Second})
	c, err := b.hub.lookup("conv-1")
	if err != nil {
		t.Fatal(err)
	}
	good, _ := assistant.Encode(assistant.NewText("ok"))
	overhead := len(`{"method":"sendMsg","type":"text","content":""}`)
	for _, tc := range []struct {
		name, data, reason string
	}{
		{"empty type", `{"method":"sendMsg","type":"","content":"x"}`, ReasonInvalid},
		{"unknown type", `{"method":"sendMsg","type":"image","content":"x"}`, ReasonInvalid},
		{"other method", `{"method":"navigate","type":"text","content":"x"}`, ReasonInvalid},
		{"no method", `{"type":"text","content":"x"}`, ReasonInvalid},
		{"unknown key", `{"method":"sendMsg","type":"text","content":"x","onclick":"steal()"}`, ReasonInvalid},
		{"NUL", `{"method":"sendMsg","type":"text","content":"a\u0000b"}`, ReasonInvalid},
		{"escape char", `{"method":"sendMsg","type":"text","content":"\u001b[31m"}`, ReasonInvalid},
		{"NUL in product", `{"method":"sendMsg","type":"product","content":{"name":"a\u0000"}}`, ReasonInvalid},
		{"lone surrogate", `{"method":"sendMsg","type":"text","content":"\ud800"}`, ReasonInvalid},
		{"text as object", `{"method":"sendMsg","type":"text","content":{"a":1}}`, ReasonInvalid},
		{"product as string", `{"method":"sendMsg","type":"product","content":"x"}`, ReasonInvalid},
		{"product as array", `{"method":"sendMsg","type":"product","content":[1]}`, ReasonInvalid},
		{"array", `["sendMsg"]`, ReasonInvalid},
		{"not JSON", `sendMsg`, ReasonInvalid},
		{"too large", `{"method":"sendMsg","type":"text","content":"` + strings.Repeat("x", MaxMessageSize-overhead+1) + `"}`, ReasonTooLarge},
		{"frame too large to parse", `{"method":"sendMsg","type":"text","content":"` + strings.Repeat("x", 6*MaxMessageSize+100) + `"}`, ReasonTooLarge},
		{"too large in UTF-8", `{"method":"sendMsg","type":"text","content":"` + strings.Repeat("é", (MaxMessageSize-overhead)/2+1) + `"}`, ReasonTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err := c.send(ctx, []byte(tc.data))
			var refused *RefusedError
			if !errors.As(err, &refused) || refused.Reason != tc.reason || !errors.Is(err, ErrRefused) {
				t.Errorf("send = %v, want a refusal (%s)", err, tc.reason)
			}
		})
	}
	// Tab, LF, CR and a message of exactly MaxMessageSize bytes are fine.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	exact := `{"method":"sendMsg","type":"text","content":"` + strings.Repeat("é", (MaxMessageSize-overhead)/2) + strings.Repeat("x", (MaxMessageSize-overhead)%2) + `"}`
	if len(exact) != MaxMessageSize {
		t.Fatalf("test message has %d bytes", len(exact))
	}
	for _, data := range [][]byte{good, []byte(`{"method":"sendMsg","type":"text","content":"a\tb\nc\r"}`), []byte(exact)} {
		if err := c.send(ctx, data); err != nil {
			t.Fatalf("send %s: %v", data, err)
		}
	}
	var want []string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if recs := b.got(t); len(recs) >= 3 {
			for _, r := range recs {
				want = append(want, r.Data)
			}
			break
		}
	}
	if len(want) != 3 || want[0] != string(good) || want[2] != exact {
		t.Errorf("host got %d messages, want only the three good ones", len(want))
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
