package assistant

// Encode validates m and returns the exact string the vendor's JavaScript
// would post for it:
//
//	{"method":"sendMsg","type":"text","content":"hi"}
//
// The bytes are those of JSON.stringify for the same object: keys in the
// vendor's order, unset optional fields omitted, no escaping of <, >, & or
// U+2028/U+2029. An invalid message returns its *ValidationError; one
// whose encoding would exceed [MaxMessageSize] returns a *TooLargeError.
func Encode(m Message) ([]byte, error) {
	m, err := concrete(m)
	if err != nil {
		return nil, err
	}
	n := min(sizeHint(m), MaxMessageSize)
	if minSize(m) > MaxMessageSize {
		n = 0 // refused before anything is written
	}
	return AppendEncode(make([]byte, 0, n), m)
}

// AppendEncode is like [Encode] but appends to dst, so a caller reusing a
// buffer encodes without allocating. On error dst is returned unchanged.
func AppendEncode(dst []byte, m Message) ([]byte, error) {
	m, err := concrete(m)
	if err != nil {
		return dst, err
	}
	if err := m.Validate(); err != nil {
		return dst, err
	}
	// The encoding is at least as long as its strings: refuse before
	// writing what could never be sent.
	if n := minSize(m); n > MaxMessageSize {
		return dst, &TooLargeError{Size: n}
	}
	start := len(dst)
	dst = append(dst, `{"method":"sendMsg","type":"`...)
	dst = append(dst, m.Type()...)
	dst = append(dst, `","content":`...)
	dst = m.appendContent(dst)
	dst = append(dst, '}')
	if n := len(dst) - start; n > MaxMessageSize {
		return dst[:start], &TooLargeError{Size: n}
	}
	return dst, nil
}

// minSize is a lower bound of the encoded size: the string fields alone.
func minSize(m Message) int {
	n := 0
	switch v := m.(type) {
	case Text:
		n = len(v.Content)
	case Rich:
		n = len(v.HTML)
	case Product:
		n = len(v.Name) + len(v.URL) + len(v.ImgURL)
		for i := range v.Params {
			n += len(v.Params[i].Text) + len(v.Params[i].Color)
		}
	case MiniProgramPage:
		n = len(v.Title) + len(v.PagePath) + len(v.ThumbMediaID) + len(v.PicURL)
	}
	return n
}

// sizeHint estimates the encoded size so Encode allocates once: the
// strings, the fixed keys, and an eighth more for escapes.
func sizeHint(m Message) int {
	n := minSize(m)
	switch v := m.(type) {
	case Product:
		n += 40 + 64*len(v.Params)
	case MiniProgramPage:
		n += 64
	}
	return 64 + n + n/8
}

const hexDigits = "0123456789abcdef"

// appendString appends s as JSON.stringify quotes it. s must be valid UTF-8
// (Validate guarantees it), so only ASCII needs escaping.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\b':
			dst = append(dst, '\\', 'b')
		case '\f':
			dst = append(dst, '\\', 'f')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		start = i + 1
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
