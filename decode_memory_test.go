package assistant

import (
	"errors"
	"runtime"
	"strings"
	"testing"
)

// hostileInputs returns inputs of about n bytes shaped to make a decoder
// that builds a tree, or keeps what it skips, allocate many times their
// size: long arrays under unknown keys, at the top level and as content
// seen before the type, deep nesting, long and escaped strings, many keys,
// many tiny product params (the most a valid message can cost).
func hostileInputs(n int) []struct{ name, in string } {
	ones := strings.TrimSuffix(strings.Repeat("1,", n/2), ",")
	return []struct{ name, in string }{
		{"unknown-key-array", `{"method":"sendMsg","type":"text","content":"a","zz":[` + ones + `]}`},
		{"top-level-array", `[` + ones + `]`},
		{"content-first-array", `{"content":[` + ones + `],"method":"sendMsg","type":"text"}`},
		{"content-first-objects", `{"content":[` + strings.TrimSuffix(strings.Repeat(`{"k":1},`, n/8), ",") + `],"type":"text"}`},
		{"deep", strings.Repeat(`{"content":`, n/11)},
		{"deep-arrays", `{"content":` + strings.Repeat(`[`, n-12) + `}`},
		{"long-string", `{"method":"sendMsg","type":"text","content":"` + strings.Repeat("a", n-50) + `"}`},
		{"escaped-string", `{"method":"sendMsg","type":"text","content":"` + strings.Repeat(`\u00e9`, n/6-10) + `"}`},
		{"long-key", `{"method":"sendMsg","` + strings.Repeat(`\u0001`, n/6-10) + `":1}`},
		{"many-keys", `{"method":"sendMsg"` + strings.Repeat(`,"k":1`, n/6-10) + `}`},
		{"many-params", `{"method":"sendMsg","type":"product","content":{"name":"n","imgUrl":"http://a/b","params":[` +
			strings.TrimSuffix(strings.Repeat(`{"text":"a"},`, n/13-10), ",") + `]}}`},
		{"many-bad-params", `{"method":"sendMsg","type":"product","content":{"name":"n","imgUrl":"http://a/b","params":[` +
			strings.TrimSuffix(strings.Repeat(`{"text":"a"},`, n/13-10), ",") + `,{"zz":1}]}}`},
	}
}

// allocated returns the bytes one call of f allocates, the least of a few
// runs so that a stray allocation elsewhere does not count.
func allocated(f func()) uint64 {
	var least uint64
	for i := range 3 {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		f()
		runtime.ReadMemStats(&after)
		if d := after.TotalAlloc - before.TotalAlloc; i == 0 || d < least {
			least = d
		}
	}
	return least
}

// maxAllocRatio bounds the bytes Decode allocates per input byte. The
// worst shape is a valid product with many one-letter params: 13 input
// bytes each become a 48-byte ProductParam and a string.
const maxAllocRatio = 5

// TestDecodeBoundedMemory: whatever its shape, an input costs at most
// maxAllocRatio times its size, and an input over MaxMessageSize costs
// nothing at all. Before Decode streamed, a 1 MiB array under an unknown
// key cost 224 times its size.
func TestDecodeBoundedMemory(t *testing.T) {
	for _, size := range []int{MaxMessageSize - 64, 10 << 20} {
		for _, c := range hostileInputs(size) {
			data := []byte(c.in)
			var err error
			got := allocated(func() { _, err = Decode(data) })
			ratio := float64(got) / float64(len(data))
			t.Logf("%-22s %8d bytes: allocated %9d (%.2f×): %.50v", c.name, len(data), got, ratio, err)
			if ratio > maxAllocRatio {
				t.Errorf("%s: Decode of %d bytes allocated %d bytes, %.1f times the input; want at most %d times",
					c.name, len(data), got, ratio, maxAllocRatio)
			}
			if len(data) > MaxMessageSize && (!errors.Is(err, ErrTooLarge) || got > 1024) {
				t.Errorf("%s: Decode of %d bytes = %.80v after allocating %d bytes; want ErrTooLarge, before parsing", c.name, len(data), err, got)
			}
		}
	}
}

// BenchmarkDecodeHostile decodes each hostile shape at just under
// MaxMessageSize; B/op divided by the input size is the allocation ratio.
func BenchmarkDecodeHostile(b *testing.B) {
	for _, c := range hostileInputs(MaxMessageSize - 64) {
		data := []byte(c.in)
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				Decode(data)
			}
		})
	}
}
