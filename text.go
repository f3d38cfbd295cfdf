package assistant

// Text is a plain text message. It may be sent on every channel.
type Text struct {
	// Content is the text the customer sees; required. Tabs and line
	// breaks are kept; other control characters are refused.
	Content string
}

// NewText returns a Text message with the given content.
func NewText(content string) Text { return Text{Content: content} }

// Type returns "text".
func (Text) Type() string { return TypeText }

// Validate reports whether the content is empty or holds invalid UTF-8 or
// control characters other than tab, LF and CR.
func (t Text) Validate() error {
	return validateProse(TypeText, t.Content)
}

func (t Text) appendContent(dst []byte) []byte { return appendString(dst, t.Content) }

func validateProse(typ, s string) error {
	if s == "" {
		return invalid(typ, "content", "is required")
	}
	if r := checkChars(s, multiline); r != "" {
		return invalid(typ, "content", r)
	}
	return nil
}
