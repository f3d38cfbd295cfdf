package assistant

import "testing"

func TestProductValidate(t *testing.T) {
	const img = "https://img.example.com/p.jpg"
	p := func(name, url, img string, params ...ProductParam) Product {
		return NewProduct(name, url, img, params...)
	}
	runValidation(t, []validationCase{
		{"minimal", p("n", "", img), "", ""},
		{"http-url", p("n", "http://item.jd.com/1.html", "http://img/x.jpg"), "", ""},
		{"https-upper", p("n", "HTTPS://item.jd.com/1.html", img), "", ""},
		{"path-url", p("n", "/pages/product/detail", img), "", ""},
		{"relative-path-url", p("n", "pages/product/detail?id=1", img), "", ""},
		{"full-params", p("n", "", img, ProductParam{Text: "t", Color: "#ff00AA", Fold: true, Break: true, Size: MaxParamSize}), "", ""},
		{"no-name", p("", "", img), "name", "required"},
		{"name-newline", p("a\nb", "", img), "name", "control character"},
		{"name-bad-utf8", p("\xff", "", img), "name", "UTF-8"},
		{"no-img", p("n", "", ""), "imgUrl", "required"},
		{"img-path", p("n", "", "/img.jpg"), "imgUrl", "http"},
		{"img-ftp", p("n", "", "ftp://x/y.jpg"), "imgUrl", "http"},
		{"img-no-host", p("n", "", "https:///x.jpg"), "imgUrl", "host"},
		{"img-userinfo", p("n", "", "https://shop.example@evil.example/x.jpg"), "imgUrl", "user info"},
		{"img-control", p("n", "", "https://x/\ty.jpg"), "imgUrl", "control character"},
		{"url-javascript", p("n", "javascript:alert(1)", img), "url", "scheme"},
		{"url-data", p("n", "data:text/html,x", img), "url", "scheme"},
		{"url-protocol-relative", p("n", "//evil.example/x", img), "url", "network"},
		{"url-backslash", p("n", `\\evil.example\x`, img), "url", "backslash"},
		{"url-http-no-host", p("n", "http://", img), "url", "host"},
		{"url-httpx", p("n", "httpx://a/b", img), "url", "http"},
		{"url-space", p("n", "/pages/a b", img), "url", "spaces"},
		{"url-newline", p("n", "/pages/a\n", img), "url", "control character"},
		{"param-no-text", p("n", "", img, ProductParam{Text: "ok"}, ProductParam{Color: "#000000"}), "params[1].text", "required"},
		{"param-text-control", p("n", "", img, ProductParam{Text: "a\x00"}), "params[0].text", "control character"},
		{"param-color-short", p("n", "", img, ProductParam{Text: "t", Color: "#F00"}), "params[0].color", "hex color"},
		{"param-color-name", p("n", "", img, ProductParam{Text: "t", Color: "red"}), "params[0].color", "hex color"},
		{"param-color-nonhex", p("n", "", img, ProductParam{Text: "t", Color: "#GG0000"}), "params[0].color", "hex color"},
		{"param-size-negative", p("n", "", img, ProductParam{Text: "t", Size: -1}), "params[0].size", "from 1"},
		{"param-size-huge", p("n", "", img, ProductParam{Text: "t", Size: MaxParamSize + 1}), "params[0].size", "from 1"},
	})
}

func TestProductOmitsDefaults(t *testing.T) {
	got, err := Encode(NewProduct("n", "", "https://i/x.png", ProductParam{Text: "t"}, ProductParam{Text: "u", Fold: true, Break: true, Size: 14, Color: "#123456"}))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"method":"sendMsg","type":"product","content":{"name":"n","imgUrl":"https://i/x.png","params":[{"text":"t"},{"text":"u","color":"#123456","fold":true,"break":true,"size":14}]}}`
	if string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}
