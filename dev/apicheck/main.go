// Command apicheck writes, or checks, the description of every module's
// exported API in api/<module>.txt, one line per exported name, sorted,
// in the form of Go's own api/*.txt:
//
//	pkg github.com/imworkspace/assistant, func DeliveryOf(error) Delivery
//
// Run from the repository root:
//
//	go run ./dev/apicheck          # check: exit 1 and a diff when the code and the files differ
//	go run ./dev/apicheck -write   # regenerate after an intended API change
//
// CI runs the check, so every change to the exported API shows up in
// review as a change to api/*.txt, next to its CHANGELOG line.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"go/types"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"golang.org/x/tools/go/packages"
)

// modules are the released modules and their API files. The dev module
// and examples are not API.
var modules = []struct{ dir, file string }{
	{".", "api/assistant.txt"},
	{"wsbridge/natsroute", "api/natsroute.txt"},
	{"wsbridge/otelwsbridge", "api/otelwsbridge.txt"},
}

func main() {
	write := flag.Bool("write", false, "rewrite api/*.txt from the code instead of checking")
	flag.Parse()
	failed := false
	for _, m := range modules {
		got, err := describe(m.dir)
		if err != nil {
			fmt.Fprintf(os.Stderr, "apicheck: %s: %v\n", m.dir, err)
			os.Exit(2)
		}
		if *write {
			if err := os.MkdirAll(filepath.Dir(m.file), 0o755); err != nil {
				fmt.Fprintln(os.Stderr, "apicheck:", err)
				os.Exit(2)
			}
			if err := os.WriteFile(m.file, got, 0o644); err != nil {
				fmt.Fprintln(os.Stderr, "apicheck:", err)
				os.Exit(2)
			}
			continue
		}
		want, err := os.ReadFile(m.file)
		if err != nil {
			fmt.Fprintf(os.Stderr, "apicheck: %v (run go run ./dev/apicheck -write)\n", err)
			failed = true
			continue
		}
		if !bytes.Equal(got, want) {
			failed = true
			fmt.Printf("apicheck: the exported API of %s differs from %s:\n", m.dir, m.file)
			printDiff(string(want), string(got))
		}
	}
	if failed {
		fmt.Println("apicheck: if the change is intended, run `go run ./dev/apicheck -write`, commit api/*.txt and add a CHANGELOG line")
		os.Exit(1)
	}
}

// printDiff prints the lines only in want (-) and only in got (+).
func printDiff(want, got string) {
	w := strings.Split(strings.TrimSpace(want), "\n")
	g := strings.Split(strings.TrimSpace(got), "\n")
	for _, l := range w {
		if !slices.Contains(g, l) {
			fmt.Println("-", l)
		}
	}
	for _, l := range g {
		if !slices.Contains(w, l) {
			fmt.Println("+", l)
		}
	}
}

// platforms are the builds whose APIs are joined: a server's, and the
// browser's (package postmessage exists only under js/wasm).
var platforms = [][]string{
	{"GOOS=linux", "GOARCH=amd64", "CGO_ENABLED=0"},
	{"GOOS=js", "GOARCH=wasm"},
}

// describe lists the exported API of every importable package of the
// module in dir (not internal, not main, not _test), joined over
// platforms.
func describe(dir string) ([]byte, error) {
	var lines []string
	for _, env := range platforms {
		cfg := &packages.Config{
			Mode: packages.NeedName | packages.NeedTypes | packages.NeedModule | packages.NeedFiles | packages.NeedCompiledGoFiles,
			Dir:  dir,
			Env:  append(os.Environ(), env...),
		}
		pkgs, err := packages.Load(cfg, "./...")
		if err != nil {
			return nil, err
		}
		for _, p := range pkgs {
			if p.Name == "main" || isInternal(p.PkgPath) {
				continue
			}
			if len(p.Errors) > 0 {
				if len(p.GoFiles) == 0 && len(p.CompiledGoFiles) == 0 {
					continue // no files for this platform
				}
				return nil, fmt.Errorf("%s (%s): %v", p.PkgPath, env[0], p.Errors[0])
			}
			if p.Types == nil {
				continue
			}
			lines = append(lines, pkgLines(p.Types)...)
		}
	}
	sort.Strings(lines)
	lines = slices.Compact(lines)
	return []byte(strings.Join(lines, "\n") + "\n"), nil
}

func isInternal(path string) bool {
	for _, e := range strings.Split(path, "/") {
		if e == "internal" {
			return true
		}
	}
	return false
}

func pkgLines(pkg *types.Package) []string {
	prefix := "pkg " + pkg.Path() + ", "
	qual := func(p *types.Package) string {
		if p == pkg {
			return ""
		}
		return p.Name()
	}
	ts := func(t types.Type) string { return types.TypeString(t, qual) }
	var out []string
	add := func(s string) { out = append(out, prefix+s) }
	scope := pkg.Scope()
	for _, name := range scope.Names() {
		obj := scope.Lookup(name)
		if !obj.Exported() {
			continue
		}
		switch o := obj.(type) {
		case *types.Const:
			add(fmt.Sprintf("const %s %s = %s", name, ts(o.Type()), o.Val().ExactString()))
		case *types.Var:
			add(fmt.Sprintf("var %s %s", name, ts(o.Type())))
		case *types.Func:
			add("func " + name + strings.TrimPrefix(ts(o.Type()), "func"))
		case *types.TypeName:
			out = append(out, typeLines(prefix, o, ts)...)
		}
	}
	return out
}

func typeLines(prefix string, tn *types.TypeName, ts func(types.Type) string) []string {
	name := tn.Name()
	var out []string
	add := func(s string) { out = append(out, prefix+s) }
	if tn.IsAlias() {
		add(fmt.Sprintf("type %s = %s", name, ts(types.Unalias(tn.Type()))))
		return out
	}
	named, ok := tn.Type().(*types.Named)
	if !ok {
		return out
	}
	switch u := named.Underlying().(type) {
	case *types.Struct:
		add(fmt.Sprintf("type %s struct", name))
		for i := range u.NumFields() {
			f := u.Field(i)
			if !f.Exported() {
				continue
			}
			if f.Embedded() {
				add(fmt.Sprintf("type %s struct, embedded %s", name, ts(f.Type())))
			} else {
				add(fmt.Sprintf("type %s struct, %s %s", name, f.Name(), ts(f.Type())))
			}
		}
	case *types.Interface:
		add(fmt.Sprintf("type %s interface {%s}", name, ifaceMethods(u, ts)))
		for i := range u.NumExplicitMethods() {
			m := u.ExplicitMethod(i)
			if m.Exported() {
				add(fmt.Sprintf("type %s interface, %s%s", name, m.Name(), strings.TrimPrefix(ts(m.Type()), "func")))
			}
		}
	default:
		add(fmt.Sprintf("type %s %s", name, ts(u)))
	}
	// Methods declared on T and *T, and those promoted from embedded fields.
	for _, recv := range []types.Type{named, types.NewPointer(named)} {
		ms := types.NewMethodSet(recv)
		for sel := range ms.Methods() {
			m := sel.Obj().(*types.Func)
			if !m.Exported() {
				continue
			}
			if _, isPtr := recv.(*types.Pointer); isPtr && types.NewMethodSet(named).Lookup(m.Pkg(), m.Name()) != nil {
				continue // listed for T already
			}
			r := name
			if _, isPtr := recv.(*types.Pointer); isPtr {
				r = "*" + name
			}
			if _, isIface := named.Underlying().(*types.Interface); isIface {
				continue
			}
			add(fmt.Sprintf("method (%s) %s%s", r, m.Name(), strings.TrimPrefix(ts(m.Type()), "func")))
		}
	}
	return out
}

func ifaceMethods(u *types.Interface, ts func(types.Type) string) string {
	var names []string
	for i := range u.NumMethods() {
		names = append(names, u.Method(i).Name())
	}
	for i := range u.NumEmbeddeds() {
		names = append(names, ts(u.EmbeddedType(i)))
	}
	if len(names) == 0 {
		return ""
	}
	return " " + strings.Join(names, ", ") + " "
}
