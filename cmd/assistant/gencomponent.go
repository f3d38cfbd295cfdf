//go:build ignore

// gencomponent builds the sim's default component, the Go WebAssembly
// example examples/wasm-component, into component/: main.wasm.gz and
// wasm_exec.js.gz (gzip of the build and of the toolchain's
// lib/wasm/wasm_exec.js), a copy of index.html, and BUILD, which records
// the Go version and the SHA-256 of each uncompressed file. The binary
// embeds them, so "assistant sim" needs no source, no Go toolchain and no
// network (issue 20).
//
// Regenerate after changing the example, the packages it imports, or Go:
//
//	cd cmd/assistant && go generate
//
// CI checks that the committed files are what the source builds to:
//
//	cd cmd/assistant && go run gencomponent.go -check
//
// The check builds with the Go version BUILD records (GOTOOLCHAIN, which
// may download it) and compares the uncompressed bytes and index.html; it
// compares those, not the .gz files, because compress/flate's output may
// change between Go versions without the content changing.
//
// The build is reproducible: -trimpath (no directory names),
// -buildvcs=false (no commit id, which changes with every commit), GOWORK=off
// (the root module's go.mod alone decides the dependencies), empty GOFLAGS.
package main

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

const (
	example = "examples/wasm-component" // relative to the root module
	outDir  = "component"               // relative to cmd/assistant
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("gencomponent: ")
	check := flag.Bool("check", false, "rebuild with the Go version in "+outDir+"/BUILD and fail if the committed files differ")
	flag.Parse()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		log.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(root, "go.mod")); err != nil || !bytes.Contains(b, []byte("module github.com/imworkspace/assistant\n")) {
		log.Fatalf("run me in cmd/assistant of a checkout (cd cmd/assistant && go generate): %s is not the root module", root)
	}

	toolchain := "" // the local go
	if *check {
		m, err := readBuild(filepath.Join(outDir, "BUILD"))
		if err != nil {
			log.Fatal(err)
		}
		toolchain = m["go"]
	}
	tmp, err := os.MkdirTemp("", "gencomponent")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	files, version, err := build(root, tmp, toolchain)
	if err != nil {
		log.Fatal(err)
	}
	manifest := fmt.Sprintf("go %s\n", version)
	for _, name := range []string{"index.html", "main.wasm", "wasm_exec.js"} {
		sum := sha256.Sum256(files[name])
		manifest += fmt.Sprintf("sha256 %s %s\n", name, hex.EncodeToString(sum[:]))
	}

	if *check {
		if diff := compare(files, manifest); diff != "" {
			log.Fatalf("%s/ is not what %s builds to with %s: %s\nRegenerate and commit it: cd cmd/assistant && go generate (with %s, or record your Go version by regenerating with it)",
				outDir, example, version, diff, version)
		}
		fmt.Printf("gencomponent: %s/ matches %s built with %s\n", outDir, example, version)
		return
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		log.Fatal(err)
	}
	write := func(name string, b []byte) {
		if err := os.WriteFile(filepath.Join(outDir, name), b, 0o644); err != nil {
			log.Fatal(err)
		}
	}
	write("index.html", files["index.html"])
	write("main.wasm.gz", gz(files["main.wasm"]))
	write("wasm_exec.js.gz", gz(files["wasm_exec.js"]))
	write("BUILD", []byte(manifest))
	fmt.Printf("gencomponent: wrote %s/ (%s, main.wasm %d bytes)\n", outDir, version, len(files["main.wasm"]))
}

// build compiles the example with toolchain ("" for the local go) and
// returns index.html, main.wasm and the toolchain's wasm_exec.js, and the
// Go version that built them.
func build(root, tmp, toolchain string) (map[string][]byte, string, error) {
	env := append(os.Environ(), "GOOS=js", "GOARCH=wasm", "GOWORK=off", "GOFLAGS=")
	if toolchain != "" {
		env = append(env, "GOTOOLCHAIN="+toolchain)
	}
	goCmd := func(args ...string) ([]byte, error) {
		cmd := exec.Command("go", args...)
		cmd.Dir, cmd.Env = root, env
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return nil, fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, stderr.Bytes())
		}
		return out, nil
	}
	out, err := goCmd("env", "GOVERSION", "GOROOT")
	if err != nil {
		return nil, "", err
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 2 {
		return nil, "", fmt.Errorf("go env GOVERSION GOROOT: %q", out)
	}
	version, goroot := lines[0], lines[1]
	wasm := filepath.Join(tmp, "main.wasm")
	if _, err := goCmd("build", "-trimpath", "-buildvcs=false", "-o", wasm, "./"+example); err != nil {
		return nil, "", err
	}
	files := map[string][]byte{}
	for name, path := range map[string]string{
		"main.wasm":    wasm,
		"wasm_exec.js": filepath.Join(goroot, "lib", "wasm", "wasm_exec.js"),
		"index.html":   filepath.Join(root, example, "index.html"),
	} {
		if files[name], err = os.ReadFile(path); err != nil {
			return nil, "", err
		}
	}
	return files, version, nil
}

// compare returns "" when outDir holds files and manifest, else what differs.
func compare(files map[string][]byte, manifest string) string {
	var diffs []string
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(outDir, name))
		if err != nil {
			diffs = append(diffs, err.Error())
		}
		return b
	}
	if got := read("BUILD"); string(got) != manifest {
		diffs = append(diffs, fmt.Sprintf("BUILD is\n%s\nwant\n%s", got, manifest))
	}
	if got := read("index.html"); !bytes.Equal(got, files["index.html"]) {
		diffs = append(diffs, "index.html differs")
	}
	for _, name := range []string{"main.wasm", "wasm_exec.js"} {
		zb := read(name + ".gz")
		zr, err := gzip.NewReader(bytes.NewReader(zb))
		if err != nil {
			diffs = append(diffs, name+".gz: "+err.Error())
			continue
		}
		got, err := io.ReadAll(zr)
		if err != nil {
			diffs = append(diffs, name+".gz: "+err.Error())
			continue
		}
		if !bytes.Equal(got, files[name]) {
			diffs = append(diffs, name+" differs")
		}
	}
	return strings.Join(diffs, "; ")
}

// readBuild reads BUILD's "key value..." lines; "go" is the Go version.
func readBuild(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, " "); ok {
			m[k] = v
		}
	}
	if !strings.HasPrefix(m["go"], "go1.") {
		return nil, fmt.Errorf("%s: no \"go go1.N.M\" line", path)
	}
	return m, nil
}

// gz compresses b reproducibly: no name, no modification time.
func gz(b []byte) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}
