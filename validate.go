package assistant

import (
	"strconv"
	"unicode/utf8"
)

// Character classes for validation (docs/PROTOCOL.md, "Control characters").
const (
	// multiline allows tab, LF and CR: text and rich content are prose.
	multiline = iota
	// singleLine allows no control character at all: names, titles, URLs.
	singleLine
)

// checkChars reports the rule s breaks: invalid UTF-8, or a control
// character (C0, DEL, C1) that its class does not allow.
func checkChars(s string, class int) string {
	for i := 0; i < len(s); {
		// Fast path: printable ASCII, the bulk of most messages.
		for i < len(s) && s[i] >= 0x20 && s[i] < 0x7f {
			i++
		}
		if i == len(s) {
			break
		}
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				if class == multiline && (c == '\t' || c == '\n' || c == '\r') {
					i++
					continue
				}
				return "must not contain control character " + strconv.QuoteRuneToASCII(rune(c))
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			return "must be valid UTF-8"
		}
		if r >= 0x80 && r <= 0x9f {
			return "must not contain control character " + strconv.QuoteRuneToASCII(r)
		}
		i += n
	}
	return ""
}

// isHexColor reports whether s is "#RRGGBB".
func isHexColor(s string) bool {
	if len(s) != 7 || s[0] != '#' {
		return false
	}
	for i := 1; i < 7; i++ {
		if !isHex(s[i]) {
			return false
		}
	}
	return true
}

func isHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }
