//go:build !js

package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/imworkspace/assistant"
)

// maxInput bounds what validate reads, so a wrong file (a disk image, a
// pipe that never ends) fails clearly instead of exhausting memory.
const maxInput = 64 << 20

// result is the verdict on one message of the input: one JSON document, or
// one stretch of a line that is not JSON.
type result struct {
	Line  int    `json:"line"`            // 1-based line where the message starts
	OK    bool   `json:"ok"`              // valid, and allowed on the channel if one was given
	Type  string `json:"type,omitempty"`  // wire type, when known
	Kind  string `json:"kind,omitempty"`  // "invalid" or "not allowed"
	Field string `json:"field,omitempty"` // wire field (relative to content), "type" for channel refusals
	Rule  string `json:"rule,omitempty"`  // the rule broken
	Error string `json:"error,omitempty"` // the library's error text
}

// report is what validate --json prints.
type report struct {
	Input      string   `json:"input"`
	Channel    string   `json:"channel,omitempty"`
	Messages   int      `json:"messages"`
	Invalid    int      `json:"invalid"`
	NotAllowed int      `json:"notAllowed"`
	Results    []result `json:"results"`
}

const validateUsage = `usage: assistant validate [--channel web|sdk@5.1.1|miniprogram|NAME] [--json] [FILE|-]

Reads wire strings from FILE (standard input when FILE is "-" or absent):
one JSON document per line, or one document over several lines. Prints
each problem with its line number, field and rule. Without --channel only
the messages themselves are checked. Exits 1 when any message is invalid or
not allowed on the channel, or when the input holds no message at all; 2 on
bad flags or unreadable input; 0 otherwise.

Flags:
`

func runValidate(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("assistant validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	channel := fs.String("channel", "", "check that `CHANNEL` may carry each message: web, miniprogram, sdk@VERSION, or another channel's name")
	asJSON := fs.Bool("json", false, "print one machine-readable JSON report")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), validateUsage)
		fs.PrintDefaults()
	}
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if len(pos) > 1 {
		fmt.Fprintf(stderr, "assistant validate: one input at most, got %d: %s\n", len(pos), strings.Join(pos, " "))
		return exitUsage
	}
	var ch *assistant.Channel
	if flagSet(fs, "channel") {
		c, err := assistant.ParseChannel(*channel)
		if err != nil {
			fmt.Fprintf(stderr, "assistant validate: --channel: %v\n", err)
			return exitUsage
		}
		ch = &c
	}

	name, r := "-", stdin
	if len(pos) == 1 && pos[0] != "-" {
		name = pos[0]
		f, err := os.Open(name)
		if err != nil {
			fmt.Fprintf(stderr, "assistant validate: %v\n", err)
			return exitUsage
		}
		defer f.Close()
		r = f
	}
	data, err := io.ReadAll(io.LimitReader(r, maxInput+1))
	if err != nil {
		fmt.Fprintf(stderr, "assistant validate: reading %s: %v\n", displayName(name), err)
		return exitUsage
	}
	if len(data) > maxInput {
		fmt.Fprintf(stderr, "assistant validate: %s is larger than %d MiB\n", displayName(name), maxInput>>20)
		return exitUsage
	}

	rep := validate(data, ch)
	rep.Input = displayName(name)
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(rep); err != nil {
			fmt.Fprintf(stderr, "assistant validate: %v\n", err)
			return exitUsage
		}
	} else {
		printReport(stdout, rep)
	}
	if rep.Messages == 0 || rep.Invalid+rep.NotAllowed > 0 {
		return exitProblem
	}
	return exitOK
}

func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

func displayName(name string) string {
	if name == "-" {
		return "<stdin>"
	}
	return name
}

func printReport(w io.Writer, rep report) {
	for _, r := range rep.Results {
		if r.OK {
			continue
		}
		field := r.Field
		if r.Type != "" && r.Kind == "invalid" {
			field = r.Type + "." + field
		}
		if field == "" {
			field = "JSON"
		}
		fmt.Fprintf(w, "%s:%d: %s: %s: %s\n", rep.Input, r.Line, r.Kind, field, r.Rule)
	}
	on := ""
	if rep.Channel != "" {
		on = " on channel " + rep.Channel
	}
	switch {
	case rep.Messages == 0:
		fmt.Fprintf(w, "%s: no messages\n", rep.Input)
	case rep.Invalid+rep.NotAllowed == 0:
		fmt.Fprintf(w, "%s: %d %s, all valid%s\n", rep.Input, rep.Messages, plural(rep.Messages, "message"), on)
	default:
		fmt.Fprintf(w, "%s: %d %s: %d invalid, %d not allowed%s\n", rep.Input, rep.Messages, plural(rep.Messages, "message"), rep.Invalid, rep.NotAllowed, on)
	}
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// validate checks every message in data. Documents are found with a JSON
// tokenizer, so one per line and one spread over several lines both work;
// a stretch that is not JSON is reported once and skipped up to the end of
// its line, so one bad line does not hide the next.
func validate(data []byte, ch *assistant.Channel) report {
	var rep report
	if ch != nil {
		rep.Channel = ch.String()
	}
	rules := assistant.DefaultRules()
	lines := newLineIndex(data)
	pos := 0
	for {
		pos = skipSpace(data, pos)
		if pos == len(data) {
			break
		}
		dec := json.NewDecoder(bytes.NewReader(data[pos:]))
		var raw json.RawMessage
		end := 0
		if err := dec.Decode(&raw); err == nil {
			end = pos + int(dec.InputOffset())
		} else {
			// Not JSON from here: judge the rest of this line alone.
			end = pos + bytes.IndexByte(data[pos:], '\n')
			if end < pos {
				end = len(data)
			}
		}
		rep.Results = append(rep.Results, check(data[pos:end], pos, lines, ch, rules))
		pos = end
	}
	for _, r := range rep.Results {
		rep.Messages++
		switch r.Kind {
		case "invalid":
			rep.Invalid++
		case "not allowed":
			rep.NotAllowed++
		}
	}
	if rep.Results == nil {
		rep.Results = []result{}
	}
	return rep
}

// check judges one wire string that starts at byte start of the input.
func check(wire []byte, start int, lines lineIndex, ch *assistant.Channel, rules assistant.Rules) result {
	wire = bytes.TrimRight(wire, " \t\r\n")
	res := result{Line: lines.line(start)}
	m, err := assistant.Decode(wire)
	if err == nil {
		res.Type = m.Type()
		if ch != nil {
			err = rules.Check(*ch, m)
		}
	}
	if err == nil {
		res.OK = true
		return res
	}
	res.Error = err.Error()
	var (
		ve *assistant.ValidationError
		se *assistant.SyntaxError
		ne *assistant.NotAllowedError
		te *assistant.TooLargeError
	)
	switch {
	case errors.As(err, &te):
		res.Kind, res.Field, res.Rule = "invalid", "message", tooLargeRule(te)
	case errors.As(err, &ve):
		res.Kind, res.Type, res.Field, res.Rule = "invalid", ve.Type, ve.Field, ve.Rule
	case errors.As(err, &se):
		res.Kind, res.Rule = "invalid", se.Msg
		res.Line = lines.line(start + se.Offset)
	case errors.As(err, &ne):
		res.Kind, res.Type, res.Field = "not allowed", ne.Type, "type"
		res.Rule = ne.Rule + " (channel " + ne.Channel.String() + ")"
	default:
		res.Kind, res.Rule = "invalid", err.Error()
	}
	return res
}

// tooLargeRule says what the host-side limit is, for validate and the
// simulator alike.
func tooLargeRule(te *assistant.TooLargeError) string {
	return fmt.Sprintf("is %d bytes, over the limit of %d (assistant.MaxMessageSize)", te.Size, assistant.MaxMessageSize)
}

func skipSpace(data []byte, pos int) int {
	for pos < len(data) {
		switch data[pos] {
		case ' ', '\t', '\r', '\n':
			pos++
		default:
			return pos
		}
	}
	return pos
}

// lineIndex maps byte offsets to 1-based line numbers.
type lineIndex []int // offsets of line starts

func newLineIndex(data []byte) lineIndex {
	idx := lineIndex{0}
	for i, c := range data {
		if c == '\n' {
			idx = append(idx, i+1)
		}
	}
	return idx
}

func (idx lineIndex) line(off int) int {
	lo, hi := 0, len(idx) // idx[lo] <= off < idx[hi]
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		if idx[mid] <= off {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo + 1
}
