// Package assistant sends messages from an IM workspace assistant component
// to the customer, on the agent's behalf.
//
// A component is a page the customer-service workspace frames; it posts
// each message to the host as a JSON string. This package builds those
// messages ([Text], [Rich], [Product], [MiniProgramPage]), validates them,
// encodes them to the exact wire bytes ([Encode], [Decode]), checks which
// channel may carry them ([Channel], [Rules]) and paces them to the host's
// limit of one message per second ([RateLimited]). A transport such as
// package postmessage (in the browser) or wsbridge (from a Go service)
// delivers them.
//
// The happy path:
//
//	ch, err := assistant.SDK("5.1.1") // the customer's channel
//	if err != nil {
//		return err
//	}
//	s := assistant.ForChannel(assistant.RateLimited(transport), ch)
//	card := assistant.NewProduct("iPhone X 64GB", "https://item.jd.com/6748052.html",
//		"https://img.example.com/x.jpg", assistant.ProductParam{Text: "¥6999.00", Color: "#FF0000"})
//	if err := s.Send(ctx, card); err != nil {
//		return err // errors.Is(err, assistant.ErrInvalid / ErrNotAllowed), ctx or transport errors
//	}
//
// Errors are typed: every malformed message matches [ErrInvalid] (and
// errors.As finds a [*ValidationError] naming type, field and rule); a
// wire string over [MaxMessageSize] matches [ErrTooLarge]; a message its
// channel cannot carry matches [ErrNotAllowed]. The wire protocol and the
// package's decisions (sizes, colors, URL and channel rules) are in
// docs/PROTOCOL.md.
//
// Package assistanttest has a Recorder to mock the Sender in unit tests, a
// strict Host, and a conformance suite for transports.
package assistant
