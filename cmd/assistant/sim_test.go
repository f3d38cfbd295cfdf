package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// startSim runs a simulator on loopback ports for the test's lifetime.
func startSim(t *testing.T, cfg simConfig) *sim {
	t.Helper()
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.Log == nil {
		cfg.Log = testLog{t}
	}
	ctx, cancel := context.WithCancel(context.Background())
	s, err := newSim(ctx, cfg)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := s.serve(ctx); err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
	return s
}

type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Logf("sim: %s", p)
	return len(p), nil
}

// startComponents serves testdata/components from its own origin.
func startComponents(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.FileServer(http.Dir("testdata/components")))
	t.Cleanup(srv.Close)
	return srv
}
