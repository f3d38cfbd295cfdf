//go:build !js

package main

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/imworkspace/assistant"
)

// The wsbridge demo page polls /bridge/stats on the component server for
// the Hub's live stats.
func TestWSDemoStats(t *testing.T) {
	s := startSim(t, simConfig{})
	get := func() wsStats {
		t.Helper()
		res, err := http.Get(s.compOrigin + "/bridge/stats")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("GET /bridge/stats: %s, %q", res.Status, res.Header.Get("Content-Type"))
		}
		var st wsStats
		if err := json.NewDecoder(res.Body).Decode(&st); err != nil {
			t.Fatal(err)
		}
		return st
	}
	if diff := cmp.Diff(wsStats{Sends: map[string]uint64{}}, get()); diff != "" {
		t.Errorf("stats before any send (-want +got):\n%s", diff)
	}
	s.wsSender.Send(context.Background(), assistant.NewText("no page yet"))
	if diff := cmp.Diff(wsStats{Sends: map[string]uint64{"not_connected": 1}}, get()); diff != "" {
		t.Errorf("stats after a send without a page (-want +got):\n%s", diff)
	}
}
