package assistant

import (
	"errors"
	"fmt"
	"strconv"
)

// Sentinel errors. Every error this package returns about a message
// matches one of them with errors.Is; the typed errors below carry the
// details.
var (
	// ErrInvalid is matched by every error about a malformed message: a
	// broken validation rule, wire data Decode cannot accept, or a message
	// larger than MaxMessageSize.
	ErrInvalid = errors.New("assistant: invalid message")

	// ErrTooLarge is matched by the error of Decode for input longer than
	// MaxMessageSize, and of Encode for a message whose encoding would be.
	// Such errors match ErrInvalid too.
	ErrTooLarge = errors.New("assistant: message larger than MaxMessageSize")

	// ErrInvalidChannel is matched by the errors of SDK and ParseChannel
	// for a version or channel name they cannot read.
	ErrInvalidChannel = errors.New("assistant: invalid channel")

	// ErrNotAllowed is matched by errors refusing a message on a channel
	// that cannot carry its type.
	ErrNotAllowed = errors.New("assistant: message type not allowed on channel")

	// errNilSender is returned by decorators built around a nil Sender,
	// rather than panicking on first use. Rejected: a configuration error.
	errNilSender = WithDelivery(errors.New("assistant: decorator wraps a nil Sender"), Rejected)
)

// ValidationError names the message type, the field (by its wire name,
// relative to "content", such as "imgUrl" or "params[1].color") and the rule
// that field breaks. It matches [ErrInvalid].
type ValidationError struct {
	Type  string // wire type, or "" when the type itself is unknown
	Field string // wire field name
	Rule  string // what the field must be, e.g. "is required"
}

func (e *ValidationError) Error() string {
	if e.Type == "" {
		return "assistant: " + e.Field + " " + e.Rule
	}
	return "assistant: " + e.Type + ": " + e.Field + " " + e.Rule
}

// Is reports whether target is ErrInvalid.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalid }

// Delivery is [Rejected]: an invalid message is never sent.
func (e *ValidationError) Delivery() Delivery { return Rejected }

func invalid(typ, field, rule string) error {
	return &ValidationError{Type: typ, Field: field, Rule: rule}
}

// SyntaxError is returned by Decode for data that is not well-formed JSON.
// It matches [ErrInvalid].
type SyntaxError struct {
	Offset int // byte offset of the problem in the input
	Msg    string
}

func (e *SyntaxError) Error() string {
	return "assistant: invalid JSON at offset " + strconv.Itoa(e.Offset) + ": " + e.Msg
}

// Is reports whether target is ErrInvalid.
func (e *SyntaxError) Is(target error) bool { return target == ErrInvalid }

// Delivery is [Rejected]: such data is never sent.
func (e *SyntaxError) Delivery() Delivery { return Rejected }

// TooLargeError reports a wire string longer than [MaxMessageSize]: the
// input of Decode, or the encoding Encode refused to produce. It matches
// [ErrTooLarge] and [ErrInvalid].
type TooLargeError struct {
	Size int // bytes: the input's length, or at least the encoding's
}

func (e *TooLargeError) Error() string {
	return "assistant: message of " + strconv.Itoa(e.Size) + " bytes is larger than the limit of " +
		strconv.Itoa(MaxMessageSize) + " bytes"
}

// Is reports whether target is ErrTooLarge or ErrInvalid.
func (e *TooLargeError) Is(target error) bool { return target == ErrTooLarge || target == ErrInvalid }

// Delivery is [Rejected]: a message over the limit is never sent.
func (e *TooLargeError) Delivery() Delivery { return Rejected }

// NotAllowedError refuses a message type on a channel, naming the rule. It
// matches [ErrNotAllowed].
type NotAllowedError struct {
	Type    string  // message type
	Channel Channel // the refusing channel
	Rule    string  // where the type may go, e.g. "product: web, sdk >=5.1"
}

func (e *NotAllowedError) Error() string {
	return fmt.Sprintf("assistant: %s not allowed on channel %s (rule: %s)", e.Type, e.Channel, e.Rule)
}

// Is reports whether target is ErrNotAllowed.
func (e *NotAllowedError) Is(target error) bool { return target == ErrNotAllowed }

// Delivery is [Rejected]: the channel never carries this type.
func (e *NotAllowedError) Delivery() Delivery { return Rejected }
