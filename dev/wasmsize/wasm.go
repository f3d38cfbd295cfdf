package main

import (
	"errors"
	"fmt"
)

// module is what wasmsize needs from a wasm binary: code bytes per
// function name and the section sizes.
type module struct {
	code     map[string]int // function name -> body bytes
	codeSize int
	dataSize int
}

// parseWASM reads the import, code, data and name sections of a wasm
// module (https://webassembly.github.io/spec/core/binary/).
func parseWASM(b []byte) (*module, error) {
	if len(b) < 8 || string(b[:4]) != "\x00asm" {
		return nil, errors.New("not a wasm module")
	}
	r := &reader{b: b, off: 8}
	var (
		imported int
		bodies   []int
		names    = map[int]string{}
		m        = &module{code: map[string]int{}}
	)
	for r.off < len(r.b) && r.err == nil {
		id := r.byte()
		size := int(r.u32())
		end := r.off + size
		if r.err != nil || end > len(r.b) {
			return nil, fmt.Errorf("section %d at %d: truncated", id, r.off)
		}
		sec := &reader{b: r.b[:end], off: r.off}
		switch id {
		case 0: // custom
			if sec.name() == "name" {
				readNames(sec, names)
			}
		case 2: // import
			for n := sec.u32(); n > 0 && sec.err == nil; n-- {
				sec.name()
				sec.name()
				switch kind := sec.byte(); kind {
				case 0: // func
					sec.u32()
					imported++
				case 1: // table
					sec.byte()
					sec.limits()
				case 2: // memory
					sec.limits()
				case 3: // global
					sec.byte()
					sec.byte()
				default:
					return nil, fmt.Errorf("import kind %d", kind)
				}
			}
		case 10: // code
			m.codeSize = size
			for n := sec.u32(); n > 0 && sec.err == nil; n-- {
				l := int(sec.u32())
				bodies = append(bodies, l)
				sec.off += l
			}
		case 11: // data
			m.dataSize = size
		}
		if sec.err != nil {
			return nil, fmt.Errorf("section %d: %w", id, sec.err)
		}
		r.off = end
	}
	if r.err != nil {
		return nil, r.err
	}
	for i, l := range bodies {
		name, ok := names[imported+i]
		if !ok {
			name = fmt.Sprintf("func[%d]", imported+i)
		}
		m.code[name] += l
	}
	return m, nil
}

func readNames(r *reader, names map[int]string) {
	for r.off < len(r.b) && r.err == nil {
		id := r.byte()
		end := r.off + int(r.u32())
		if id == 1 { // function names
			for n := r.u32(); n > 0 && r.err == nil; n-- {
				idx := int(r.u32())
				names[idx] = r.name()
			}
		}
		r.off = end
	}
}

type reader struct {
	b   []byte
	off int
	err error
}

func (r *reader) byte() byte {
	if r.off >= len(r.b) {
		r.err = errors.New("unexpected end")
		return 0
	}
	c := r.b[r.off]
	r.off++
	return c
}

func (r *reader) u32() uint32 {
	var v uint32
	for shift := 0; shift < 35; shift += 7 {
		c := r.byte()
		v |= uint32(c&0x7f) << shift
		if c&0x80 == 0 {
			return v
		}
	}
	r.err = errors.New("bad LEB128")
	return 0
}

func (r *reader) name() string {
	n := int(r.u32())
	if r.err != nil || r.off+n > len(r.b) {
		r.err = errors.New("bad name")
		return ""
	}
	s := string(r.b[r.off : r.off+n])
	r.off += n
	return s
}

func (r *reader) limits() {
	if r.byte()&1 != 0 {
		r.u32()
	}
	r.u32()
}
