package main

import (
	"strings"
	"testing"
)

// TestDescribeRoot checks the description of the root module has both
// platforms' packages, constant values, methods and struct fields, and
// nothing unexported or internal.
func TestDescribeRoot(t *testing.T) {
	b, err := describe("../..")
	if err != nil {
		t.Fatal(err)
	}
	got := string(b)
	for _, want := range []string{
		"pkg github.com/imworkspace/assistant, func DeliveryOf(err error) Delivery\n",
		"pkg github.com/imworkspace/assistant, const DefaultMargin time.Duration = 250000000\n",
		"pkg github.com/imworkspace/assistant, method (*ValidationError) Delivery() Delivery\n",
		"pkg github.com/imworkspace/assistant, type ValidationError struct, Field string\n",
		"pkg github.com/imworkspace/assistant, type Sender interface, Send(ctx context.Context, m Message) error\n",
		"pkg github.com/imworkspace/assistant/postmessage, func New(", // js/wasm only
		"pkg github.com/imworkspace/assistant/wsbridge, func NewHub(", // native
	} {
		if !strings.Contains(got, want) {
			t.Errorf("description lacks %q", want)
		}
	}
	for _, bad := range []string{"/internal/", "func invalid(", "deliveryError"} {
		if strings.Contains(got, bad) {
			t.Errorf("description has %q", bad)
		}
	}
}
