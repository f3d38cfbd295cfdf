package assistant_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/Masterminds/semver/v3"
	"github.com/google/go-cmp/cmp"
	"github.com/imworkspace/assistant"
	"github.com/imworkspace/assistant/assistanttest"
)

func ExampleNewText() {
	b, err := assistant.Encode(assistant.NewText("Hello, how can I help?"))
	if err != nil {
		panic(err)
	}
	fmt.Println(string(b))
	// Output: {"method":"sendMsg","type":"text","content":"Hello, how can I help?"}
}

func ExampleNewRich() {
	name := `<Bob & "Co">` // user input: escape it
	html := "<p>Thanks, " + assistant.EscapeHTML(name) + "! " +
		assistant.MiniProgramLink("/pages/order/detail?id=7", "See your order") + "</p>"
	b, _ := assistant.Encode(assistant.NewRich(html))
	fmt.Println(string(b))
	// Output: {"method":"sendMsg","type":"rich","content":"<p>Thanks, &lt;Bob &amp; &#34;Co&#34;&gt;! <a data-miniprogram-path=\"/pages/order/detail?id=7\">See your order</a></p>"}
}

func ExampleMiniProgramLink() {
	fmt.Println(assistant.MiniProgramLink("pages/item?id=7&ref=chat", "Open <item>"))
	// Output: <a data-miniprogram-path="pages/item?id=7&amp;ref=chat">Open &lt;item&gt;</a>
}

func ExampleNewProduct() {
	card := assistant.NewProduct("Apple iPhone X 64GB", "https://item.jd.com/6748052.html",
		"https://img.example.com/iphone.jpg",
		assistant.ProductParam{Text: "¥6999.00", Color: "#FF0000", Fold: true, Size: 14},
		assistant.ProductParam{Text: "Free shipping"})
	b, _ := assistant.Encode(card)
	fmt.Println(string(b))
	// Output: {"method":"sendMsg","type":"product","content":{"name":"Apple iPhone X 64GB","url":"https://item.jd.com/6748052.html","imgUrl":"https://img.example.com/iphone.jpg","params":[{"text":"¥6999.00","color":"#FF0000","fold":true,"size":14},{"text":"Free shipping"}]}}
}

func ExampleNewMiniProgramPage() {
	card := assistant.NewMiniProgramPage("Your order", "pages/order/detail?id=7", "https://img.example.com/order.jpg")
	b, _ := assistant.Encode(card)
	fmt.Println(string(b))
	// Output: {"method":"sendMsg","type":"miniprogrampage","content":{"title":"Your order","pagepath":"pages/order/detail?id=7","pic_url":"https://img.example.com/order.jpg"}}
}

func ExampleProduct_Validate() {
	card := assistant.NewProduct("Phone", "javascript:alert(1)", "https://img.example.com/p.jpg")
	err := card.Validate()
	var ve *assistant.ValidationError
	if errors.As(err, &ve) {
		fmt.Println(errors.Is(err, assistant.ErrInvalid), ve.Field, "|", ve.Rule)
	}
	// Output: true url | must be a path without a scheme (or an absolute http or https URL)
}

func ExampleEncode() {
	b, err := assistant.Encode(assistant.NewText(`Say "hi" <3`))
	fmt.Println(string(b), err)
	_, err = assistant.Encode(assistant.NewText(""))
	fmt.Println(err)
	// Output:
	// {"method":"sendMsg","type":"text","content":"Say \"hi\" <3"} <nil>
	// assistant: text: content is required
}

func ExampleAppendEncode() {
	buf := make([]byte, 0, 512) // reuse across messages: no allocation per message
	for _, m := range []assistant.Message{assistant.NewText("one"), assistant.NewText("two")} {
		var err error
		buf, err = assistant.AppendEncode(buf[:0], m)
		if err != nil {
			panic(err)
		}
		fmt.Println(string(buf))
	}
	// Output:
	// {"method":"sendMsg","type":"text","content":"one"}
	// {"method":"sendMsg","type":"text","content":"two"}
}

func ExampleDecode() {
	m, err := assistant.Decode([]byte(`{"method":"sendMsg","type":"text","content":"hi"}`))
	fmt.Printf("%#v %v\n", m, err)
	_, err = assistant.Decode([]byte(`{"method":"sendMsg","type":"product","content":{"name":"n","imgUrl":"https://i/x.jpg","params":[{"text":"t","fold":"true"}]}}`))
	fmt.Println(err)
	// Output:
	// assistant.Text{Content:"hi"} <nil>
	// assistant: product: params[0].fold must be a boolean, not a string
}

func ExampleChannel_Check() {
	card := assistant.NewProduct("Phone", "", "https://img.example.com/p.jpg")
	for _, v := range []string{"5.0.9", "5.1.0-beta.1", "5.1", "v6"} {
		ch, err := assistant.SDK(v)
		if err != nil {
			panic(err)
		}
		fmt.Println(v, ch.Check(card))
	}
	fmt.Println(errors.Is(assistant.MiniProgram().Check(card), assistant.ErrNotAllowed))
	// Output:
	// 5.0.9 assistant: product not allowed on channel sdk@5.0.9 (rule: product goes to web, sdk >=5.1)
	// 5.1.0-beta.1 assistant: product not allowed on channel sdk@5.1.0-beta.1 (rule: product goes to web, sdk >=5.1)
	// 5.1 <nil>
	// v6 <nil>
	// true
}

func ExampleRules() {
	// The host now needs SDK 6 for product cards.
	rules := assistant.DefaultRules()
	p := rules[assistant.TypeProduct]
	sdk6, err := semver.NewConstraint(">=6")
	if err != nil {
		panic(err)
	}
	p.SDK = sdk6
	rules[assistant.TypeProduct] = p

	ch, _ := assistant.SDK("5.2")
	fmt.Println(rules.Check(ch, assistant.NewProduct("Phone", "", "https://img.example.com/p.jpg")))
	// Output: assistant: product not allowed on channel sdk@5.2.0 (rule: product goes to web, sdk >=6)
}

func ExampleParseChannel() {
	for _, s := range []string{"web", "Web", "sdk@v5.1", "miniprogram", "wechat"} {
		ch, err := assistant.ParseChannel(s)
		fmt.Println(ch, ch.Kind() == assistant.KindOther, err)
	}
	_, err := assistant.ParseChannel("sdk")
	fmt.Println(errors.Is(err, assistant.ErrInvalidChannel))
	// Output:
	// web false <nil>
	// web false <nil>
	// sdk@5.1.0 false <nil>
	// miniprogram false <nil>
	// wechat true <nil>
	// true
}

// Channels are comparable values, so they can key a map.
func ExampleSDK_comparable() {
	a, _ := assistant.SDK("5.1")
	b, _ := assistant.SDK("v5.1.0")
	conversations := map[assistant.Channel]int{a: 1}
	conversations[b]++
	fmt.Println(a == b, conversations[a], len(conversations))
	// Output: true 2 1
}

// Decode refuses input over MaxMessageSize before reading it; Encode
// refuses to produce it.
func ExampleDecode_tooLarge() {
	huge := assistant.NewText(strings.Repeat("a", assistant.MaxMessageSize))
	_, err := assistant.Encode(huge)
	fmt.Println(errors.Is(err, assistant.ErrTooLarge))

	wire := make([]byte, assistant.MaxMessageSize+1)
	_, err = assistant.Decode(wire)
	var tl *assistant.TooLargeError
	fmt.Println(errors.As(err, &tl), tl.Size, errors.Is(err, assistant.ErrInvalid))
	// Output:
	// true
	// true 1048577 true
}

// The recommended stack: refuse what the channel cannot carry, then pace
// what is left for the host. Here a Recorder stands in for a transport such
// as postmessage or wsbridge.
func ExampleForChannel() {
	transport := &assistanttest.Recorder{}
	s := assistant.ForChannel(assistant.RateLimited(transport), assistant.Web())

	ctx := context.Background()
	fmt.Println(s.Send(ctx, assistant.NewText("Here is the phone you asked about:")))
	card := assistant.NewMiniProgramPage("Phone", "pages/item?id=7", "https://img.example.com/p.jpg")
	fmt.Println(errors.Is(s.Send(ctx, card), assistant.ErrNotAllowed))
	// Output:
	// <nil>
	// true
}

func ExampleRateLimited() {
	// A transport that takes its time: it holds the first message until
	// the example lets it go.
	inFlight, finish := make(chan struct{}), make(chan struct{})
	var once sync.Once
	transport := assistant.SenderFunc(func(ctx context.Context, m assistant.Message) error {
		once.Do(func() { close(inFlight); <-finish })
		return nil
	})
	// One RateLimited per component page, shared by every goroutine.
	s := assistant.RateLimited(transport, assistant.NonBlocking())
	ctx := context.Background()

	first := make(chan error)
	go func() { first <- s.Send(ctx, assistant.NewText("first")) }()
	<-inFlight
	// The first message is on its way: a non-blocking Send returns at
	// once, saying how long to wait at least.
	err := s.Send(ctx, assistant.NewText("second, right away"))
	var rl *assistant.RateLimitedError
	fmt.Println(errors.As(err, &rl), errors.Is(err, assistant.ErrRateLimited), rl.Delay)
	close(finish)
	fmt.Println(<-first)
	// Output:
	// true true 1.25s
	// <nil>
}

func ExampleSenderFunc() {
	var sent []string
	s := assistant.SenderFunc(func(ctx context.Context, m assistant.Message) error {
		b, err := assistant.Encode(m)
		if err != nil {
			return err
		}
		sent = append(sent, string(b))
		return nil
	})
	s.Send(context.Background(), assistant.NewText("hi"))
	fmt.Println(sent)
	// Output: [{"method":"sendMsg","type":"text","content":"hi"}]
}

// notifyShipped is the user's code under test: it takes a Sender, so tests
// pass a Recorder.
func notifyShipped(ctx context.Context, s assistant.Sender, orderID string) error {
	return s.Send(ctx, assistant.NewText("Your order "+orderID+" has shipped"))
}

// Mocking the Sender in a unit test: record what your code sends and
// compare it with go-cmp. In a test, report the diff with t.Errorf.
func Example_mockSender() {
	rec := &assistanttest.Recorder{}
	if err := notifyShipped(context.Background(), rec, "7"); err != nil {
		fmt.Println(err)
	}
	want := []assistant.Message{assistant.NewText("Your order 7 has shipped")}
	fmt.Printf("diff: %q\n", cmp.Diff(want, rec.Messages()))
	fmt.Println(string(rec.Wire()[0]))
	// Output:
	// diff: ""
	// {"method":"sendMsg","type":"text","content":"Your order 7 has shipped"}
}

// sendRetrying sends m, and sends it again after a pause for as long as
// the error says the message certainly did not reach the host. It never
// resends after an error that says it may have (MaybeDelivered): that
// could show the message twice.
func sendRetrying(ctx context.Context, s assistant.Sender, m assistant.Message) error {
	pause := 10 * time.Millisecond
	for {
		err := s.Send(ctx, m)
		if assistant.DeliveryOf(err) != assistant.NotDelivered {
			return err // nil (Delivered), Rejected, or MaybeDelivered
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(pause):
		}
		pause = min(2*pause, time.Second)
	}
}

// A retry loop: resend on NotDelivered (here a transport whose page is not
// connected for the first two tries), stop on anything else.
func ExampleDeliveryOf() {
	transport := &assistanttest.Recorder{}
	notConnected := assistant.WithDelivery(errors.New("page not connected"), assistant.NotDelivered)
	transport.FailNext(2, notConnected)
	// In a component: ForChannel(RateLimited(transport), ch). A message
	// that failed keeps its slot, so a retry waits for the next one.
	s := assistant.ForChannel(transport, assistant.Web())

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := sendRetrying(ctx, s, assistant.NewText("Your order has shipped"))
	fmt.Println(err, assistant.DeliveryOf(err), len(transport.Records()))

	err = sendRetrying(ctx, s, assistant.NewText("")) // invalid: never retried
	fmt.Println(assistant.DeliveryOf(err), errors.Is(err, assistant.ErrInvalid))

	transport.FailNext(1, errors.New("connection reset while waiting for the ack"))
	err = sendRetrying(ctx, s, assistant.NewText("Anything else?"))
	fmt.Println(assistant.DeliveryOf(err)) // may have arrived: your call
	// Output:
	// <nil> delivered 1
	// rejected true
	// maybe_delivered
}
