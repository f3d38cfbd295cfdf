package assistant

import (
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Wire types of the four messages, as they appear in the "type" field.
const (
	TypeText            = "text"
	TypeRich            = "rich"
	TypeProduct         = "product"
	TypeMiniProgramPage = "miniprogrampage"
)

// Method is the only method the host accepts.
const Method = "sendMsg"

// Message is one message a component asks the host to send to the customer.
//
// It is implemented by [Text], [Rich], [Product] and [MiniProgramPage] (and
// pointers to them); the set is closed because [Encode] must know each wire
// shape exactly.
type Message interface {
	// Type returns the wire type, such as "text".
	Type() string
	// Validate reports the first rule the message breaks, as a
	// *ValidationError, or nil.
	Validate() error

	appendContent(dst []byte) []byte // sealed: only this package's types
}

// ErrInvalid is matched (errors.Is) by every error about a malformed
// message: a broken validation rule, or wire data Decode cannot accept.
var ErrInvalid = errors.New("assistant: invalid message")

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

func invalid(typ, field, rule string) error {
	return &ValidationError{Type: typ, Field: field, Rule: rule}
}

// Encode validates m and returns the exact string the vendor's JavaScript
// would post for it:
//
//	{"method":"sendMsg","type":"text","content":"hi"}
//
// The bytes are those of JSON.stringify for the same object: keys in the
// vendor's order, unset optional fields omitted, no escaping of <, >, & or
// U+2028/U+2029. An invalid message returns its *ValidationError.
func Encode(m Message) ([]byte, error) {
	return AppendEncode(make([]byte, 0, sizeHint(m)), m)
}

// sizeHint estimates the encoded size so Encode allocates once: field
// lengths, the fixed keys, and an eighth more for escapes.
func sizeHint(m Message) int {
	n := 0
	switch v := m.(type) {
	case Text:
		n = len(v.Content)
	case Rich:
		n = len(v.HTML)
	case Product:
		n = len(v.Name) + len(v.URL) + len(v.ImgURL) + 40
		for i := range v.Params {
			n += len(v.Params[i].Text) + len(v.Params[i].Color) + 64
		}
	case MiniProgramPage:
		n = len(v.Title) + len(v.PagePath) + len(v.ThumbMediaID) + len(v.PicURL) + 64
	}
	return 64 + n + n/8
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
	dst = append(dst, `{"method":"sendMsg","type":"`...)
	dst = append(dst, m.Type()...)
	dst = append(dst, `","content":`...)
	dst = m.appendContent(dst)
	return append(dst, '}'), nil
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

// Character classes for validation.
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

// checkHTTPURL reports the rule s breaks as an absolute http(s) URL.
func checkHTTPURL(s string) string {
	if r := checkChars(s, singleLine); r != "" {
		return r
	}
	rest, ok := cutPrefixFold(s, "https://")
	if !ok {
		rest, ok = cutPrefixFold(s, "http://")
	}
	if !ok {
		return "must be an absolute http or https URL"
	}
	host, _, _ := strings.Cut(rest, "/")
	host, _, _ = strings.Cut(host, "?")
	host, _, _ = strings.Cut(host, "#")
	if strings.Contains(host, "@") {
		// http://trusted.example@evil.example reads as trusted but is not.
		return "must not contain user info (@)"
	}
	if host == "" || strings.ContainsAny(host, " \\") {
		return "must be an absolute http or https URL with a host"
	}
	return ""
}

// checkPath reports the rule s breaks as a mini-program page path such as
// "pages/index/index?foo=bar": relative to the mini program, so no scheme
// (which rules out javascript: and data: URLs) and no //host.
func checkPath(s string) string {
	if r := checkChars(s, singleLine); r != "" {
		return r
	}
	if strings.HasPrefix(s, "//") || strings.HasPrefix(s, `\`) {
		return "must be a path, not a network address"
	}
	end := strings.IndexAny(s, "/?#")
	if end < 0 {
		end = len(s)
	}
	if strings.Contains(s[:end], ":") {
		return "must be a path without a scheme"
	}
	if strings.ContainsAny(s, " ") {
		return "must not contain spaces"
	}
	return ""
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}

// Decode parses one wire string, as the host receives it, into a Text,
// Rich, Product or MiniProgramPage value, and validates it.
//
// It is strict and treats data as hostile: invalid UTF-8, malformed JSON,
// trailing data, duplicate or unknown keys, null, wrongly typed fields
// (such as "fold":"true"), a method other than "sendMsg", an unknown type
// and any broken validation rule are errors matching [ErrInvalid] (a
// *SyntaxError or a *ValidationError). An empty "params" array decodes as
// nil. Decode never panics.
func Decode(data []byte) (Message, error) {
	if !utf8.Valid(data) {
		return nil, &SyntaxError{Offset: invalidUTF8Offset(data), Msg: "invalid UTF-8"}
	}
	p := parser{data: data}
	v, err := p.document()
	if err != nil {
		return nil, err
	}
	obj, err := v.object("", "message")
	if err != nil {
		return nil, err
	}
	var method, typ, content *jsonValue
	if err := obj.fields("", map[string]**jsonValue{"method": &method, "type": &typ, "content": &content}); err != nil {
		return nil, err
	}
	if method == nil {
		return nil, invalid("", "method", "is required")
	}
	if s, err := method.str("", "method"); err != nil {
		return nil, err
	} else if s != Method {
		return nil, invalid("", "method", `must be "sendMsg"`)
	}
	if typ == nil {
		return nil, invalid("", "type", "is required")
	}
	t, err := typ.str("", "type")
	if err != nil {
		return nil, err
	}
	if content == nil {
		if t != TypeText && t != TypeRich && t != TypeProduct && t != TypeMiniProgramPage {
			return nil, invalid("", "type", "must be one of text, rich, product, miniprogrampage")
		}
		return nil, invalid(t, "content", "is required")
	}
	var m Message
	switch t {
	case TypeText:
		s, err := content.str(t, "content")
		if err != nil {
			return nil, err
		}
		m = Text{Content: s}
	case TypeRich:
		s, err := content.str(t, "content")
		if err != nil {
			return nil, err
		}
		m = Rich{HTML: s}
	case TypeProduct:
		m, err = decodeProduct(content)
	case TypeMiniProgramPage:
		m, err = decodeMiniProgramPage(content)
	default:
		return nil, invalid("", "type", "must be one of text, rich, product, miniprogrampage")
	}
	if err != nil {
		return nil, err
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return m, nil
}

func decodeProduct(v *jsonValue) (Message, error) {
	const typ = TypeProduct
	obj, err := v.object(typ, "content")
	if err != nil {
		return nil, err
	}
	var name, url, img, params *jsonValue
	if err := obj.fields(typ, map[string]**jsonValue{"name": &name, "url": &url, "imgUrl": &img, "params": &params}); err != nil {
		return nil, err
	}
	var p Product
	if p.Name, err = name.optStr(typ, "name"); err != nil {
		return nil, err
	}
	if p.URL, err = url.optStr(typ, "url"); err != nil {
		return nil, err
	}
	if p.ImgURL, err = img.optStr(typ, "imgUrl"); err != nil {
		return nil, err
	}
	if params == nil {
		return p, nil
	}
	if params.kind != '[' {
		return nil, invalid(typ, "params", "must be an array")
	}
	for i := range params.elems {
		pp, err := decodeParam(&params.elems[i], "params["+strconv.Itoa(i)+"].")
		if err != nil {
			return nil, err
		}
		p.Params = append(p.Params, pp)
	}
	return p, nil
}

func decodeParam(v *jsonValue, prefix string) (ProductParam, error) {
	const typ = TypeProduct
	var pp ProductParam
	obj, err := v.object(typ, prefix[:len(prefix)-1])
	if err != nil {
		return pp, err
	}
	var text, color, fold, brk, size *jsonValue
	if err := obj.fields(typ, map[string]**jsonValue{"text": &text, "color": &color, "fold": &fold, "break": &brk, "size": &size}); err != nil {
		var ve *ValidationError
		if errors.As(err, &ve) {
			ve.Field = prefix + ve.Field
		}
		return pp, err
	}
	if pp.Text, err = text.optStr(typ, prefix+"text"); err != nil {
		return pp, err
	}
	if pp.Color, err = color.optStr(typ, prefix+"color"); err != nil {
		return pp, err
	}
	if pp.Fold, err = fold.optBool(typ, prefix+"fold"); err != nil {
		return pp, err
	}
	if pp.Break, err = brk.optBool(typ, prefix+"break"); err != nil {
		return pp, err
	}
	if size != nil {
		n, err := strconv.Atoi(size.s)
		if size.kind != '0' || err != nil || n < 1 || n > MaxParamSize {
			return pp, invalid(typ, prefix+"size", "must be an integer from 1 to "+strconv.Itoa(MaxParamSize))
		}
		pp.Size = n
	}
	return pp, nil
}

func decodeMiniProgramPage(v *jsonValue) (Message, error) {
	const typ = TypeMiniProgramPage
	obj, err := v.object(typ, "content")
	if err != nil {
		return nil, err
	}
	var title, path, thumb, pic *jsonValue
	if err := obj.fields(typ, map[string]**jsonValue{"title": &title, "pagepath": &path, "thumb_media_id": &thumb, "pic_url": &pic}); err != nil {
		return nil, err
	}
	var p MiniProgramPage
	if p.Title, err = title.optStr(typ, "title"); err != nil {
		return nil, err
	}
	if p.PagePath, err = path.optStr(typ, "pagepath"); err != nil {
		return nil, err
	}
	if p.ThumbMediaID, err = thumb.optStr(typ, "thumb_media_id"); err != nil {
		return nil, err
	}
	if p.PicURL, err = pic.optStr(typ, "pic_url"); err != nil {
		return nil, err
	}
	return p, nil
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

// jsonValue is a parsed JSON value. kind is '{', '[', '"', '0' (number),
// 't'/'f' (booleans) or 'n' (null).
type jsonValue struct {
	kind    byte
	s       string // string value, or number text
	elems   []jsonValue
	members []jsonMember
}

type jsonMember struct {
	key string
	val jsonValue
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

func (v *jsonValue) object(typ, field string) (*jsonValue, error) {
	if v.kind != '{' {
		return nil, invalid(typ, field, "must be an object, not "+kindName(v.kind))
	}
	return v, nil
}

// fields assigns each member to its slot, refusing unknown and duplicate
// keys: a typo such as "imgurl" must not pass as an omitted field.
func (v *jsonValue) fields(typ string, slots map[string]**jsonValue) error {
	for i := range v.members {
		m := &v.members[i]
		slot, ok := slots[m.key]
		if !ok {
			return invalid(typ, strconv.Quote(m.key), "is not a known field")
		}
		if *slot != nil {
			return invalid(typ, m.key, "appears twice")
		}
		*slot = &m.val
	}
	return nil
}

func (v *jsonValue) str(typ, field string) (string, error) {
	if v.kind != '"' {
		return "", invalid(typ, field, "must be a string, not "+kindName(v.kind))
	}
	return v.s, nil
}

func (v *jsonValue) optStr(typ, field string) (string, error) {
	if v == nil {
		return "", nil
	}
	return v.str(typ, field)
}

func (v *jsonValue) optBool(typ, field string) (bool, error) {
	if v == nil {
		return false, nil
	}
	if v.kind != 't' && v.kind != 'f' {
		return false, invalid(typ, field, "must be a boolean, not "+kindName(v.kind))
	}
	return v.kind == 't', nil
}

// maxDepth bounds nesting so hostile input cannot exhaust the stack.
const maxDepth = 16

// parser is a strict RFC 8259 parser over valid UTF-8.
type parser struct {
	data  []byte
	pos   int
	depth int
}

func (p *parser) errorf(msg string) error { return &SyntaxError{Offset: p.pos, Msg: msg} }

func (p *parser) document() (jsonValue, error) {
	v, err := p.value()
	if err != nil {
		return v, err
	}
	p.ws()
	if p.pos != len(p.data) {
		return v, p.errorf("trailing data after the message")
	}
	return v, nil
}

func (p *parser) ws() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *parser) value() (jsonValue, error) {
	p.ws()
	if p.pos >= len(p.data) {
		return jsonValue{}, p.errorf("unexpected end of input")
	}
	switch c := p.data[p.pos]; {
	case c == '{':
		return p.object()
	case c == '[':
		return p.array()
	case c == '"':
		s, err := p.string()
		return jsonValue{kind: '"', s: s}, err
	case c == '-' || '0' <= c && c <= '9':
		return p.number()
	case c == 't':
		return jsonValue{kind: 't'}, p.literal("true")
	case c == 'f':
		return jsonValue{kind: 'f'}, p.literal("false")
	case c == 'n':
		return jsonValue{kind: 'n'}, p.literal("null")
	}
	return jsonValue{}, p.errorf("unexpected character " + strconv.QuoteRuneToASCII(rune(p.data[p.pos])))
}

func (p *parser) literal(word string) error {
	if !strings.HasPrefix(string(p.data[p.pos:min(len(p.data), p.pos+len(word))]), word) {
		return p.errorf("invalid literal")
	}
	p.pos += len(word)
	return nil
}

func (p *parser) enter() error {
	p.depth++
	if p.depth > maxDepth {
		return p.errorf("nested too deeply")
	}
	return nil
}

func (p *parser) object() (jsonValue, error) {
	v := jsonValue{kind: '{'}
	if err := p.enter(); err != nil {
		return v, err
	}
	p.pos++ // {
	p.ws()
	if p.pos < len(p.data) && p.data[p.pos] == '}' {
		p.pos++
		p.depth--
		return v, nil
	}
	for {
		p.ws()
		if p.pos >= len(p.data) || p.data[p.pos] != '"' {
			return v, p.errorf("expected a string key")
		}
		key, err := p.string()
		if err != nil {
			return v, err
		}
		p.ws()
		if p.pos >= len(p.data) || p.data[p.pos] != ':' {
			return v, p.errorf("expected ':' after key")
		}
		p.pos++
		val, err := p.value()
		if err != nil {
			return v, err
		}
		v.members = append(v.members, jsonMember{key: key, val: val})
		p.ws()
		if p.pos >= len(p.data) {
			return v, p.errorf("unexpected end of input in object")
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
		case '}':
			p.pos++
			p.depth--
			return v, nil
		default:
			return v, p.errorf("expected ',' or '}' in object")
		}
	}
}

func (p *parser) array() (jsonValue, error) {
	v := jsonValue{kind: '['}
	if err := p.enter(); err != nil {
		return v, err
	}
	p.pos++ // [
	p.ws()
	if p.pos < len(p.data) && p.data[p.pos] == ']' {
		p.pos++
		p.depth--
		return v, nil
	}
	for {
		val, err := p.value()
		if err != nil {
			return v, err
		}
		v.elems = append(v.elems, val)
		p.ws()
		if p.pos >= len(p.data) {
			return v, p.errorf("unexpected end of input in array")
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
		case ']':
			p.pos++
			p.depth--
			return v, nil
		default:
			return v, p.errorf("expected ',' or ']' in array")
		}
	}
}

func (p *parser) number() (jsonValue, error) {
	start := p.pos
	digits := func() int {
		n := 0
		for p.pos < len(p.data) && '0' <= p.data[p.pos] && p.data[p.pos] <= '9' {
			p.pos++
			n++
		}
		return n
	}
	if p.data[p.pos] == '-' {
		p.pos++
	}
	intStart := p.pos
	if digits() == 0 {
		return jsonValue{}, p.errorf("invalid number")
	}
	if p.data[intStart] == '0' && p.pos-intStart > 1 {
		return jsonValue{}, &SyntaxError{Offset: intStart, Msg: "invalid number: leading zero"}
	}
	if p.pos < len(p.data) && p.data[p.pos] == '.' {
		p.pos++
		if digits() == 0 {
			return jsonValue{}, p.errorf("invalid number")
		}
	}
	if p.pos < len(p.data) && (p.data[p.pos] == 'e' || p.data[p.pos] == 'E') {
		p.pos++
		if p.pos < len(p.data) && (p.data[p.pos] == '+' || p.data[p.pos] == '-') {
			p.pos++
		}
		if digits() == 0 {
			return jsonValue{}, p.errorf("invalid number")
		}
	}
	return jsonValue{kind: '0', s: string(p.data[start:p.pos])}, nil
}

// string parses a JSON string at p.pos. A \u escape of a lone surrogate is
// an error: Go strings cannot hold it and JSON.parse would keep it.
func (p *parser) string() (string, error) {
	p.pos++ // opening quote
	start := p.pos
	// Fast path: no escapes.
	for p.pos < len(p.data) {
		c := p.data[p.pos]
		if c == '"' {
			s := string(p.data[start:p.pos])
			p.pos++
			return s, nil
		}
		if c == '\\' {
			break
		}
		if c < 0x20 {
			return "", p.errorf("control character in string")
		}
		p.pos++
	}
	buf := []byte(string(p.data[start:p.pos]))
	for p.pos < len(p.data) {
		c := p.data[p.pos]
		switch {
		case c == '"':
			p.pos++
			return string(buf), nil
		case c < 0x20:
			return "", p.errorf("control character in string")
		case c != '\\':
			buf = append(buf, c)
			p.pos++
			continue
		}
		if p.pos+1 >= len(p.data) {
			break
		}
		e := p.data[p.pos+1]
		p.pos += 2
		switch e {
		case '"', '\\', '/':
			buf = append(buf, e)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, ok := p.hex4()
			if !ok {
				return "", p.errorf("invalid \\u escape")
			}
			if 0xD800 <= r && r < 0xDC00 {
				if p.pos+1 < len(p.data) && p.data[p.pos] == '\\' && p.data[p.pos+1] == 'u' {
					p.pos += 2
					r2, ok := p.hex4()
					if ok && 0xDC00 <= r2 && r2 < 0xE000 {
						buf = utf8.AppendRune(buf, (r-0xD800)<<10+(r2-0xDC00)+0x10000)
						continue
					}
				}
				return "", p.errorf("lone UTF-16 surrogate in \\u escape")
			}
			if 0xDC00 <= r && r < 0xE000 {
				return "", p.errorf("lone UTF-16 surrogate in \\u escape")
			}
			buf = utf8.AppendRune(buf, r)
		default:
			return "", p.errorf("invalid escape")
		}
	}
	return "", p.errorf("unterminated string")
}

func (p *parser) hex4() (rune, bool) {
	if p.pos+4 > len(p.data) {
		return 0, false
	}
	var r rune
	for _, c := range p.data[p.pos : p.pos+4] {
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
	p.pos += 4
	return r, true
}
