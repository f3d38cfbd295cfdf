//go:build !js

package main

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/imworkspace/assistant"
)

// minGap is the host's spacing rule: a message that arrives less than one
// second after the previous one is refused. "Previous" is the previous
// message from the component (accepted or refused: the host counts what it
// receives, so a refused message still starts the next second); messages
// from another window or origin do not count, they are not the component's.
// Gaps are measured where the host page observes the message event
// (performance.now() in its handler), as docs/PROTOCOL.md decides.
const minGap = 1000.0 // ms

// arrival is one message event as the host page observed it. The page
// forwards every event to the sim server, in order, and the server judges
// it: the host's checks run in Go, with the library, not in JavaScript.
type arrival struct {
	// Data is event.data when it is a string; DataType is typeof
	// event.data ("string", "object", ...). Preview shows a non-string.
	Data     string `json:"data"`
	DataType string `json:"dataType"`
	Preview  string `json:"preview,omitempty"`
	// Origin is event.origin; FromFrame reports event.source === the
	// component iframe's window.
	Origin    string `json:"origin"`
	FromFrame bool   `json:"fromFrame"`
	// Component is the URL the host framed; its origin is the one
	// expected.
	Component string `json:"component"`
	// Channel is the customer's channel as the picker sets it, in
	// ParseChannel form ("web", "sdk@5.1.1", "miniprogram", a name).
	Channel string `json:"channel"`
	// At is performance.now() in the host page's handler; Prev is At of
	// the previous message that counts for spacing, or nil.
	At   float64  `json:"at"`
	Prev *float64 `json:"prev"`
}

// Problem kinds, one per rule a host enforces.
const (
	kindSource     = "source"      // not from the component's window
	kindOrigin     = "origin"      // from another origin than the component's
	kindTooFast    = "too fast"    // under minGap after the previous message
	kindNotString  = "not string"  // event.data is not a string
	kindInvalid    = "invalid"     // Decode refused it
	kindNotAllowed = "not allowed" // the channel cannot carry the type
	kindChannel    = "channel"     // the host's channel setting is malformed
)

// problem is one broken rule.
type problem struct {
	Kind  string `json:"kind"`
	Field string `json:"field,omitempty"`
	Rule  string `json:"rule"`
}

// verdict is the host's answer for one arrival.
type verdict struct {
	OK bool `json:"ok"`
	// Counts reports whether the arrival starts a new spacing interval:
	// the page passes its At as Prev of the next arrival.
	Counts   bool      `json:"counts"`
	Gap      *float64  `json:"gap"` // ms since Prev, when there is one
	Problems []problem `json:"problems"`
	Type     string    `json:"type,omitempty"`
	Message  *rendered `json:"message,omitempty"` // when OK
}

// judge applies a strict host's rules to one arrival. Every rule is
// checked, so the log shows all that a message breaks.
func judge(a arrival, rules assistant.Rules) verdict {
	v := verdict{Problems: []problem{}}
	want := originOf(a.Component)
	switch {
	case !a.FromFrame:
		v.Problems = append(v.Problems, problem{Kind: kindSource, Field: "source",
			Rule: "must be the component's frame; the host ignores other windows"})
	case a.Origin != want:
		v.Problems = append(v.Problems, problem{Kind: kindOrigin, Field: "origin",
			Rule: fmt.Sprintf("is %q, the component's origin is %q; the host ignores other origins", a.Origin, want)})
	default:
		v.Counts = true
	}
	if a.Prev != nil {
		gap := a.At - *a.Prev
		v.Gap = &gap
		if v.Counts && gap < minGap {
			v.Problems = append(v.Problems, problem{Kind: kindTooFast,
				Rule: "arrived " + formatMs(gap) + " after the previous message; the host takes one message per second (>= 1000 ms)"})
		}
	}
	if a.DataType != "string" {
		v.Problems = append(v.Problems, problem{Kind: kindNotString, Field: "data",
			Rule: "must be a string, the JSON.stringify of the message, not " + article(a.DataType)})
		return v
	}
	m, err := assistant.Decode([]byte(a.Data))
	if err != nil {
		v.Problems = append(v.Problems, problemOf(err))
		return v
	}
	v.Type = m.Type()
	ch, err := assistant.ParseChannel(a.Channel)
	if err != nil {
		v.Problems = append(v.Problems, problem{Kind: kindChannel, Field: "channel", Rule: err.Error()})
		return v
	}
	if err := rules.Check(ch, m); err != nil {
		v.Problems = append(v.Problems, problemOf(err))
		return v
	}
	if len(v.Problems) == 0 {
		v.OK = true
		v.Message = render(m)
	}
	return v
}

// problemOf turns a library error into a problem, naming field and rule.
func problemOf(err error) problem {
	var (
		ve *assistant.ValidationError
		se *assistant.SyntaxError
		ne *assistant.NotAllowedError
		te *assistant.TooLargeError
	)
	switch {
	case errors.As(err, &te):
		return problem{Kind: kindInvalid, Field: "data", Rule: tooLargeRule(te)}
	case errors.As(err, &ve):
		f := ve.Field
		if ve.Type != "" {
			f = ve.Type + "." + f
		}
		return problem{Kind: kindInvalid, Field: f, Rule: ve.Rule}
	case errors.As(err, &se):
		return problem{Kind: kindInvalid, Field: "JSON", Rule: se.Msg + " at byte " + strconv.Itoa(se.Offset)}
	case errors.As(err, &ne):
		return problem{Kind: kindNotAllowed, Field: "type",
			Rule: ne.Type + " is not allowed on channel " + ne.Channel.String() + " (rule: " + ne.Rule + ")"}
	}
	return problem{Kind: kindInvalid, Rule: err.Error()}
}

// originOf returns the origin of an absolute http(s) URL as a browser
// serializes it (event.origin): lower-case scheme and host, default port
// dropped. It returns "" for anything else, which no event matches.
func originOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Hostname())
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	port := u.Port()
	if port == "" || scheme == "http" && port == "80" || scheme == "https" && port == "443" {
		return scheme + "://" + host
	}
	return scheme + "://" + host + ":" + port
}

func formatMs(ms float64) string { return strconv.FormatFloat(ms, 'f', 1, 64) + " ms" }

func article(typ string) string {
	switch typ {
	case "":
		return "nothing"
	case "null":
		return "null"
	case "object", "undefined":
		return "an " + typ
	}
	return "a " + typ
}

// rendered is an accepted message in the form the host page draws: plain
// fields with the protocol's defaults applied, so the page only styles.
type rendered struct {
	Type        string               `json:"type"`
	Text        string               `json:"text,omitempty"` // text
	HTML        string               `json:"html,omitempty"` // rich, drawn in a sandboxed frame
	Product     *renderedProduct     `json:"product,omitempty"`
	MiniProgram *renderedMiniProgram `json:"miniprogram,omitempty"`
}

type renderedProduct struct {
	Name   string          `json:"name"`
	URL    string          `json:"url,omitempty"`
	Link   string          `json:"link"` // "web", "miniprogram" or "" (not clickable)
	ImgURL string          `json:"imgUrl"`
	Params []renderedParam `json:"params"`
}

type renderedParam struct {
	Text  string `json:"text"`
	Color string `json:"color"` // default #000000
	Bold  bool   `json:"bold"`  // fold
	Break bool   `json:"break"`
	Size  int    `json:"size"` // px, default 12
}

type renderedMiniProgram struct {
	Title        string `json:"title"`
	PagePath     string `json:"pagepath"`
	ThumbMediaID string `json:"thumbMediaId,omitempty"`
	PicURL       string `json:"picUrl,omitempty"`
}

func render(m assistant.Message) *rendered {
	r := &rendered{Type: m.Type()}
	switch m := m.(type) {
	case assistant.Text:
		r.Text = m.Content
	case assistant.Rich:
		r.HTML = m.HTML
	case assistant.Product:
		p := &renderedProduct{Name: m.Name, URL: m.URL, ImgURL: m.ImgURL, Params: []renderedParam{}}
		switch {
		case m.URL == "":
		case strings.HasPrefix(strings.ToLower(m.URL), "http"):
			p.Link = "web"
		default:
			// A path: the client opens it with wx.miniProgram.navigateTo.
			p.Link = "miniprogram"
		}
		for _, pp := range m.Params {
			rp := renderedParam{Text: pp.Text, Color: pp.Color, Bold: pp.Fold, Break: pp.Break, Size: pp.Size}
			if rp.Color == "" {
				rp.Color = "#000000"
			}
			if rp.Size == 0 {
				rp.Size = 12
			}
			p.Params = append(p.Params, rp)
		}
		r.Product = p
	case assistant.MiniProgramPage:
		r.MiniProgram = &renderedMiniProgram{Title: m.Title, PagePath: m.PagePath, ThumbMediaID: m.ThumbMediaID, PicURL: m.PicURL}
	}
	return r
}
