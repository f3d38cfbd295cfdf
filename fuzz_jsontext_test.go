package assistant

import (
	"testing"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/google/go-cmp/cmp"
)

// The wire shapes, for github.com/go-json-experiment/json: a second,
// independent reading of what Decode accepts.
type (
	jtMessage struct {
		Method  string         `json:"method"`
		Type    string         `json:"type"`
		Content jsontext.Value `json:"content"`
	}
	jtProduct struct {
		Name   string    `json:"name"`
		URL    string    `json:"url"`
		ImgURL string    `json:"imgUrl"`
		Params []jtParam `json:"params"`
	}
	jtParam struct {
		Text  string `json:"text"`
		Color string `json:"color"`
		Fold  bool   `json:"fold"`
		Break bool   `json:"break"`
		Size  int    `json:"size"`
	}
	jtMiniProgramPage struct {
		Title        string `json:"title"`
		PagePath     string `json:"pagepath"`
		ThumbMediaID string `json:"thumb_media_id"`
		PicURL       string `json:"pic_url"`
	}
)

// decodeJSONText decodes data with jsontext and json v2, strictly (valid
// UTF-8, no duplicate names, no unknown members), into a Message.
func decodeJSONText(data []byte) (Message, error) {
	strict := json.RejectUnknownMembers(true)
	var w jtMessage
	if err := json.Unmarshal(data, &w, strict); err != nil {
		return nil, err
	}
	switch w.Type {
	case TypeText, TypeRich:
		var s string
		if err := json.Unmarshal(w.Content, &s, strict); err != nil {
			return nil, err
		}
		if w.Type == TypeText {
			return Text{Content: s}, nil
		}
		return Rich{HTML: s}, nil
	case TypeProduct:
		var p jtProduct
		if err := json.Unmarshal(w.Content, &p, strict); err != nil {
			return nil, err
		}
		m := Product{Name: p.Name, URL: p.URL, ImgURL: p.ImgURL}
		for _, pp := range p.Params {
			m.Params = append(m.Params, ProductParam(pp))
		}
		return m, nil
	}
	var p jtMiniProgramPage
	if err := json.Unmarshal(w.Content, &p, strict); err != nil {
		return nil, err
	}
	return MiniProgramPage(p), nil
}

// FuzzDecodeJSONText is the differential fuzz test of the hand-written
// parser: whatever Decode accepts is valid JSON to jsontext, and
// go-json-experiment/json reads the same message from it.
func FuzzDecodeJSONText(f *testing.F) {
	for _, g := range goldenSeed {
		f.Add([]byte(g))
	}
	f.Add([]byte(` {"content":{"title":"t","pagepath":"p\/q","pic_url":"http://a.example/b"},"type":"miniprogrampage","method":"sendMsg"} `))
	f.Add([]byte(`{"method":"sendMsg","type":"product","content":{"name":"n","imgUrl":"http://a/b","params":[{"text":"t\u00e9\ud83d\ude00","fold":true,"break":false,"size":3}]}}`))
	f.Add([]byte(`{"method":"sendMsg","type":"product","content":{"name":"n","imgUrl":"http://a/b","params":[]}}`))
	f.Add([]byte("{\"method\":\"sendMsg\",\"type\":\"text\",\"content\":\"a\\tb\\r\\n\\\"\\\\\\/\\b\\f\"}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Decode(data)
		if err != nil {
			return
		}
		if !jsontext.Value(data).IsValid() {
			t.Fatalf("Decode accepted %q, which jsontext says is not valid JSON", data)
		}
		want, err := decodeJSONText(data)
		if err != nil {
			t.Fatalf("Decode accepted %q, which go-json-experiment/json refuses: %v", data, err)
		}
		if diff := cmp.Diff(want, m); diff != "" {
			t.Fatalf("Decode and go-json-experiment/json read %q differently (-jsontext +Decode):\n%s", data, diff)
		}
	})
}
