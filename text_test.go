package assistant

import "testing"

func TestTextValidate(t *testing.T) {
	runValidation(t, []validationCase{
		{"plain", NewText("hello"), "", ""},
		{"multiline", NewText("line 1\r\nline 2\tend"), "", ""},
		{"unicode", NewText("¥ 😀 \u2028 中"), "", ""},
		{"empty", NewText(""), "content", "required"},
		{"nul", NewText("a\x00b"), "content", "control character"},
		{"escape", NewText("\x1b[31m"), "content", "control character"},
		{"del", NewText("a\x7f"), "content", "control character"},
		{"c1", NewText("a\u0085"), "content", "control character"},
		{"bad-utf8", NewText("a\xffb"), "content", "UTF-8"},
		{"truncated-utf8", NewText("\xe4\xb8"), "content", "UTF-8"},
	})
}
