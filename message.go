package assistant

// Wire types of the four messages, as they appear in the "type" field.
const (
	TypeText            = "text"
	TypeRich            = "rich"
	TypeProduct         = "product"
	TypeMiniProgramPage = "miniprogrampage"
)

// Method is the only method the host accepts.
const Method = "sendMsg"

// MaxMessageSize is the largest wire string, in bytes, that [Encode]
// produces and [Decode] accepts: 1 MiB. The host publishes no limit; this
// one is far above any message an agent writes and keeps a hostile input
// from costing more than a small multiple of it in memory. Transports use
// it as their frame limit, so both ends agree. Larger messages are errors
// matching [ErrTooLarge].
const MaxMessageSize = 1 << 20

// Message is one message a component asks the host to send to the customer.
//
// It is implemented by [Text], [Rich], [Product] and [MiniProgramPage] (and
// pointers to them); the set is closed because [Encode] must know each wire
// shape exactly.
type Message interface {
	// Type returns the wire type, such as "text".
	Type() string
	// Validate reports the first rule the message breaks, as a
	// *ValidationError, or nil. It does not check the encoded size
	// (Encode does).
	Validate() error

	appendContent(dst []byte) []byte // sealed: only this package's types
}

// concrete turns pointers into values so a nil pointer is an error, not a
// panic, and every later step sees one of the four value types.
func concrete(m Message) (Message, error) {
	switch v := m.(type) {
	case Text, Rich, Product, MiniProgramPage:
		return m, nil
	case *Text:
		if v != nil {
			return *v, nil
		}
	case *Rich:
		if v != nil {
			return *v, nil
		}
	case *Product:
		if v != nil {
			return *v, nil
		}
	case *MiniProgramPage:
		if v != nil {
			return *v, nil
		}
	}
	return nil, invalid("", "message", "must be a non-nil Text, Rich, Product or MiniProgramPage")
}
