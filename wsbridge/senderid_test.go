//go:build !js

package wsbridge

import (
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/imworkspace/assistant"
)

// An id no page can have (too long, control characters, escapes) fails
// at once with ErrNotConnected and ErrBadID, and never reaches the hooks
// or the error text whole: a log line built from either stays one short
// line.
func TestSenderInvalidIDKeptOutOfHooks(t *testing.T) {
	var mu sync.Mutex
	var got []SendInfo
	hub, _ := newTestHub(t, Options{Hooks: []Hooks{{Send: func(si SendInfo) {
		mu.Lock()
		got = append(got, si)
		mu.Unlock()
	}}}})
	for _, id := range []string{
		strings.Repeat("x", 500_000),
		"conv-1\n\x1b[31mFAKE LOG LINE",
		"",
	} {
		err := hub.Sender(id).Send(ctxT(t), assistant.NewText("hi"))
		if !errors.Is(err, ErrNotConnected) || !errors.Is(err, ErrBadID) {
			t.Errorf("Send(%.20q) = %v, want ErrNotConnected and ErrBadID", id, err)
		}
		if err != nil && (len(err.Error()) > 200 || strings.ContainsAny(err.Error(), "\n\x1b")) {
			t.Errorf("error text carries the raw id: %.80q (%d bytes)", err.Error(), len(err.Error()))
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 3 {
		t.Fatalf("%d Send hooks, want 3", len(got))
	}
	for _, si := range got {
		if si.ID != "" || si.Outcome != OutcomeNotConnected {
			t.Errorf("hook got ID %.20q, outcome %v; want \"\", not_connected", si.ID, si.Outcome)
		}
	}
}
