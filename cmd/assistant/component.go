//go:build !js

package main

//go:generate go run gencomponent.go

import (
	"bytes"
	"compress/gzip"
	"embed"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// The default component is the Go WebAssembly example
// (examples/wasm-component), prebuilt by gencomponent.go into component/
// and embedded: the sim serves it from any installed binary, with no
// source, Go toolchain or network (issue 20). component/BUILD records the
// Go version that built main.wasm; wasm_exec.js is that version's own.
//
//go:embed component
var componentFS embed.FS

// embeddedFile is one file of the default component, kept gzip-compressed
// as embedded: most browsers accept gzip and get it as is.
type embeddedFile struct {
	contentType string
	gz          []byte // gzip of the content; nil for a file stored plain
	plain       []byte // the content when stored plain

	once  sync.Once // decompresses gz for a client that does not accept gzip
	unzip []byte
	err   error
}

// defaultComponent maps the component origin's paths to its files.
type defaultComponent struct {
	files   map[string]*embeddedFile
	version string // Go version that built main.wasm, from BUILD
}

// loadDefaultComponent reads the embedded component. An error means the
// binary was built without it (a source tree whose component/ was not
// generated): the sim then says so in the frame, and --component works.
func loadDefaultComponent() (*defaultComponent, error) {
	read := func(name string) ([]byte, error) {
		b, err := componentFS.ReadFile("component/" + name)
		if err != nil {
			return nil, fmt.Errorf("this assistant binary has no default component (%v): build it from a source tree whose cmd/assistant/component/ is generated (cd cmd/assistant && go generate), or pass --component URL", err)
		}
		return b, nil
	}
	build, err := read("BUILD")
	if err != nil {
		return nil, err
	}
	c := &defaultComponent{files: map[string]*embeddedFile{}}
	for _, line := range strings.Split(string(build), "\n") {
		if v, ok := strings.CutPrefix(line, "go "); ok {
			c.version = v
		}
	}
	for path, f := range map[string]struct{ name, typ string }{
		"/":             {"index.html", "text/html; charset=utf-8"},
		"/index.html":   {"index.html", "text/html; charset=utf-8"},
		"/main.wasm":    {"main.wasm.gz", "application/wasm"},
		"/wasm_exec.js": {"wasm_exec.js.gz", "text/javascript; charset=utf-8"},
	} {
		b, err := read(f.name)
		if err != nil {
			return nil, err
		}
		e := &embeddedFile{contentType: f.typ}
		if strings.HasSuffix(f.name, ".gz") {
			e.gz = b
		} else {
			e.plain = b
		}
		c.files[path] = e
	}
	return c, nil
}

// ServeHTTP serves the component's files, gzip-encoded when the client
// accepts it.
func (c *defaultComponent) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f := c.files[r.URL.Path]
	if f == nil {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", f.contentType)
	body := f.plain
	if f.gz != nil {
		h.Add("Vary", "Accept-Encoding")
		if acceptsGzip(r.Header.Get("Accept-Encoding")) {
			h.Set("Content-Encoding", "gzip")
			body = f.gz
		} else {
			f.once.Do(func() {
				zr, err := gzip.NewReader(bytes.NewReader(f.gz))
				if err == nil {
					f.unzip, err = io.ReadAll(zr)
				}
				f.err = err
			})
			if f.err != nil {
				http.Error(w, "assistant sim: the embedded default component is corrupt: "+f.err.Error(), http.StatusInternalServerError)
				return
			}
			body = f.unzip
		}
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	if r.Method == http.MethodHead {
		return
	}
	w.Write(body)
}

// acceptsGzip reports whether an Accept-Encoding header value allows
// gzip: listed (or "*") without q=0.
func acceptsGzip(accept string) bool {
	for part := range strings.SplitSeq(accept, ",") {
		coding, params, _ := strings.Cut(part, ";")
		coding = strings.ToLower(strings.TrimSpace(coding))
		if coding != "gzip" && coding != "*" {
			continue
		}
		q := strings.ReplaceAll(strings.ToLower(params), " ", "")
		if q == "q=0" || strings.HasPrefix(q, "q=0.0") && strings.Trim(q[len("q=0."):], "0") == "" {
			return false
		}
		return true
	}
	return false
}
