package assistant

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"unicode/utf8"
)

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
