package assistant

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func FuzzDecode(f *testing.F) {
	for _, g := range goldenSeed {
		f.Add([]byte(g))
	}
	f.Add([]byte(`{"method":"sendMsg","type":"product","content":{"name":"n","imgUrl":"http://a/b","params":[{"text":"t","fold":true,"size":3}]}}`))
	f.Add([]byte(`{"method":"sendMsg","type":"text","content":"\ud83d\ude00\u2028"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Decode(data)
		if err != nil {
			if m != nil || !errors.Is(err, ErrInvalid) {
				t.Fatalf("Decode error %v with message %v; want nil and ErrInvalid", err, m)
			}
			return
		}
		w, err := Encode(m)
		if err != nil {
			t.Fatalf("Decode accepted %q as %#v, which does not encode: %v", data, m, err)
		}
		m2, err := Decode(w)
		if err != nil {
			t.Fatalf("re-encoded %q does not decode: %v", w, err)
		}
		if diff := cmp.Diff(m, m2); diff != "" {
			t.Fatalf("decode(encode(decode(x))) differs (-first +second):\n%s", diff)
		}
	})
}
