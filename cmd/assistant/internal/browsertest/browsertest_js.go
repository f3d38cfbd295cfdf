//go:build js

package browsertest

import (
	"context"
	"testing"
	"time"
)

// ExecPath returns "": a js/wasm test binary cannot start a browser.
func ExecPath() string { return "" }

// New skips the test: under js/wasm the test binary runs inside node and
// cannot start a browser. The native run covers browser tests.
func New(t testing.TB, timeout time.Duration) context.Context {
	t.Skip("browsertest: browser tests run natively, not under js/wasm")
	return nil
}

// Frame is not reached under js/wasm: New skips first.
func Frame(t testing.TB, ctx context.Context, prefix string, timeout time.Duration) context.Context {
	t.Skip("browsertest: browser tests run natively, not under js/wasm")
	return nil
}
