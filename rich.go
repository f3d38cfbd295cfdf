package assistant

import "html"

// Rich is a rich text message: an HTML fragment the host renders. It may be
// sent on every channel. Any element with a data-miniprogram-path attribute
// opens that mini-program page when the customer clicks it; see
// [MiniProgramLink].
//
// The host renders HTML as given, so text from users belongs in it only
// through [EscapeHTML] or the helpers here.
type Rich struct {
	// HTML is the fragment to render; required. Tabs and line breaks are
	// kept; other control characters are refused.
	HTML string
}

// NewRich returns a Rich message with the given HTML.
func NewRich(html string) Rich { return Rich{HTML: html} }

// Type returns "rich".
func (Rich) Type() string { return TypeRich }

// Validate reports whether the HTML is empty or holds invalid UTF-8 or
// control characters other than tab, LF and CR. It does not parse the HTML.
func (r Rich) Validate() error {
	return validateProse(TypeRich, r.HTML)
}

func (r Rich) appendContent(dst []byte) []byte { return appendString(dst, r.HTML) }

// EscapeHTML escapes <, >, &, ' and " so that s shows as text inside rich
// HTML, in element content or a quoted attribute.
func EscapeHTML(s string) string { return html.EscapeString(s) }

// MiniProgramLink returns an <a> element that opens the mini-program page
// path when clicked, showing text. Both are escaped; path is not checked
// here, so a Rich holding it still needs Validate for its other content.
//
//	MiniProgramLink("/pages/item?id=7", "See item") ==
//		`<a data-miniprogram-path="/pages/item?id=7">See item</a>`
func MiniProgramLink(path, text string) string {
	return `<a data-miniprogram-path="` + html.EscapeString(path) + `">` + html.EscapeString(text) + `</a>`
}
