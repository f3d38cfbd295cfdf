package assistant

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

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
		{in: `{"content":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`, wantSyntax: true},
		{in: `{"content":[1,2,}`, wantSyntax: true},
		{in: strings.Repeat("[", 100) + strings.Repeat("]", 100), wantSyntax: true},
		{in: `[1,2] x`, wantSyntax: true},
		{in: `trailing`, wantSyntax: true},
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

// textOfSize returns the wire string of a Text exactly n bytes long.
func textOfSize(n int) []byte {
	const head, tail = `{"method":"sendMsg","type":"text","content":"`, `"}`
	return []byte(head + strings.Repeat("a", n-len(head)-len(tail)) + tail)
}

func TestDecodeMaxMessageSize(t *testing.T) {
	if m, err := Decode(textOfSize(MaxMessageSize)); err != nil || len(m.(Text).Content) != MaxMessageSize-47 {
		t.Fatalf("Decode of exactly MaxMessageSize bytes = %v; want the message", err)
	}
	_, err := Decode(textOfSize(MaxMessageSize + 1))
	var tl *TooLargeError
	if !errors.As(err, &tl) || tl.Size != MaxMessageSize+1 || !errors.Is(err, ErrTooLarge) || !errors.Is(err, ErrInvalid) {
		t.Fatalf("Decode of MaxMessageSize+1 bytes = %v; want a *TooLargeError of that size, matching ErrTooLarge and ErrInvalid", err)
	}
	if want := "assistant: message of 1048577 bytes is larger than the limit of 1048576 bytes"; err.Error() != want {
		t.Errorf("error text %q, want %q", err, want)
	}
}

// TestDecodeStopsAtFirstWrongShape: errors come from the first key or
// shape a message cannot have, even when later input is broken too. (A
// params array is syntax-checked before its elements are read, so the
// slice is allocated once.)
func TestDecodeStopsAtFirstWrongShape(t *testing.T) {
	for _, tt := range []struct{ in, field string }{
		{`{"zz":[1,2,3` + strings.Repeat(",1", 1000), `"zz"`},
		{`{"method":"sendMsg","type":"text","content":[1`, "content"},
		{`{"method":"sendMsg","type":"product","content":{"name":"n","params":[{"text":"a"},{"bold":1}]` + strings.Repeat(",1", 1000), `params[1]."bold"`},
		{`{"method":"sendMsg","type":"product","content":{"params":7`, "params"},
		{`{"method":"sendMsg","` + strings.Repeat("k", 200) + `":`, `"` + strings.Repeat("k", 64) + `"…`},
	} {
		_, err := Decode([]byte(tt.in))
		var ve *ValidationError
		if !errors.As(err, &ve) || ve.Field != tt.field {
			t.Errorf("Decode(%.60q) = %v; want a *ValidationError for field %s", tt.in, err, tt.field)
		}
	}
}
