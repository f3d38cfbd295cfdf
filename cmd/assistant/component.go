//go:build !js

package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"time"
)

// modulePath is this module, whose examples/wasm-component is the default
// component.
const modulePath = "github.com/imworkspace/assistant"

// exampleDir is the default component's package, relative to the module.
const exampleDir = "examples/wasm-component"

// buildTimeout bounds one build of the default component.
const buildTimeout = 5 * time.Minute

// builder builds the default component (a Go WebAssembly page) with the
// local Go toolchain into a cache directory. It builds on first use after
// each sim start and again whenever a Go source, go.mod or go.sum of the
// module changes; a failed build is remembered for the same sources, so
// the page shows the error without rebuilding on every reload. It is safe
// for concurrent use: callers wait for a build in progress.
type builder struct {
	moduleDir string // "" when not found; findErr says why
	findErr   error
	cacheDir  string
	log       io.Writer

	mu    sync.Mutex
	print string // fingerprint of the sources last built
	err   error  // result of that build
}

// newBuilder locates the module source and the cache directory. A module
// that cannot be found is not an error here: the component origin serves a
// page that says so, and --component still works.
func newBuilder(ctx context.Context, moduleDir, cacheDir string, log io.Writer) *builder {
	b := &builder{moduleDir: moduleDir, cacheDir: cacheDir, log: log}
	if b.moduleDir == "" {
		b.moduleDir, b.findErr = findModule(ctx)
	}
	if b.cacheDir == "" {
		dir, err := os.UserCacheDir()
		if err != nil {
			dir = os.TempDir()
		}
		sum := sha256.Sum256([]byte(b.moduleDir))
		b.cacheDir = filepath.Join(dir, "imworkspace-assistant", "sim", hex.EncodeToString(sum[:6]))
	}
	return b
}

// findModule finds the source of this module: the module of the current
// directory when it is this one (go run ./cmd/assistant in a checkout), or
// the module cache copy of the version this binary was built from.
func findModule(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("no Go toolchain to build the default component (go env GOMOD: %v); install Go, or pass --component URL", err)
	}
	if gomod := strings.TrimSpace(string(out)); gomod != "" && gomod != os.DevNull {
		if modulePathOf(gomod) == modulePath {
			return filepath.Dir(gomod), nil
		}
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Path == modulePath && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		out, err := exec.CommandContext(ctx, "go", "mod", "download", "-json", modulePath+"@"+bi.Main.Version).Output()
		var info struct{ Dir, Error string }
		if err == nil && json.Unmarshal(out, &info) == nil && info.Dir != "" {
			return info.Dir, nil
		}
		return "", fmt.Errorf("cannot download %s@%s to build the default component: %v %s", modulePath, bi.Main.Version, err, info.Error)
	}
	return "", fmt.Errorf("cannot find the source of %s to build the default component: run the sim inside a checkout of it, or pass --component URL", modulePath)
}

// modulePathOf reads the module line of a go.mod file.
func modulePathOf(gomod string) string {
	f, err := os.Open(gomod)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "module "); ok {
			return strings.Trim(strings.TrimSpace(rest), `"`)
		}
	}
	return ""
}

// ensure makes sure the cache holds a build of the current sources and
// returns the directories to serve: the example's own files (index.html)
// and the cache (main.wasm, wasm_exec.js).
func (b *builder) ensure(ctx context.Context) (srcDir, outDir string, err error) {
	if b.findErr != nil {
		return "", "", b.findErr
	}
	srcDir = filepath.Join(b.moduleDir, filepath.FromSlash(exampleDir))
	if _, err := os.Stat(srcDir); err != nil {
		return "", "", fmt.Errorf("the default component %s is not in %s: %v; pass --component URL", exampleDir, b.moduleDir, err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	print, err := fingerprint(b.moduleDir)
	if err != nil {
		return "", "", err
	}
	if print != b.print {
		b.print, b.err = print, b.build(ctx)
		if ctx.Err() != nil {
			b.print = "" // cut short, not failed: build again next time
		}
	}
	return srcDir, b.cacheDir, b.err
}

func (b *builder) build(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, buildTimeout)
	defer cancel()
	if err := os.MkdirAll(b.cacheDir, 0o755); err != nil {
		return err
	}
	goroot, err := exec.CommandContext(ctx, "go", "env", "GOROOT").Output()
	if err != nil {
		return fmt.Errorf("go env GOROOT: %v", err)
	}
	start := time.Now()
	fmt.Fprintf(b.log, "building the default component (%s) into %s\n", exampleDir, b.cacheDir)
	cmd := exec.CommandContext(ctx, "go", "build", "-o", filepath.Join(b.cacheDir, "main.wasm"), "./"+exampleDir)
	cmd.Dir = b.moduleDir
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		msg := fmt.Errorf("GOOS=js GOARCH=wasm go build ./%s in %s failed: %v\n%s", exampleDir, b.moduleDir, err, out.Bytes())
		fmt.Fprintln(b.log, msg)
		return msg
	}
	js, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(goroot)), "lib", "wasm", "wasm_exec.js"))
	if err != nil {
		return fmt.Errorf("reading wasm_exec.js of the Go toolchain: %v", err)
	}
	if err := os.WriteFile(filepath.Join(b.cacheDir, "wasm_exec.js"), js, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(b.log, "built the default component in %v\n", time.Since(start).Round(time.Millisecond))
	return nil
}

// fingerprint summarizes the names, sizes and modification times of the
// module's Go sources, go.mod and go.sum, and the example's files.
func fingerprint(root string) (string, error) {
	h := sha256.New()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata" || name == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		if !strings.HasSuffix(name, ".go") && name != "go.mod" && name != "go.sum" &&
			!strings.HasPrefix(filepath.ToSlash(rel), exampleDir+"/") {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s %d %d\n", rel, info.Size(), info.ModTime().UnixNano())
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("reading the sources of the default component: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
