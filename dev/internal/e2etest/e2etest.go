// Package e2etest holds what the end-to-end test and the component page it
// builds (dev/e2e/postmessage/testdata/component) must agree on.
package e2etest

import (
	"strconv"

	"github.com/imworkspace/assistant"
)

// Message returns the i-th message the component sends: the four types in
// turn, with text that JSON and HTML must carry unchanged.
func Message(i int) assistant.Message {
	n := strconv.Itoa(i)
	switch i % 4 {
	case 0:
		return assistant.NewText("message " + n + ": <b>\"quoted\"</b> & 中文 😀\n\u2028end")
	case 1:
		return assistant.NewRich("message " + n + ": " + assistant.EscapeHTML("<Tom & Jerry>") + " " +
			assistant.MiniProgramLink("pages/item/item?id="+n, "item "+n))
	case 2:
		return assistant.NewProduct("product "+n, "https://item.example.com/"+n+".html", "https://img.example.com/"+n+".jpg",
			assistant.ProductParam{Text: "¥6999.00", Color: "#FF0000", Fold: true, Break: true, Size: 14},
			assistant.ProductParam{Text: "in stock"})
	default:
		return assistant.NewMiniProgramPage("page "+n, "pages/item/item?id="+n, "https://img.example.com/"+n+".jpg")
	}
}
