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

func (d *decoder) product() (Message, error) {
	const typ = TypeProduct
	if err := d.object(typ, "content"); err != nil {
		return nil, err
	}
	var (
		p    Product
		seen [4]bool
	)
	for first := true; ; first = false {
		key, ok, err := d.member(first)
		if err != nil {
			return nil, err
		}
		if !ok {
			return p, nil
		}
		i := lookup(key, []string{"name", "url", "imgUrl", "params"})
		if i < 0 {
			return nil, unknownKey(typ, key)
		}
		if seen[i] {
			return nil, invalid(typ, string(key), "appears twice")
		}
		seen[i] = true
		switch i {
		case 0:
			p.Name, err = d.str(typ, "name")
		case 1:
			p.URL, err = d.str(typ, "url")
		case 2:
			p.ImgURL, err = d.str(typ, "imgUrl")
		case 3:
			p.Params, err = d.params()
		}
		if err != nil {
			return nil, err
		}
	}
}

func (d *decoder) params() ([]ProductParam, error) {
	const typ = TypeProduct
	k, err := d.next()
	if err != nil {
		return nil, err
	}
	if k != '[' {
		return nil, invalid(typ, "params", "must be an array, not "+kindName(k))
	}
	// Counting first (a syntax check that allocates nothing) sizes the
	// slice once: appending would allocate about twice as much.
	n, err := d.count()
	if err != nil {
		return nil, err
	}
	var params []ProductParam // an empty array decodes as nil
	if n > 0 {
		params = make([]ProductParam, n)
	}
	if err := d.open(); err != nil {
		return nil, err
	}
	for i := range params {
		if _, err := d.more(']', i == 0); err != nil {
			return nil, err
		}
		if err := d.param(&params[i], i); err != nil {
			return nil, err
		}
	}
	if _, err := d.more(']', n == 0); err != nil {
		return nil, err
	}
	return params, nil
}

// param reads params[i]. Its errors name fields relative to the param;
// the prefix is added only on error, so a valid param allocates no names.
func (d *decoder) param(pp *ProductParam, i int) (err error) {
	const typ = TypeProduct
	defer func() {
		if ve, ok := err.(*ValidationError); ok {
			name := "params[" + strconv.Itoa(i) + "]"
			if ve.Field != "" {
				name += "." + ve.Field
			}
			ve.Field = name
		}
	}()
	if err := d.object(typ, ""); err != nil {
		return err
	}
	var seen [5]bool
	for first := true; ; first = false {
		key, ok, err := d.member(first)
		if err != nil || !ok {
			return err
		}
		i := lookup(key, []string{"text", "color", "fold", "break", "size"})
		if i < 0 {
			return unknownKey(typ, key)
		}
		if seen[i] {
			return invalid(typ, string(key), "appears twice")
		}
		seen[i] = true
		switch i {
		case 0:
			pp.Text, err = d.str(typ, "text")
		case 1:
			pp.Color, err = d.str(typ, "color")
		case 2:
			pp.Fold, err = d.boolean(typ, "fold")
		case 3:
			pp.Break, err = d.boolean(typ, "break")
		case 4:
			pp.Size, err = d.size("size")
		}
		if err != nil {
			return err
		}
	}
}

// size reads a param's font size: an integer from 1 to MaxParamSize.
func (d *decoder) size(field string) (int, error) {
	bad := invalid(TypeProduct, field, "must be an integer from 1 to "+strconv.Itoa(MaxParamSize))
	k, err := d.next()
	if err != nil {
		return 0, err
	}
	if k != '0' {
		return 0, bad
	}
	num, err := d.number()
	if err != nil {
		return 0, err
	}
	n := 0
	for _, c := range num {
		if c < '0' || c > '9' || n > MaxParamSize {
			return 0, bad
		}
		n = n*10 + int(c-'0')
	}
	if n < 1 || n > MaxParamSize {
		return 0, bad
	}
	return n, nil
}

func (d *decoder) miniProgramPage() (Message, error) {
	const typ = TypeMiniProgramPage
	if err := d.object(typ, "content"); err != nil {
		return nil, err
	}
	var (
		p    MiniProgramPage
		seen [4]bool
	)
	for first := true; ; first = false {
		key, ok, err := d.member(first)
		if err != nil {
			return nil, err
		}
		if !ok {
			return p, nil
		}
		i := lookup(key, []string{"title", "pagepath", "thumb_media_id", "pic_url"})
		if i < 0 {
			return nil, unknownKey(typ, key)
		}
		if seen[i] {
			return nil, invalid(typ, string(key), "appears twice")
		}
		seen[i] = true
		switch i {
		case 0:
			p.Title, err = d.str(typ, "title")
		case 1:
			p.PagePath, err = d.str(typ, "pagepath")
		case 2:
			p.ThumbMediaID, err = d.str(typ, "thumb_media_id")
		case 3:
			p.PicURL, err = d.str(typ, "pic_url")
		}
		if err != nil {
			return nil, err
		}
	}
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
