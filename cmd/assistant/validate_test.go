//go:build !js

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/imworkspace/assistant"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/validate")

// TestValidateGolden runs "assistant validate" in-process on the inputs in
// testdata/validate and compares exit code, stdout and stderr with the
// .golden files. Regenerate them with go test -run TestValidateGolden -update
// and review the diff.
func TestValidateGolden(t *testing.T) {
	const dir = "testdata/validate"
	tests := []struct {
		name  string
		args  []string
		stdin string // file under dir fed to standard input
	}{
		{name: "valid", args: []string{dir + "/valid.jsonl"}},
		{name: "valid_web_json", args: []string{"--channel", "web", "--json", dir + "/valid.jsonl"}},
		{name: "valid_stdin", args: []string{"-"}, stdin: "valid.jsonl"},
		{name: "valid_noarg_stdin", args: nil, stdin: "valid.jsonl"},
		{name: "flags_after_file", args: []string{dir + "/valid.jsonl", "--channel", "sdk@5.1.1"}},
		{name: "rules", args: []string{dir + "/rules.jsonl"}},
		{name: "rules_json", args: []string{"--json", dir + "/rules.jsonl"}},
		{name: "channel_web", args: []string{"--channel", "web", dir + "/channels.jsonl"}},
		{name: "channel_miniprogram", args: []string{"--channel", "miniprogram", dir + "/channels.jsonl"}},
		{name: "channel_sdk511", args: []string{"--channel", "sdk@5.1.1", dir + "/channels.jsonl"}},
		{name: "channel_sdk50", args: []string{"--channel", "sdk@5.0", dir + "/channels.jsonl"}},
		{name: "channel_sdk51beta", args: []string{"--channel", "sdk@5.1.0-beta.1", dir + "/channels.jsonl"}},
		{name: "channel_wechat", args: []string{"--channel", "wechat", dir + "/channels.jsonl"}},
		{name: "channel_json", args: []string{"--json", "--channel=wechat", dir + "/channels.jsonl"}},
		{name: "garbage", args: []string{dir + "/garbage.txt"}},
		{name: "empty", args: []string{dir + "/empty.txt"}},
		{name: "empty_json", args: []string{"--json", dir + "/empty.txt"}},
		{name: "blank", args: []string{dir + "/blank.txt"}},
		{name: "bad_flag", args: []string{"--chanel", "web", dir + "/valid.jsonl"}},
		{name: "bad_channel", args: []string{"--channel", "sdk@five", dir + "/valid.jsonl"}},
		{name: "empty_channel", args: []string{"--channel", "", dir + "/valid.jsonl"}},
		{name: "missing_file", args: []string{dir + "/missing.jsonl"}},
		{name: "two_files", args: []string{dir + "/valid.jsonl", dir + "/rules.jsonl"}},
		{name: "directory", args: []string{dir}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdin := strings.NewReader("")
			if tt.stdin != "" {
				b, err := os.ReadFile(filepath.Join(dir, tt.stdin))
				if err != nil {
					t.Fatal(err)
				}
				stdin = strings.NewReader(string(b))
			}
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), append([]string{"validate"}, tt.args...), stdin, &stdout, &stderr)
			got := fmt.Sprintf("exit %d\n-- stdout --\n%s-- stderr --\n%s", code, stdout.String(), stderr.String())
			golden := filepath.Join(dir, tt.name+".golden")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("assistant validate %s: output differs from %s (-want +got):\n%s", strings.Join(tt.args, " "), golden, diff)
			}
		})
	}
}

// TestValidateExitCodes pins the exit-code contract independently of the
// golden files, so a careless -update cannot change it unnoticed.
func TestValidateExitCodes(t *testing.T) {
	const dir = "testdata/validate/"
	tests := []struct {
		args []string
		want int
	}{
		{[]string{dir + "valid.jsonl"}, exitOK},
		{[]string{"--channel", "sdk@5.1.1", dir + "channels.jsonl"}, exitProblem},
		{[]string{"--channel", "miniprogram", dir + "valid.jsonl"}, exitProblem},
		{[]string{dir + "rules.jsonl"}, exitProblem},
		{[]string{dir + "garbage.txt"}, exitProblem},
		{[]string{dir + "empty.txt"}, exitProblem},
		{[]string{"--nope"}, exitUsage},
		{[]string{"--channel", "sdk@x.y"}, exitUsage},
		{[]string{dir + "missing.jsonl"}, exitUsage},
		{[]string{"-h"}, exitOK},
	}
	for _, tt := range tests {
		var out, errb bytes.Buffer
		if got := run(context.Background(), append([]string{"validate"}, tt.args...), strings.NewReader(""), &out, &errb); got != tt.want {
			t.Errorf("validate %q: exit %d, want %d\nstdout: %s\nstderr: %s", tt.args, got, tt.want, out.String(), errb.String())
		}
	}
}

// TestValidateJSONReport checks the --json report field by field for one
// input with one message of each outcome.
func TestValidateJSONReport(t *testing.T) {
	in := `{"method":"sendMsg","type":"text","content":"hi"}
{"method":"sendMsg","type":"product","content":{"name":"P"}}
{"method":"sendMsg","type":"miniprogrampage","content":{"title":"T","pagepath":"p","pic_url":"https://i.example/p.jpg"}}
hello
`
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"validate", "--json", "--channel", "web"}, strings.NewReader(in), &out, &errb)
	if code != exitProblem {
		t.Fatalf("exit %d, want %d; stderr: %s", code, exitProblem, errb.String())
	}
	var got report
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("--json output is not JSON: %v\n%s", err, out.String())
	}
	want := report{
		Input: "<stdin>", Channel: "web", Messages: 4, Invalid: 2, NotAllowed: 1,
		Results: []result{
			{Line: 1, OK: true, Type: "text"},
			{Line: 2, Type: "product", Kind: "invalid", Field: "imgUrl", Rule: "is required", Error: "assistant: product: imgUrl is required"},
			{Line: 3, Type: "miniprogrampage", Kind: "not allowed", Field: "type", Rule: "miniprogrampage goes to miniprogram (channel web)",
				Error: "assistant: miniprogrampage not allowed on channel web (rule: miniprogrampage goes to miniprogram)"},
			{Line: 4, Kind: "invalid", Rule: "unexpected character 'h'", Error: "assistant: invalid JSON at offset 0: unexpected character 'h'"},
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("report (-want +got):\n%s", diff)
	}
}

// TestValidateTooLarge: a message over assistant.MaxMessageSize is
// reported as such, and the next line is still judged.
func TestValidateTooLarge(t *testing.T) {
	big := `{"method":"sendMsg","type":"text","content":"` + strings.Repeat("a", assistant.MaxMessageSize) + `"}`
	rep := validate([]byte(big+"\n"+`{"method":"sendMsg","type":"text","content":"hi"}`+"\n"), nil)
	want := []result{
		{Line: 1, Kind: "invalid", Field: "message", Rule: "is 1048623 bytes, over the limit of 1048576 (assistant.MaxMessageSize)",
			Error: "assistant: message of 1048623 bytes is larger than the limit of 1048576 bytes"},
		{Line: 2, OK: true, Type: "text"},
	}
	if diff := cmp.Diff(want, rep.Results); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
}

func TestLineIndex(t *testing.T) {
	idx := newLineIndex([]byte("ab\n\ncd\n"))
	for off, want := range []int{1, 1, 1, 2, 3, 3, 3, 4} {
		if got := idx.line(off); got != want {
			t.Errorf("line(%d) = %d, want %d", off, got, want)
		}
	}
}
