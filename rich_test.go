package assistant

import "testing"

func TestRichValidate(t *testing.T) {
	runValidation(t, []validationCase{
		{"html", NewRich("<p style='font-size:18px'>hello world</p>"), "", ""},
		{"multiline", NewRich("<p>a</p>\n<p>b</p>"), "", ""},
		{"empty", NewRich(""), "content", "required"},
		{"control", NewRich("<p>\x01</p>"), "content", "control character"},
		{"bad-utf8", NewRich("<p>\xc0</p>"), "content", "UTF-8"},
	})
}

func TestMiniProgramLink(t *testing.T) {
	tests := []struct{ path, text, want string }{
		{"/path/navigate/to", "Jump", `<a data-miniprogram-path="/path/navigate/to">Jump</a>`},
		{"pages/item?id=7&ref=chat", `<b>"Deal"</b>`, `<a data-miniprogram-path="pages/item?id=7&amp;ref=chat">&lt;b&gt;&#34;Deal&#34;&lt;/b&gt;</a>`},
		{`x" onclick="alert(1)`, "t", `<a data-miniprogram-path="x&#34; onclick=&#34;alert(1)">t</a>`},
	}
	for _, tt := range tests {
		if got := MiniProgramLink(tt.path, tt.text); got != tt.want {
			t.Errorf("MiniProgramLink(%q, %q) = %s, want %s", tt.path, tt.text, got, tt.want)
		}
	}
	if got, want := EscapeHTML(`<a href='x'>&</a>`), "&lt;a href=&#39;x&#39;&gt;&amp;&lt;/a&gt;"; got != want {
		t.Errorf("EscapeHTML = %s, want %s", got, want)
	}
}
