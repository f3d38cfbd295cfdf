package assistant

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// seedCases are the six payloads of the vendor page, built with the API,
// and the vendor's JavaScript literal for each. The literals drop the
// explicit fold: false / break: false of the seed: false is the default
// and the encoder omits unset fields (docs/PROTOCOL.md).
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

func TestEncodeMaxMessageSize(t *testing.T) {
	const overhead = len(`{"method":"sendMsg","type":"text","content":""}`)
	w, err := Encode(NewText(strings.Repeat("a", MaxMessageSize-overhead)))
	if err != nil || len(w) != MaxMessageSize {
		t.Fatalf("Encode of a message of exactly MaxMessageSize bytes = %d bytes, %v", len(w), err)
	}
	for _, m := range []Message{
		NewText(strings.Repeat("a", MaxMessageSize-overhead+1)),
		NewText(strings.Repeat("\n", MaxMessageSize/2)), // escapes make it too large
		NewRich(strings.Repeat("a", 2*MaxMessageSize)),
		NewProduct("n", "", "https://img.example/x.jpg", slices.Repeat([]ProductParam{{Text: "t", Size: 12}}, MaxMessageSize/20)...),
	} {
		_, err := Encode(m)
		var tl *TooLargeError
		if !errors.As(err, &tl) || tl.Size <= MaxMessageSize || !errors.Is(err, ErrTooLarge) || !errors.Is(err, ErrInvalid) {
			t.Errorf("Encode of a %s over the limit = %v; want a *TooLargeError matching ErrTooLarge and ErrInvalid", m.Type(), err)
		}
		dst := []byte("keep")
		if got, err := AppendEncode(dst, m); !errors.Is(err, ErrTooLarge) || string(got) != "keep" {
			t.Errorf("AppendEncode over the limit = %.20q, %v; want dst unchanged and ErrTooLarge", got, err)
		}
	}
}
