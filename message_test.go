package assistant

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

// seedCases are the six payloads of the vendor page, built with the API,
// and the vendor's JavaScript literal for each. The literals drop the
// explicit fold: false / break: false of the seed: false is the default
// and the encoder omits unset fields (PROTOCOL.md).
var seedCases = []struct {
	name string
	msg  Message
	js   string
}{
	{"text", NewText("xxx"), `{method: "sendMsg", type: "text", content: "xxx"}`},
	{"rich", NewRich("<p style='font-size:18px'>hello world</p>"),
		`{method: "sendMsg", type: "rich", content: "<p style='font-size:18px'>hello world</p>"}`},
	{"rich-miniprogram-link", NewRich("<a data-miniprogram-path='/path/navigate/to'>Jump to another page in Mini Program</a>"),
		`{method: "sendMsg", type: "rich", content: "<a data-miniprogram-path='/path/navigate/to'>Jump to another page in Mini Program</a>"}`},
	{"product", NewProduct("Apple iPhone X (A1903) 64GB Space Gray Mobile Unicom 4G Phone",
		"https://item.jd.com/6748052.html",
		"http://img12.360buyimg.com/n1/s450x450_jfs/t10675/253/1344769770/66891/92d54ca4/59df2e7fN86c99a27.jpg",
		ProductParam{Text: "¥6999.00", Color: "#FF0000", Size: 12},
		ProductParam{Text: "Additional ¥30 for orders over ¥1999"}),
		`{method: "sendMsg", type: "product", content: {
			name: "Apple iPhone X (A1903) 64GB Space Gray Mobile Unicom 4G Phone",
			url: "https://item.jd.com/6748052.html",
			imgUrl: "http://img12.360buyimg.com/n1/s450x450_jfs/t10675/253/1344769770/66891/92d54ca4/59df2e7fN86c99a27.jpg",
			params: [{text: "¥6999.00", color: "#FF0000", size: 12}, {text: "Additional ¥30 for orders over ¥1999"}]}}`},
	{"product-path", NewProduct("Apple iPhone X (A1903) 64GB Space Gray Mobile Unicom 4G Phone",
		"/pages/product/detail",
		"http://img12.360buyimg.com/n1/s450x450_jfs/t10675/253/1344769770/66891/92d54ca4/59df2e7fN86c99a27.jpg",
		ProductParam{Text: "¥6999.00", Color: "#FF0000", Size: 12},
		ProductParam{Text: "Additional ¥30 for orders over ¥1999"}),
		`{method: "sendMsg", type: "product", content: {
			name: "Apple iPhone X (A1903) 64GB Space Gray Mobile Unicom 4G Phone",
			url: "/pages/product/detail",
			imgUrl: "http://img12.360buyimg.com/n1/s450x450_jfs/t10675/253/1344769770/66891/92d54ca4/59df2e7fN86c99a27.jpg",
			params: [{text: "¥6999.00", color: "#FF0000", size: 12}, {text: "Additional ¥30 for orders over ¥1999"}]}}`},
	{"miniprogrampage", MiniProgramPage{Title: "title", PagePath: "pagepath", ThumbMediaID: "thumb_media_id", PicURL: "http://img12.360buyimg.com/n1/xxx.jpg"},
		`{method: "sendMsg", type: "miniprogrampage", content: {title: "title", pagepath: "pagepath",
			thumb_media_id: "thumb_media_id", pic_url: "http://img12.360buyimg.com/n1/xxx.jpg"}}`},
}

// goldenSeed is what node printed for the literals above; the test checks
// it still does, so both the bytes and their origin are pinned.
var goldenSeed = map[string]string{
	"text":                  `{"method":"sendMsg","type":"text","content":"xxx"}`,
	"rich":                  `{"method":"sendMsg","type":"rich","content":"<p style='font-size:18px'>hello world</p>"}`,
	"rich-miniprogram-link": `{"method":"sendMsg","type":"rich","content":"<a data-miniprogram-path='/path/navigate/to'>Jump to another page in Mini Program</a>"}`,
	"product":               `{"method":"sendMsg","type":"product","content":{"name":"Apple iPhone X (A1903) 64GB Space Gray Mobile Unicom 4G Phone","url":"https://item.jd.com/6748052.html","imgUrl":"http://img12.360buyimg.com/n1/s450x450_jfs/t10675/253/1344769770/66891/92d54ca4/59df2e7fN86c99a27.jpg","params":[{"text":"¥6999.00","color":"#FF0000","size":12},{"text":"Additional ¥30 for orders over ¥1999"}]}}`,
	"product-path":          `{"method":"sendMsg","type":"product","content":{"name":"Apple iPhone X (A1903) 64GB Space Gray Mobile Unicom 4G Phone","url":"/pages/product/detail","imgUrl":"http://img12.360buyimg.com/n1/s450x450_jfs/t10675/253/1344769770/66891/92d54ca4/59df2e7fN86c99a27.jpg","params":[{"text":"¥6999.00","color":"#FF0000","size":12},{"text":"Additional ¥30 for orders over ¥1999"}]}}`,
	"miniprogrampage":       `{"method":"sendMsg","type":"miniprogrampage","content":{"title":"title","pagepath":"pagepath","thumb_media_id":"thumb_media_id","pic_url":"http://img12.360buyimg.com/n1/xxx.jpg"}}`,
}

func TestEncodeSeedGolden(t *testing.T) {
	for _, c := range seedCases {
		got, err := Encode(c.msg)
		if err != nil {
			t.Fatalf("%s: Encode: %v", c.name, err)
		}
		if string(got) != goldenSeed[c.name] {
			t.Errorf("%s:\n got %s\nwant %s", c.name, got, goldenSeed[c.name])
		}
	}
}

func TestEncodeSeedMatchesNode(t *testing.T) {
	var src []string
	for _, c := range seedCases {
		src = append(src, c.js)
	}
	out := nodeEval(t, `s => JSON.stringify((0, eval)('(' + s + ')'))`, src)
	for i, c := range seedCases {
		got, err := Encode(c.msg)
		if err != nil {
			t.Fatalf("%s: Encode: %v", c.name, err)
		}
		if string(got) != out[i] {
			t.Errorf("%s: Go and JSON.stringify differ:\n   go %s\n node %s", c.name, got, out[i])
		}
	}
}

// randString returns strings that trip encoders: quotes, backslashes,
// control characters (where allowed), HTML, U+2028/9, emoji, non-BMP.
func randString(r *rand.Rand, allowed func(rune) bool) string {
	pool := []string{"a", "Z", "0", " ", `"`, `\`, "/", "<", ">", "&", "'", "\u2028", "\u2029", "😀", "¥", "é", "中",
		"\U0001F600", "\ufeff", "\u00a0", "</script>", "<!--", "\x7e", "%", "?", "=", "#"}
	for c := rune(0); c < 0x20; c++ {
		pool = append(pool, string(c))
	}
	pool = append(pool, "\x7f", "\u0085")
	var b strings.Builder
	for n := 1 + r.IntN(12); b.Len() == 0 || n > 0; n-- {
		s := pool[r.IntN(len(pool))]
		if r0, _ := utf8.DecodeRuneInString(s); allowed(r0) {
			b.WriteString(s)
		}
	}
	return b.String()
}

func prose(c rune) bool {
	return c >= 0x20 && c != 0x7f && !(c >= 0x80 && c <= 0x9f) || c == '\t' || c == '\n' || c == '\r'
}
func line(c rune) bool { return c >= 0x20 && c != 0x7f && !(c >= 0x80 && c <= 0x9f) }
func pathChar(c rune) bool {
	return line(c) && c != ' ' && c != ':' && c != '\\' && c != '/'
}

// randMessage returns a random valid message.
func randMessage(r *rand.Rand) Message {
	switch r.IntN(4) {
	case 0:
		return NewText(randString(r, prose))
	case 1:
		return NewRich(`<p title="` + EscapeHTML(randString(r, line)) + `">` + randString(r, prose) + "</p>" +
			MiniProgramLink("pages/"+randString(r, pathChar), randString(r, line)))
	case 2:
		p := Product{Name: randString(r, line), ImgURL: "https://img.example.com/" + randString(r, pathChar)}
		switch r.IntN(3) {
		case 1:
			p.URL = "https://shop.example.com/item?q=" + randString(r, pathChar)
		case 2:
			p.URL = "/pages/" + randString(r, pathChar)
		}
		for range r.IntN(4) {
			pp := ProductParam{Text: randString(r, line), Fold: r.IntN(2) == 0, Break: r.IntN(2) == 0}
			if r.IntN(2) == 0 {
				pp.Color = fmt.Sprintf("#%06X", r.IntN(1<<24))
			}
			if r.IntN(2) == 0 {
				pp.Size = 1 + r.IntN(MaxParamSize)
			}
			p.Params = append(p.Params, pp)
		}
		return p
	default:
		p := MiniProgramPage{Title: randString(r, line), PagePath: "pages/" + randString(r, pathChar)}
		if r.IntN(2) == 0 {
			p.ThumbMediaID = randString(r, line)
		}
		if p.ThumbMediaID == "" || r.IntN(2) == 0 {
			p.PicURL = "http://img.example.com/" + randString(r, pathChar)
		}
		return p
	}
}

func TestEncodeMatchesNodeRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var wires []string
	for range 2000 {
		m := randMessage(r)
		w, err := Encode(m)
		if err != nil {
			t.Fatalf("Encode(%#v): %v", m, err)
		}
		wires = append(wires, string(w))
	}
	out := nodeEval(t, `s => JSON.stringify(JSON.parse(s))`, wires)
	for i := range wires {
		if wires[i] != out[i] {
			t.Errorf("Go and JSON.stringify differ:\n   go %q\n node %q", wires[i], out[i])
		}
	}
}

// TestAppendStringMatchesNode covers what validation keeps out of messages
// (every control character), so the encoder itself is right for them.
func TestAppendStringMatchesNode(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var in []string
	for c := 0; c < 0x80; c++ {
		in = append(in, string(rune(c)))
	}
	for range 500 {
		in = append(in, randString(r, func(rune) bool { return true }))
	}
	out := nodeEval(t, `s => JSON.stringify(s)`, in)
	for i, s := range in {
		if got := string(appendString(nil, s)); got != out[i] {
			t.Errorf("appendString(%q) = %s, JSON.stringify = %s", s, got, out[i])
		}
	}
}

func TestRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	msgs := []Message{}
	for _, c := range seedCases {
		msgs = append(msgs, c.msg)
	}
	for range 2000 {
		msgs = append(msgs, randMessage(r))
	}
	for _, m := range msgs {
		w, err := Encode(m)
		if err != nil {
			t.Fatalf("Encode(%#v): %v", m, err)
		}
		got, err := Decode(w)
		if err != nil {
			t.Fatalf("Decode(%s): %v", w, err)
		}
		if diff := cmp.Diff(m, got); diff != "" {
			t.Fatalf("round trip of %s (-want +got):\n%s", w, diff)
		}
	}
}

func TestEncodePointersAndNil(t *testing.T) {
	w, err := Encode(&Text{Content: "hi"})
	if err != nil || string(w) != `{"method":"sendMsg","type":"text","content":"hi"}` {
		t.Errorf("Encode(&Text) = %s, %v", w, err)
	}
	for _, m := range []Message{nil, (*Text)(nil), (*Rich)(nil), (*Product)(nil), (*MiniProgramPage)(nil)} {
		if _, err := Encode(m); !errors.Is(err, ErrInvalid) {
			t.Errorf("Encode(%#v) = %v, want ErrInvalid", m, err)
		}
	}
	dst := []byte("keep")
	got, err := AppendEncode(dst, Text{})
	if err == nil || string(got) != "keep" {
		t.Errorf("AppendEncode of invalid = %q, %v; want dst unchanged and an error", got, err)
	}
}

func TestDecodeErrors(t *testing.T) {
	const (
		syntax = "syntax"
	)
	tests := []struct {
		in          string
		typ, field  string // want a *ValidationError with these, or
		wantSyntax  bool   // a *SyntaxError
		ruleContain string
	}{
		{in: ``, wantSyntax: true},
		{in: `   `, wantSyntax: true},
		{in: `{`, wantSyntax: true},
		{in: `{"method":"sendMsg","type":"text","content":"a"} x`, wantSyntax: true},
		{in: `{"method":"sendMsg","type":"text","content":"a"}{}`, wantSyntax: true},
		{in: "{\"method\":\"sendMsg\",\"type\":\"text\",\"content\":\"\xff\"}", wantSyntax: true},
		{in: `{"method":"sendMsg","type":"text","content":"\ud800"}`, wantSyntax: true},
		{in: `{"method":"sendMsg","type":"text","content":"\udc00\ud800"}`, wantSyntax: true},
		{in: `{"method":"sendMsg","type":"text","content":"a` + "\n" + `"}`, wantSyntax: true},
		{in: `{"method":"sendMsg","type":"text","content":"\x"}`, wantSyntax: true},
		{in: `{"method":"sendMsg","type":"text","content":"a",}`, wantSyntax: true},
		{in: `{'method':'sendMsg'}`, wantSyntax: true},
		{in: `{"method":"sendMsg","type":"product","content":{"name":"n","imgUrl":"http://a/b","params":[{"text":"t","size":012}]}}`, wantSyntax: true},
		{in: strings.Repeat("[", 100) + strings.Repeat("]", 100), wantSyntax: true},
		{in: `"text"`, field: "message", ruleContain: "object"},
		{in: `[]`, field: "message", ruleContain: "object"},
		{in: `{}`, field: "method", ruleContain: "required"},
		{in: `{"method":"send","type":"text","content":"a"}`, field: "method", ruleContain: "sendMsg"},
		{in: `{"method":null,"type":"text","content":"a"}`, field: "method", ruleContain: "string"},
		{in: `{"method":"sendMsg","content":"a"}`, field: "type", ruleContain: "required"},
		{in: `{"method":"sendMsg","type":"video","content":"a"}`, field: "type", ruleContain: "one of"},
		{in: `{"method":"sendMsg","type":"text"}`, typ: "text", field: "content", ruleContain: "required"},
		{in: `{"method":"sendMsg","type":"text","content":""}`, typ: "text", field: "content", ruleContain: "required"},
		{in: `{"method":"sendMsg","type":"text","content":42}`, typ: "text", field: "content", ruleContain: "string"},
		{in: `{"method":"sendMsg","type":"text","content":"a","extra":1}`, field: `"extra"`, ruleContain: "not a known field"},
		{in: `{"method":"sendMsg","type":"text","type":"rich","content":"a"}`, field: "type", ruleContain: "twice"},
		{in: `{"method":"sendMsg","type":"rich","content":{"html":"a"}}`, typ: "rich", field: "content", ruleContain: "string"},
		{in: `{"method":"sendMsg","type":"product","content":"x"}`, typ: "product", field: "content", ruleContain: "object"},
		{in: `{"method":"sendMsg","type":"product","content":{"imgUrl":"http://a/b"}}`, typ: "product", field: "name", ruleContain: "required"},
		{in: `{"method":"sendMsg","type":"product","content":{"name":"n","imgurl":"http://a/b"}}`, typ: "product", field: `"imgurl"`, ruleContain: "not a known field"},
		{in: `{"method":"sendMsg","type":"product","content":{"name":"n","imgUrl":"http://a/b","params":{}}}`, typ: "product", field: "params", ruleContain: "array"},
		{in: `{"method":"sendMsg","type":"product","content":{"name":"n","imgUrl":"http://a/b","params":["t"]}}`, typ: "product", field: "params[0]", ruleContain: "object"},
		{in: `{"method":"sendMsg","type":"product","content":{"name":"n","imgUrl":"http://a/b","params":[{"text":"t","fold":"true"}]}}`, typ: "product", field: "params[0].fold", ruleContain: "boolean"},
		{in: `{"method":"sendMsg","type":"product","content":{"name":"n","imgUrl":"http://a/b","params":[{"text":"t","break":1}]}}`, typ: "product", field: "params[0].break", ruleContain: "boolean"},
		{in: `{"method":"sendMsg","type":"product","content":{"name":"n","imgUrl":"http://a/b","params":[{"text":"t","size":"12"}]}}`, typ: "product", field: "params[0].size", ruleContain: "integer"},
		{in: `{"method":"sendMsg","type":"product","content":{"name":"n","imgUrl":"http://a/b","params":[{"text":"t","size":12.5}]}}`, typ: "product", field: "params[0].size", ruleContain: "integer"},
		{in: `{"method":"sendMsg","type":"product","content":{"name":"n","imgUrl":"http://a/b","params":[{"text":"t","size":0}]}}`, typ: "product", field: "params[0].size", ruleContain: "integer"},
		{in: `{"method":"sendMsg","type":"product","content":{"name":"n","imgUrl":"http://a/b","params":[{"text":"t","size":1e400}]}}`, typ: "product", field: "params[0].size", ruleContain: "integer"},
		{in: `{"method":"sendMsg","type":"product","content":{"name":"n","imgUrl":"http://a/b","params":[{"text":"t","text":"u"}]}}`, typ: "product", field: "params[0].text", ruleContain: "twice"},
		{in: `{"method":"sendMsg","type":"product","content":{"name":"n","imgUrl":"http://a/b","params":[{"text":"t","bold":true}]}}`, typ: "product", field: `params[0]."bold"`, ruleContain: "not a known field"},
		{in: `{"method":"sendMsg","type":"product","content":{"name":"n","imgUrl":"http://a/b","params":[{"text":""}]}}`, typ: "product", field: "params[0].text", ruleContain: "required"},
		{in: `{"method":"sendMsg","type":"miniprogrampage","content":{"title":"t","pagepath":"p"}}`, typ: "miniprogrampage", field: "thumb_media_id", ruleContain: "pic_url"},
		{in: `{"method":"sendMsg","type":"miniprogrampage","content":{"title":"t","pagepath":"p","pic_url":null}}`, typ: "miniprogrampage", field: "pic_url", ruleContain: "string"},
	}
	for _, tt := range tests {
		m, err := Decode([]byte(tt.in))
		if m != nil || !errors.Is(err, ErrInvalid) {
			t.Errorf("Decode(%q) = %v, %v; want nil and an error matching ErrInvalid", tt.in, m, err)
			continue
		}
		if tt.wantSyntax {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Errorf("Decode(%q) = %v, want a *SyntaxError", tt.in, err)
			}
			continue
		}
		var ve *ValidationError
		if !errors.As(err, &ve) {
			t.Errorf("Decode(%q) = %v, want a *ValidationError", tt.in, err)
			continue
		}
		if ve.Type != tt.typ || ve.Field != tt.field || !strings.Contains(ve.Rule, tt.ruleContain) {
			t.Errorf("Decode(%q) = %#v, want type %q field %q rule containing %q", tt.in, ve, tt.typ, tt.field, tt.ruleContain)
		}
	}
}

func TestDecodeAccepts(t *testing.T) {
	tests := []struct {
		in   string
		want Message
	}{
		{` { "method" : "sendMsg" , "type" : "text" , "content" : "a\/b\u00e9\ud83d\ude00" } `, Text{Content: "a/bé😀"}},
		{`{"content":"<b>x</b>","type":"rich","method":"sendMsg"}`, Rich{HTML: "<b>x</b>"}},
		{`{"method":"sendMsg","type":"product","content":{"name":"n","imgUrl":"http://a/b","params":[]}}`, Product{Name: "n", ImgURL: "http://a/b"}},
		{`{"method":"sendMsg","type":"product","content":{"name":"n","imgUrl":"http://a/b","params":[{"text":"t","fold":false,"break":true,"size":1000}]}}`,
			Product{Name: "n", ImgURL: "http://a/b", Params: []ProductParam{{Text: "t", Break: true, Size: 1000}}}},
	}
	for _, tt := range tests {
		got, err := Decode([]byte(tt.in))
		if err != nil {
			t.Errorf("Decode(%q): %v", tt.in, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("Decode(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
}

func FuzzDecode(f *testing.F) {
	for _, g := range goldenSeed {
		f.Add([]byte(g))
	}
	f.Add([]byte(`{"method":"sendMsg","type":"product","content":{"name":"n","imgUrl":"http://a/b","params":[{"text":"t","fold":true,"size":3}]}}`))
	f.Add([]byte(`{"method":"sendMsg","type":"text","content":"\ud83d\ude00\u2028"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Decode(data)
		if err != nil {
			if m != nil || !errors.Is(err, ErrInvalid) {
				t.Fatalf("Decode error %v with message %v; want nil and ErrInvalid", err, m)
			}
			return
		}
		w, err := Encode(m)
		if err != nil {
			t.Fatalf("Decode accepted %q as %#v, which does not encode: %v", data, m, err)
		}
		m2, err := Decode(w)
		if err != nil {
			t.Fatalf("re-encoded %q does not decode: %v", w, err)
		}
		if diff := cmp.Diff(m, m2); diff != "" {
			t.Fatalf("decode(encode(decode(x))) differs (-first +second):\n%s", diff)
		}
	})
}

// benchMessages pairs each type with the map[string]any a naive encoder
// would marshal for it (json.Marshal sorts keys and escapes <>&, so its
// bytes differ; this is about speed).
func benchMessages() []struct {
	name string
	msg  Message
	m    map[string]any
} {
	product := seedCases[3].msg.(Product)
	return []struct {
		name string
		msg  Message
		m    map[string]any
	}{
		{"text", NewText("Hello, how can I help you today? 您好"), map[string]any{"method": "sendMsg", "type": "text", "content": "Hello, how can I help you today? 您好"}},
		{"rich", seedCases[2].msg, map[string]any{"method": "sendMsg", "type": "rich", "content": seedCases[2].msg.(Rich).HTML}},
		{"product", product, map[string]any{"method": "sendMsg", "type": "product", "content": map[string]any{
			"name": product.Name, "url": product.URL, "imgUrl": product.ImgURL,
			"params": []any{
				map[string]any{"text": "¥6999.00", "color": "#FF0000", "size": 12},
				map[string]any{"text": "Additional ¥30 for orders over ¥1999"},
			}}}},
		{"miniprogrampage", seedCases[5].msg, map[string]any{"method": "sendMsg", "type": "miniprogrampage", "content": map[string]any{
			"title": "title", "pagepath": "pagepath", "thumb_media_id": "thumb_media_id", "pic_url": "http://img12.360buyimg.com/n1/xxx.jpg"}}},
	}
}

func BenchmarkEncode(b *testing.B) {
	for _, bm := range benchMessages() {
		b.Run(bm.name+"/Encode", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Encode(bm.msg); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(bm.name+"/AppendEncode", func(b *testing.B) {
			b.ReportAllocs()
			buf := make([]byte, 0, 1024)
			for b.Loop() {
				var err error
				if buf, err = AppendEncode(buf[:0], bm.msg); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(bm.name+"/json.Marshal-map", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := json.Marshal(bm.m); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkDecode(b *testing.B) {
	for _, bm := range benchMessages() {
		w, _ := Encode(bm.msg)
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Decode(w); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestAppendEncodeZeroAllocs(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage instrumentation allocates")
	}
	buf := make([]byte, 0, 1024)
	for _, bm := range benchMessages() {
		allocs := testing.AllocsPerRun(100, func() {
			buf, _ = AppendEncode(buf[:0], bm.msg)
		})
		if allocs != 0 {
			t.Errorf("%s: AppendEncode into a reused buffer: %v allocs/op, want 0", bm.name, allocs)
		}
	}
}
