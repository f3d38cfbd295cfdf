package assistant

import "testing"

func TestMiniProgramPageValidate(t *testing.T) {
	mp := func(title, path, thumb, pic string) MiniProgramPage {
		return MiniProgramPage{Title: title, PagePath: path, ThumbMediaID: thumb, PicURL: pic}
	}
	runValidation(t, []validationCase{
		{"pic", NewMiniProgramPage("t", "pages/index/index?foo=bar", "https://img/x.jpg"), "", ""},
		{"thumb", mp("t", "pages/index/index", "MEDIA", ""), "", ""},
		{"both", mp("t", "/pages/index/index", "MEDIA", "http://img/x.jpg"), "", ""},
		{"no-title", mp("", "p", "M", ""), "title", "required"},
		{"title-control", mp("a\tb", "p", "M", ""), "title", "control character"},
		{"no-path", mp("t", "", "M", ""), "pagepath", "required"},
		{"path-http", mp("t", "https://evil/x", "M", ""), "pagepath", "scheme"},
		{"path-javascript", mp("t", "javascript:alert(1)", "M", ""), "pagepath", "scheme"},
		{"path-network", mp("t", "//evil/x", "M", ""), "pagepath", "network"},
		{"no-image", mp("t", "p", "", ""), "thumb_media_id", "pic_url"},
		{"thumb-control", mp("t", "p", "M\n", ""), "thumb_media_id", "control character"},
		{"pic-path", mp("t", "p", "", "/x.jpg"), "pic_url", "http"},
		{"pic-javascript", mp("t", "p", "", "javascript:x"), "pic_url", "http"},
	})
}

func TestMiniProgramPageEncodeOmits(t *testing.T) {
	got, err := Encode(MiniProgramPage{Title: "t", PagePath: "p", ThumbMediaID: "M"})
	if want := `{"method":"sendMsg","type":"miniprogrampage","content":{"title":"t","pagepath":"p","thumb_media_id":"M"}}`; err != nil || string(got) != want {
		t.Errorf("Encode = %s, %v; want %s", got, err, want)
	}
}
