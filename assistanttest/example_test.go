package assistanttest_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/imworkspace/assistant"
	"github.com/imworkspace/assistant/assistanttest"
)

// greet is code under test: it takes the Sender as a dependency.
func greet(ctx context.Context, s assistant.Sender, name string) error {
	return s.Send(ctx, assistant.NewRich("<p>Hello, "+assistant.EscapeHTML(name)+"!</p>"))
}

func ExampleRecorder() {
	rec := &assistanttest.Recorder{}
	if err := greet(context.Background(), rec, "<Ann>"); err != nil {
		fmt.Println(err)
	}
	want := []assistant.Message{assistant.NewRich("<p>Hello, &lt;Ann&gt;!</p>")}
	if diff := cmp.Diff(want, rec.Messages()); diff != "" {
		fmt.Printf("sent (-want +got):\n%s", diff) // t.Errorf in a test
	}
	fmt.Println(string(rec.Wire()[0]))

	// Make the transport fail, to test your error handling.
	rec.FailNext(1, errors.New("connection reset"))
	fmt.Println(greet(context.Background(), rec, "Bo"))
	// Output:
	// {"method":"sendMsg","type":"rich","content":"<p>Hello, &lt;Ann&gt;!</p>"}
	// connection reset
}

// A strict Host refuses what a real host would drop: too fast, not allowed
// on the channel, malformed.
func ExampleHost() {
	host := assistanttest.NewHost(assistant.Web())
	ctx := context.Background()
	fmt.Println(host.Send(ctx, assistant.NewText("one")))
	err := host.Send(ctx, assistant.NewText("two, at once"))
	fmt.Println(errors.Is(err, assistanttest.ErrTooFast))
	fmt.Println(len(host.Accepted()))
	// Output:
	// <nil>
	// true
	// 1
}

// myTransport stands in for a transport package's Sender.
type myTransport struct{ rec assistanttest.Recorder }

func (m *myTransport) Send(ctx context.Context, msg assistant.Message) error {
	return m.rec.Send(ctx, msg)
}

// A transport proves it keeps the Sender contract by running the suite in
// its own tests.
func ExampleTestSender() {
	testTransport := func(t *testing.T) {
		assistanttest.TestSender(t, func(t *testing.T) assistanttest.Transport {
			tr := &myTransport{}
			return assistanttest.Transport{
				Sender:    tr,
				Delivered: tr.rec.Wire,
				Break:     func() { tr.rec.FailNext(1<<30, errors.New("closed")) },
			}
		})
	}
	_ = testTransport // func TestMyTransport(t *testing.T) { testTransport(t) }
}
