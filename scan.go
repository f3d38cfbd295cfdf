package assistant

import (
	"strconv"
	"unicode/utf8"
)

// maxDepth bounds nesting so hostile input cannot exhaust the stack. A
// message needs 4 (message, content, params, a param).
const maxDepth = 16

// scanner reads one strict RFC 8259 document from valid UTF-8, without
// building a tree: the decoder asks for the shape it expects next and
// stops at the first thing it does not. Nothing it reads is kept except
// the strings the decoder asks for, so memory stays proportional to the
// message, whatever the input holds.
type scanner struct {
	data  []byte
	pos   int
	depth int
	key   []byte // reused buffer for keys with escapes
}

func (s *scanner) errorf(msg string) error { return &SyntaxError{Offset: s.pos, Msg: msg} }

func (s *scanner) ws() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// next skips white space and returns the kind of the value there: '{',
// '[', '"', '0' (a number), 't', 'f' (booleans) or 'n' (null). It does
// not consume it.
func (s *scanner) next() (byte, error) {
	s.ws()
	if s.pos >= len(s.data) {
		return 0, s.errorf("unexpected end of input")
	}
	switch c := s.data[s.pos]; {
	case c == '{', c == '[', c == '"', c == 't', c == 'f', c == 'n':
		return c, nil
	case c == '-' || '0' <= c && c <= '9':
		return '0', nil
	}
	return 0, s.errorf("unexpected character " + strconv.QuoteRuneToASCII(rune(s.data[s.pos])))
}

func kindName(k byte) string {
	switch k {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case '0':
		return "a number"
	case 't', 'f':
		return "a boolean"
	}
	return "null"
}

// open consumes the '{' or '[' that next returned.
func (s *scanner) open() error {
	s.depth++
	if s.depth > maxDepth {
		return s.errorf("nested too deeply")
	}
	s.pos++
	return nil
}

// more reports whether the object or array being read has another member
// or element, consuming the separator before it or the closing byte after
// the last one. first is true for the first call after open.
func (s *scanner) more(close byte, first bool) (bool, error) {
	s.ws()
	if s.pos >= len(s.data) {
		return false, s.errorf("unexpected end of input")
	}
	c := s.data[s.pos]
	if c == close {
		s.pos++
		s.depth--
		return false, nil
	}
	if first {
		return true, nil
	}
	if c != ',' {
		return false, s.errorf("expected ',' or '" + string(close) + "'")
	}
	s.pos++
	return true, nil
}

// member reads the next key of an object and its colon; the key is valid
// until the next call. ok is false after the closing brace.
func (s *scanner) member(first bool) (key []byte, ok bool, err error) {
	if ok, err = s.more('}', first); !ok || err != nil {
		return nil, false, err
	}
	s.ws()
	if s.pos >= len(s.data) || s.data[s.pos] != '"' {
		return nil, false, s.errorf("expected a string key")
	}
	start, end, escaped, err := s.scanString()
	if err != nil {
		return nil, false, err
	}
	key = s.data[start:end]
	if escaped {
		s.key = unescape(s.key[:0], key)
		key = s.key
	}
	s.ws()
	if s.pos >= len(s.data) || s.data[s.pos] != ':' {
		return nil, false, s.errorf("expected ':' after key")
	}
	s.pos++
	return key, true, nil
}

// end checks that only white space follows the document.
func (s *scanner) end() error {
	s.ws()
	if s.pos != len(s.data) {
		return s.errorf("trailing data after the message")
	}
	return nil
}

// str reads the string value next returned '"' for.
func (s *scanner) str() (string, error) {
	start, end, escaped, err := s.scanString()
	if err != nil {
		return "", err
	}
	if !escaped {
		return string(s.data[start:end]), nil
	}
	// Unescaped text is never longer than its JSON form.
	return string(unescape(make([]byte, 0, end-start), s.data[start:end])), nil
}

// literal consumes the literal next returned 't', 'f' or 'n' for.
func (s *scanner) literal() error {
	word := "null"
	switch s.data[s.pos] {
	case 't':
		word = "true"
	case 'f':
		word = "false"
	}
	if len(s.data)-s.pos < len(word) || string(s.data[s.pos:s.pos+len(word)]) != word {
		return s.errorf("invalid literal")
	}
	s.pos += len(word)
	return nil
}

// number consumes the number next returned '0' for and returns its text.
func (s *scanner) number() ([]byte, error) {
	start := s.pos
	digits := func() int {
		n := 0
		for s.pos < len(s.data) && '0' <= s.data[s.pos] && s.data[s.pos] <= '9' {
			s.pos++
			n++
		}
		return n
	}
	if s.data[s.pos] == '-' {
		s.pos++
	}
	intStart := s.pos
	if digits() == 0 {
		return nil, s.errorf("invalid number")
	}
	if s.data[intStart] == '0' && s.pos-intStart > 1 {
		return nil, &SyntaxError{Offset: intStart, Msg: "invalid number: leading zero"}
	}
	if s.pos < len(s.data) && s.data[s.pos] == '.' {
		s.pos++
		if digits() == 0 {
			return nil, s.errorf("invalid number")
		}
	}
	if s.pos < len(s.data) && (s.data[s.pos] == 'e' || s.data[s.pos] == 'E') {
		s.pos++
		if s.pos < len(s.data) && (s.data[s.pos] == '+' || s.data[s.pos] == '-') {
			s.pos++
		}
		if digits() == 0 {
			return nil, s.errorf("invalid number")
		}
	}
	return s.data[start:s.pos], nil
}

// skip consumes one value of any kind, checking its syntax, allocating
// nothing.
func (s *scanner) skip() error {
	k, err := s.next()
	if err != nil {
		return err
	}
	switch k {
	case '"':
		_, _, _, err = s.scanString()
		return err
	case '0':
		_, err = s.number()
		return err
	case 't', 'f', 'n':
		return s.literal()
	}
	if err := s.open(); err != nil {
		return err
	}
	for first := true; ; first = false {
		if k == '{' {
			_, ok, err := s.member(first)
			if err != nil || !ok {
				return err
			}
		} else if ok, err := s.more(']', first); err != nil || !ok {
			return err
		}
		if err := s.skip(); err != nil {
			return err
		}
	}
}

// count returns how many elements the array at s.pos has, checking their
// syntax, and leaves s.pos where it was: the decoder sizes a slice once.
func (s *scanner) count() (int, error) {
	pos, depth := s.pos, s.depth
	defer func() { s.pos, s.depth = pos, depth }()
	if err := s.open(); err != nil {
		return 0, err
	}
	n := 0
	for first := true; ; first = false {
		if ok, err := s.more(']', first); err != nil || !ok {
			return n, err
		}
		if err := s.skip(); err != nil {
			return n, err
		}
		n++
	}
}

// scanString checks the string at s.pos (its opening quote) and consumes
// it, returning the bounds of its body and whether it holds escapes. A \u
// escape of a lone surrogate is an error: Go strings cannot hold it, and
// JSON.parse would keep it.
func (s *scanner) scanString() (start, end int, escaped bool, err error) {
	s.pos++ // opening quote
	start = s.pos
	for s.pos < len(s.data) {
		c := s.data[s.pos]
		switch {
		case c == '"':
			s.pos++
			return start, s.pos - 1, escaped, nil
		case c < 0x20:
			return 0, 0, false, s.errorf("control character in string")
		case c != '\\':
			s.pos++
			continue
		}
		escaped = true
		if s.pos+1 >= len(s.data) {
			break
		}
		e := s.data[s.pos+1]
		s.pos += 2
		switch e {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		case 'u':
			r, ok := s.hex4()
			if !ok {
				return 0, 0, false, s.errorf("invalid \\u escape")
			}
			if 0xD800 <= r && r < 0xDC00 {
				if s.pos+1 < len(s.data) && s.data[s.pos] == '\\' && s.data[s.pos+1] == 'u' {
					s.pos += 2
					if r2, ok := s.hex4(); ok && 0xDC00 <= r2 && r2 < 0xE000 {
						continue
					}
				}
				return 0, 0, false, s.errorf("lone UTF-16 surrogate in \\u escape")
			}
			if 0xDC00 <= r && r < 0xE000 {
				return 0, 0, false, s.errorf("lone UTF-16 surrogate in \\u escape")
			}
		default:
			return 0, 0, false, s.errorf("invalid escape")
		}
	}
	return 0, 0, false, s.errorf("unterminated string")
}

func (s *scanner) hex4() (rune, bool) {
	if s.pos+4 > len(s.data) {
		return 0, false
	}
	r, ok := parseHex4(s.data[s.pos:])
	if ok {
		s.pos += 4
	}
	return r, ok
}

func parseHex4(b []byte) (rune, bool) {
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			r = r<<4 | rune(c-'0')
		case 'a' <= c && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case 'A' <= c && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// unescape appends the text of body, a string body scanString accepted,
// to dst.
func unescape(dst, body []byte) []byte {
	for i := 0; i < len(body); {
		c := body[i]
		if c != '\\' {
			dst = append(dst, c)
			i++
			continue
		}
		e := body[i+1]
		i += 2
		switch e {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r, _ := parseHex4(body[i:])
			i += 4
			if 0xD800 <= r && r < 0xDC00 {
				r2, _ := parseHex4(body[i+2:])
				i += 6
				r = (r-0xD800)<<10 + (r2 - 0xDC00) + 0x10000
			}
			dst = utf8.AppendRune(dst, r)
		default: // '"', '\\', '/'
			dst = append(dst, e)
		}
	}
	return dst
}
