//go:build js && wasm

package postmessage_test

import (
	"testing"

	"github.com/imworkspace/assistant/assistanttest"
	"github.com/imworkspace/assistant/postmessage"
)

// TestConformance runs the assistanttest suite against a Sender posting to
// a fake parent window; Break closes that window, as when the host goes
// away.
func TestConformance(t *testing.T) {
	assistanttest.TestSender(t, func(t *testing.T) assistanttest.Transport {
		w := framed(t)
		s, err := postmessage.New(host)
		if err != nil {
			t.Fatal(err)
		}
		return assistanttest.Transport{
			Sender: s,
			Delivered: func() [][]byte {
				var out [][]byte
				for _, c := range calls(w) {
					out = append(out, []byte(c.Data))
				}
				return out
			},
			Break: func() { w.Set("closed", true) },
		}
	})
}
