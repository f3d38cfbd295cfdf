//go:build !js

package main

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/imworkspace/assistant"
)

func ms(v float64) *float64 { return &v }

func TestJudge(t *testing.T) {
	const comp = "http://127.0.0.1:9001/?origin=http://127.0.0.1:9000"
	const origin = "http://127.0.0.1:9001"
	text := `{"method":"sendMsg","type":"text","content":"hi"}`
	mini := `{"method":"sendMsg","type":"miniprogrampage","content":{"title":"T","pagepath":"pages/a","pic_url":"https://i.example/p.jpg"}}`
	ok := func(a arrival) arrival {
		if a.DataType == "" {
			a.DataType = "string"
		}
		a.FromFrame, a.Origin, a.Component = true, origin, comp
		if a.Channel == "" {
			a.Channel = "web"
		}
		return a
	}
	tests := []struct {
		name string
		in   arrival
		want verdict
	}{{
		name: "first text",
		in:   ok(arrival{Data: text, At: 50}),
		want: verdict{OK: true, Counts: true, Problems: []problem{}, Type: "text", Message: &rendered{Type: "text", Text: "hi"}},
	}, {
		name: "exactly one second later",
		in:   ok(arrival{Data: text, At: 1050, Prev: ms(50)}),
		want: verdict{OK: true, Counts: true, Gap: ms(1000), Problems: []problem{}, Type: "text", Message: &rendered{Type: "text", Text: "hi"}},
	}, {
		name: "too fast",
		in:   ok(arrival{Data: text, At: 150.25, Prev: ms(50)}),
		want: verdict{Counts: true, Gap: ms(100.25), Type: "text", Problems: []problem{{Kind: kindTooFast,
			Rule: "arrived 100.2 ms after the previous message; the host takes one message per second (>= 1000 ms)"}}},
	}, {
		name: "not allowed on web",
		in:   ok(arrival{Data: mini, At: 5000, Prev: ms(50)}),
		want: verdict{Counts: true, Gap: ms(4950), Type: "miniprogrampage", Problems: []problem{{Kind: kindNotAllowed, Field: "type",
			Rule: "miniprogrampage is not allowed on channel web (rule: miniprogrampage goes to miniprogram)"}}},
	}, {
		name: "allowed on miniprogram",
		in:   ok(arrival{Data: mini, Channel: "miniprogram", At: 5000}),
		want: verdict{OK: true, Counts: true, Problems: []problem{}, Type: "miniprogrampage",
			Message: &rendered{Type: "miniprogrampage", MiniProgram: &renderedMiniProgram{Title: "T", PagePath: "pages/a", PicURL: "https://i.example/p.jpg"}}},
	}, {
		name: "invalid field",
		in:   ok(arrival{Data: `{"method":"sendMsg","type":"product","content":{"name":"P"}}`, At: 10}),
		want: verdict{Counts: true, Problems: []problem{{Kind: kindInvalid, Field: "product.imgUrl", Rule: "is required"}}},
	}, {
		name: "garbage",
		in:   ok(arrival{Data: `hello`, At: 10}),
		want: verdict{Counts: true, Problems: []problem{{Kind: kindInvalid, Field: "JSON", Rule: "unexpected character 'h' at byte 0"}}},
	}, {
		name: "too large",
		in:   ok(arrival{Data: `{"method":"sendMsg","type":"text","content":"` + strings.Repeat("a", assistant.MaxMessageSize) + `"}`, At: 10}),
		want: verdict{Counts: true, Problems: []problem{{Kind: kindInvalid, Field: "data",
			Rule: "is 1048623 bytes, over the limit of 1048576 (assistant.MaxMessageSize)"}}},
	}, {
		name: "object instead of string",
		in:   ok(arrival{DataType: "object", Preview: `{"method":"sendMsg"}`, At: 10}),
		want: verdict{Counts: true, Problems: []problem{{Kind: kindNotString, Field: "data",
			Rule: "must be a string, the JSON.stringify of the message, not an object"}}},
	}, {
		name: "bad channel setting",
		in:   ok(arrival{Data: text, Channel: "sdk@x", At: 10}),
		want: verdict{Counts: true, Type: "text", Problems: []problem{{Kind: kindChannel, Field: "channel",
			Rule: `assistant: invalid channel: SDK version "x": invalid semantic version`}}},
	}, {
		name: "wrong origin does not count",
		in:   arrival{Data: text, DataType: "string", FromFrame: true, Origin: "http://evil.example", Component: comp, Channel: "web", At: 10, Prev: ms(5)},
		want: verdict{Gap: ms(5), Type: "text", Problems: []problem{{Kind: kindOrigin, Field: "origin",
			Rule: `is "http://evil.example", the component's origin is "http://127.0.0.1:9001"; the host ignores other origins`}}},
	}, {
		name: "other window does not count",
		in:   arrival{Data: text, DataType: "string", Origin: origin, Component: comp, Channel: "web", At: 10},
		want: verdict{Type: "text", Problems: []problem{{Kind: kindSource, Field: "source",
			Rule: "must be the component's frame; the host ignores other windows"}}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := judge(tt.in, assistant.DefaultRules())
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("judge (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRenderProduct(t *testing.T) {
	m := assistant.NewProduct("Phone", "/pages/p?id=1", "https://i.example/p.jpg",
		assistant.ProductParam{Text: "¥6999.00", Color: "#FF0000", Fold: true, Break: true, Size: 16},
		assistant.ProductParam{Text: "free shipping"})
	want := &rendered{Type: "product", Product: &renderedProduct{
		Name: "Phone", URL: "/pages/p?id=1", Link: "miniprogram", ImgURL: "https://i.example/p.jpg",
		Params: []renderedParam{
			{Text: "¥6999.00", Color: "#FF0000", Bold: true, Break: true, Size: 16},
			{Text: "free shipping", Color: "#000000", Size: 12},
		}}}
	if diff := cmp.Diff(want, render(m)); diff != "" {
		t.Errorf("render (-want +got):\n%s", diff)
	}
	m.URL = "HTTPS://shop.example/p"
	if got := render(m).Product.Link; got != "web" {
		t.Errorf("Link for %q = %q, want web", m.URL, got)
	}
	m.URL = ""
	if got := render(m).Product.Link; got != "" {
		t.Errorf("Link for empty URL = %q, want none", got)
	}
}

func TestOriginOf(t *testing.T) {
	for in, want := range map[string]string{
		"http://127.0.0.1:8801/?origin=x": "http://127.0.0.1:8801",
		"HTTP://LocalHost:80/a":           "http://localhost",
		"https://example.com:443":         "https://example.com",
		"https://example.com:8443/x":      "https://example.com:8443",
		"http://[::1]:9000/":              "http://[::1]:9000",
		"javascript:alert(1)":             "",
		"/relative":                       "",
		"":                                "",
	} {
		if got := originOf(in); got != want {
			t.Errorf("originOf(%q) = %q, want %q", in, got, want)
		}
	}
}
