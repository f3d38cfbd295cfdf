// Command wasmsize reports how big the example component is as a
// GOOS=js GOARCH=wasm binary, next to a minimal syscall/js program that
// posts one string to its parent, and where the bytes go.
//
// Run it from anywhere in the module:
//
//	go run ./dev/wasmsize
//
// It builds, with the same toolchain and flags (-trimpath):
//   - minimal: syscall/js only, parent.postMessage of one string;
//   - fmt: minimal formatting its string with fmt.Sprintf, since the root
//     package and semver use fmt;
//   - semver: minimal plus a blank import of github.com/Masterminds/semver/v3,
//     which the root package imports and whose init compiles its regexps;
//   - postmessage: postmessage.New and one Send of a Text, no pacing;
//   - example: ./examples/wasm-component, the full component.
//
// For each it prints the raw size, the gzip size (level 6, gzip's default,
// what a web server typically serves) and the gzip ratio to minimal; then,
// for the example, the ten packages with the most code, read from the
// binary's code and name sections (data, such as type descriptors and
// unicode tables, is reported as one total since the wasm data section does
// not say which package owns what). The goal is example gzip <= 1.8x
// minimal; the exit status is 1 when it is missed.
package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// Variants built through a -overlay file under this directory, so they are
// compiled inside the module (same go.mod, same dependency versions) but
// never written to the source tree.
var variants = []struct{ name, src string }{
	{"minimal", `package main

import "syscall/js"

func main() {
	js.Global().Get("parent").Call("postMessage", "{\"method\":\"sendMsg\",\"type\":\"text\",\"content\":\"hi\"}", "https://workspace.example.com")
}
`},
	{"fmt", `package main

import (
	"fmt"
	"syscall/js"
)

func main() {
	js.Global().Get("parent").Call("postMessage", fmt.Sprintf("{\"method\":\"sendMsg\",\"type\":\"text\",\"content\":%q}", "hi"), "https://workspace.example.com")
}
`},
	{"semver", `package main

import (
	"syscall/js"

	_ "github.com/Masterminds/semver/v3"
)

func main() {
	js.Global().Get("parent").Call("postMessage", "{\"method\":\"sendMsg\",\"type\":\"text\",\"content\":\"hi\"}", "https://workspace.example.com")
}
`},
	{"postmessage", `package main

import (
	"context"

	"github.com/imworkspace/assistant"
	"github.com/imworkspace/assistant/postmessage"
)

func main() {
	s, err := postmessage.New("https://workspace.example.com")
	if err != nil {
		panic(err)
	}
	if err := s.Send(context.Background(), assistant.NewText("hi")); err != nil {
		panic(err)
	}
}
`},
}

const goal = 1.8

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "wasmsize:", err)
		os.Exit(2)
	}
}

func run() error {
	// The repository's root: go.work's directory (this command is in the
	// dev module, the packages it measures in the root module).
	root, err := goEnv("GOWORK")
	if err != nil {
		return err
	}
	if root == "" || root == "off" {
		return errors.New("run inside the repository (with its go.work)")
	}
	root = filepath.Dir(root)
	tmp, err := os.MkdirTemp("", "wasmsize")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	type result struct {
		name      string
		raw, gzip int
		byPkg     map[string]int // code bytes per package
		mod       *module
	}
	var results []result
	build := func(name, pkg, overlay string) error {
		out := filepath.Join(tmp, name+".wasm")
		args := []string{"build", "-trimpath", "-o", out}
		if overlay != "" {
			args = append(args, "-overlay", overlay)
		}
		cmd := exec.Command("go", append(args, pkg)...)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
		if msg, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("building %s: %v\n%s", name, err, msg)
		}
		bin, err := os.ReadFile(out)
		if err != nil {
			return err
		}
		mod, err := parseWASM(bin)
		if err != nil {
			return fmt.Errorf("reading %s.wasm: %w", name, err)
		}
		idx, err := pkgIndex(root, pkg, overlay)
		if err != nil {
			return err
		}
		byPkg := map[string]int{}
		for fn, n := range mod.code {
			byPkg[pkgOf(idx, fn)] += n
		}
		results = append(results, result{name, len(bin), gzipSize(bin), byPkg, mod})
		return nil
	}
	for _, v := range variants {
		src := filepath.Join(tmp, v.name+".go")
		if err := os.WriteFile(src, []byte(v.src), 0o644); err != nil {
			return err
		}
		// A directory that does not exist in the tree, filled by the overlay.
		dir := filepath.Join("scripts", "wasmsize", "_variant_"+v.name)
		overlay, err := json.Marshal(map[string]any{"Replace": map[string]string{filepath.Join(root, dir, "main.go"): src}})
		if err != nil {
			return err
		}
		ov := filepath.Join(tmp, v.name+".json")
		if err := os.WriteFile(ov, overlay, 0o644); err != nil {
			return err
		}
		if err := build(v.name, "./"+filepath.ToSlash(dir), ov); err != nil {
			return err
		}
	}
	if err := build("example", "./examples/wasm-component", ""); err != nil {
		return err
	}

	base, ex := results[0], results[len(results)-1]
	fmt.Printf("%-12s %10s %10s %9s %10s %10s\n", "program", "raw", "gzip", "gzip/min", "code", "data")
	for _, r := range results {
		fmt.Printf("%-12s %10d %10d %9.2f %10d %10d\n", r.name, r.raw, r.gzip, float64(r.gzip)/float64(base.gzip), r.mod.codeSize, r.mod.dataSize)
	}

	pkgs := make([]string, 0, len(ex.byPkg))
	for p := range ex.byPkg {
		pkgs = append(pkgs, p)
	}
	sort.Slice(pkgs, func(i, j int) bool { return ex.byPkg[pkgs[i]] > ex.byPkg[pkgs[j]] })
	row := func(p string) {
		fmt.Printf("  %-40s", p)
		for _, r := range results {
			fmt.Printf(" %11d", r.byPkg[p])
		}
		fmt.Println()
	}
	fmt.Printf("\ncode bytes per package (wasm code section; data is not attributed)\n  %-40s", "ten largest in example")
	for _, r := range results {
		fmt.Printf(" %11s", r.name)
	}
	fmt.Println()
	for _, p := range pkgs[:min(10, len(pkgs))] {
		row(p)
	}
	fmt.Println("  this module and its dependencies")
	for _, p := range pkgs {
		if strings.HasPrefix(p, "github.com/") || strings.HasPrefix(p, "golang.org/") {
			row(p)
		}
	}

	ratio := float64(ex.gzip) / float64(base.gzip)
	fmt.Printf("\nexample gzip / minimal gzip = %.2f (goal <= %.1f): ", ratio, goal)
	if ratio > goal {
		fmt.Println("MISSED")
		os.Exit(1)
	}
	fmt.Println("met")
	return nil
}

func goEnv(key string) (string, error) {
	out, err := exec.Command("go", "env", key).Output()
	if err != nil {
		return "", fmt.Errorf("go env %s: %w", key, err)
	}
	return strings.TrimSpace(string(out)), nil
}

func gzipSize(b []byte) int {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.DefaultCompression)
	zw.Write(b)
	zw.Close()
	return buf.Len()
}

// pkgIndex maps the package paths of pkg's build (GOOS=js GOARCH=wasm)
// as Go's wasm linker mangles them in the name section, with "/" turned
// into "_" (so "regexp/syntax.(*parser).push" is
// "regexp_syntax.__parser_.push"), to the real paths.
func pkgIndex(root, pkg, overlay string) (map[string]string, error) {
	args := []string{"list", "-deps"}
	if overlay != "" {
		args = append(args, "-overlay", overlay)
	}
	cmd := exec.Command("go", append(args, pkg)...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list -deps %s: %w", pkg, err)
	}
	idx := map[string]string{"main": "main"}
	for _, p := range strings.Fields(string(out)) {
		idx[strings.ReplaceAll(p, "/", "_")] = p
	}
	return idx, nil
}

// pkgOf returns the package a wasm function name belongs to: the shortest
// prefix before a "." that names a package. Compiler-generated equality
// functions ("type:.eq...") group as "(generated)".
func pkgOf(idx map[string]string, sym string) string {
	if strings.HasPrefix(sym, "type_.") || strings.HasPrefix(sym, "go_") {
		return "(generated)"
	}
	for i := 0; i < len(sym); i++ {
		if sym[i] == '.' {
			if p, ok := idx[sym[:i]]; ok {
				return p
			}
		}
	}
	return "(unknown)"
}
