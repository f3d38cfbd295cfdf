package assistant

import (
	"strconv"
	"unicode/utf8"
)

// Decode parses one wire string, as the host receives it, into a Text,
// Rich, Product or MiniProgramPage value, and validates it.
//
// It is strict and treats data as hostile: input longer than
// [MaxMessageSize] (a *TooLargeError, before any parsing), invalid UTF-8,
// malformed JSON, trailing data, duplicate or unknown keys, null, wrongly
// typed fields (such as "fold":"true"), a method other than "sendMsg", an
// unknown type and any broken validation rule are errors matching
// [ErrInvalid] (a *TooLargeError, *SyntaxError or *ValidationError). An
// empty "params" array decodes as nil.
//
// Decode checks the input as it reads it, without building a tree, and
// stops at the first key or shape a message cannot have, so it allocates
// at most a small multiple of len(data) (under 4× in the worst case, a
// product with many tiny params), whatever the input. It never panics.
func Decode(data []byte) (Message, error) {
	if len(data) > MaxMessageSize {
		return nil, &TooLargeError{Size: len(data)}
	}
	if !utf8.Valid(data) {
		return nil, &SyntaxError{Offset: invalidUTF8Offset(data), Msg: "invalid UTF-8"}
	}
	d := decoder{scanner: scanner{data: data}}
	m, err := d.message()
	if err != nil {
		return nil, err
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return m, nil
}

type decoder struct {
	scanner
}

// lookup returns the index of key in names, or -1.
func lookup(key []byte, names []string) int {
	for i, n := range names {
		if string(key) == n {
			return i
		}
	}
	return -1
}

// unknownKey refuses key, quoting at most 64 bytes of it so the error
// stays small whatever the input.
func unknownKey(typ string, key []byte) error {
	if len(key) > 64 {
		key = key[:64]
		for len(key) > 0 && !utf8.Valid(key) {
			key = key[:len(key)-1]
		}
		return invalid(typ, strconv.Quote(string(key))+"…", "is not a known field")
	}
	return invalid(typ, strconv.Quote(string(key)), "is not a known field")
}

// object expects an object where field is and opens it.
func (d *decoder) object(typ, field string) error {
	k, err := d.next()
	if err != nil {
		return err
	}
	if k != '{' {
		return invalid(typ, field, "must be an object, not "+kindName(k))
	}
	return d.open()
}

func (d *decoder) message() (Message, error) {
	if k, err := d.next(); err == nil && k != '{' {
		// Not a message: but if it is not JSON either, say that. The
		// check allocates nothing.
		start := d.pos
		if err := d.skip(); err != nil {
			return nil, err
		}
		if err := d.end(); err != nil {
			return nil, err
		}
		d.pos = start
	}
	if err := d.object("", "message"); err != nil {
		return nil, err
	}
	var (
		seen    [3]bool // method, type, content
		typ     string
		m       Message
		content = -1 // offset of a content seen before the type
	)
	for first := true; ; first = false {
		key, ok, err := d.member(first)
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		i := lookup(key, []string{"method", "type", "content"})
		if i < 0 {
			return nil, unknownKey("", key)
		}
		if seen[i] {
			return nil, invalid("", string(key), "appears twice")
		}
		seen[i] = true
		switch i {
		case 0:
			b, err := d.strBytes("", "method")
			if err != nil {
				return nil, err
			}
			if string(b) != Method {
				return nil, invalid("", "method", `must be "sendMsg"`)
			}
		case 1:
			b, err := d.strBytes("", "type")
			if err != nil {
				return nil, err
			}
			types := []string{TypeText, TypeRich, TypeProduct, TypeMiniProgramPage}
			j := lookup(b, types)
			if j < 0 {
				return nil, invalid("", "type", "must be one of text, rich, product, miniprogrampage")
			}
			typ = types[j]
		case 2:
			if typ == "" {
				// Its shape depends on the type: check its syntax now,
				// read it once the type is known.
				d.ws()
				content = d.pos
				if err := d.skip(); err != nil {
					return nil, err
				}
				continue
			}
			if m, err = d.content(typ); err != nil {
				return nil, err
			}
		}
	}
	if err := d.end(); err != nil {
		return nil, err
	}
	switch {
	case !seen[0]:
		return nil, invalid("", "method", "is required")
	case !seen[1]:
		return nil, invalid("", "type", "is required")
	case !seen[2]:
		return nil, invalid(typ, "content", "is required")
	}
	if content >= 0 {
		d.pos = content
		return d.content(typ)
	}
	return m, nil
}

// str reads a string where field is.
func (d *decoder) str(typ, field string) (string, error) {
	k, err := d.next()
	if err != nil {
		return "", err
	}
	if k != '"' {
		return "", invalid(typ, field, "must be a string, not "+kindName(k))
	}
	return d.scanner.str()
}

// strBytes reads a string where field is, without allocating: the bytes
// are valid until the next read.
func (d *decoder) strBytes(typ, field string) ([]byte, error) {
	k, err := d.next()
	if err != nil {
		return nil, err
	}
	if k != '"' {
		return nil, invalid(typ, field, "must be a string, not "+kindName(k))
	}
	start, end, escaped, err := d.scanString()
	if err != nil || !escaped {
		return d.data[start:end], err
	}
	d.key = unescape(d.key[:0], d.data[start:end])
	return d.key, nil
}

// boolean reads a boolean where field is.
func (d *decoder) boolean(typ, field string) (bool, error) {
	k, err := d.next()
	if err != nil {
		return false, err
	}
	if k != 't' && k != 'f' {
		return false, invalid(typ, field, "must be a boolean, not "+kindName(k))
	}
	return k == 't', d.literal()
}

func (d *decoder) content(typ string) (Message, error) {
	switch typ {
	case TypeText:
		s, err := d.str(typ, "content")
		return Text{Content: s}, err
	case TypeRich:
		s, err := d.str(typ, "content")
		return Rich{HTML: s}, err
	case TypeProduct:
		return d.product()
	}
	return d.miniProgramPage()
}

func invalidUTF8Offset(data []byte) int {
	for i := 0; i < len(data); {
		r, n := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return len(data)
}
