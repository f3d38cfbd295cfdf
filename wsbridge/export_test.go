//go:build linux

package wsbridge

import "testing"

// RunLoad is the load test (load_test.go) for the external test package,
// which can build Hooks from otelwsbridge (that package imports this one).
func RunLoad(t *testing.T, opts Options) { runLoad(t, opts) }
