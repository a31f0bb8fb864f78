package canonjson

import (
	"bytes"
	"encoding/json"
	"maps"
	"strings"
	"testing"
)

func TestAppendStringMatchesMarshal(t *testing.T) {
	for _, tc := range []struct {
		reason string
		in     string
	}{
		{"plain ASCII passes through", "abc-123_x.y"},
		{"quote and backslash are escaped", `a"b\c`},
		{"short control escapes", "\b\f\n\r\t"},
		{"other control characters as \\u00XX", "\x00\x01\x1f\x7f"},
		{"HTML characters are escaped by default", "<a>&"},
		{"valid multi-byte UTF-8 passes through", "héllo, 世界"},
		{"U+2028 and U+2029 are escaped", "a\u2028b\u2029c"},
		{"invalid UTF-8 becomes \\ufffd per byte", "a\xff\xfeb\xc3"},
		{"a JSON document inside a string", `{"a":"b","c":{"d":1}}`},
		{"empty", ""},
	} {
		want, _ := json.Marshal(tc.in)
		if got := AppendString(nil, tc.in); !bytes.Equal(got, want) {
			t.Errorf("%s: AppendString(%q) = %s, want %s", tc.reason, tc.in, got, want)
		}
		if got := AppendString(nil, []byte(tc.in)); !bytes.Equal(got, want) {
			t.Errorf("%s: AppendString([]byte %q) = %s, want %s", tc.reason, tc.in, got, want)
		}
	}
}

func TestReaderAcceptsWhatMarshalWrites(t *testing.T) {
	m := map[string]map[string]string{
		"pod-a": {"c1": "0-3", "c2": `we"ird\va<l>ue&` + "\u2028 é"},
		"pod-b": {},
	}
	b, _ := json.Marshal(m)
	r := NewReader(b)
	got := r.StringMap2()
	if !r.End() || !r.Ok() {
		t.Fatalf("reader refused Marshal's output %s", b)
	}
	if !maps.EqualFunc(got, m, maps.Equal) {
		t.Fatalf("read %v, want %v", got, m)
	}
}

func TestReaderDeclines(t *testing.T) {
	for _, tc := range []struct {
		reason string
		in     string
	}{
		{"null is left to encoding/json", `null`},
		{"a key with an escape", `{"a\u0062":"x"}`},
		{"a duplicate key", `{"a":"x","a":"y"}`},
		{"a number where a string is wanted", `{"a":1}`},
		{"trailing bytes", `{"a":"x"}x`},
		{"truncated", `{"a":"x"`},
		{"invalid UTF-8 in a value", "{\"a\":\"\xff\"}"},
		{"a surrogate escape", `{"a":"\ud83d\ude00"}`},
		{"a raw control character", "{\"a\":\"\x01\"}"},
		{"a missing colon", `{"a" "x"}`},
		{"empty input", ``},
	} {
		r := NewReader([]byte(tc.in))
		r.StringMap()
		if r.End() {
			t.Errorf("%s: %q accepted", tc.reason, tc.in)
		}
	}
}

func TestUintAndInt(t *testing.T) {
	for _, tc := range []struct {
		reason string
		in     string
		ok     bool
		u      uint64
		i      int64
	}{
		{"zero", "0", true, 0, 0},
		{"largest uint64", "18446744073709551615", true, 1<<64 - 1, 0},
		{"overflow", "18446744073709551616", false, 0, 0},
		{"leading zero", "01", false, 0, 0},
		{"fraction", "1.0", false, 0, 0},
		{"exponent", "1e3", false, 0, 0},
		{"sign", "-1", false, 0, -1},
		{"empty", "", false, 0, 0},
	} {
		r := NewReader([]byte(tc.in))
		u := r.Uint64()
		if ok := r.End(); ok != tc.ok || ok && u != tc.u {
			t.Errorf("%s: Uint64(%q) = %d, ok %v; want %d, %v", tc.reason, tc.in, u, ok, tc.u, tc.ok)
		}
	}
	for _, tc := range []struct {
		reason string
		in     string
		ok     bool
		want   int64
	}{
		{"negative", "-42", true, -42},
		{"smallest int64", "-9223372036854775808", true, -1 << 63},
		{"largest int64", "9223372036854775807", true, 1<<63 - 1},
		{"above int64", "9223372036854775808", false, 0},
		{"negative zero leading digits", "-01", false, 0},
		{"lone minus", "-", false, 0},
	} {
		r := NewReader([]byte(tc.in))
		v := r.Int64()
		if ok := r.End(); ok != tc.ok || ok && v != tc.want {
			t.Errorf("%s: Int64(%q) = %d, ok %v; want %d, %v", tc.reason, tc.in, v, ok, tc.want, tc.ok)
		}
	}
}

// FuzzAppendString checks AppendString against encoding/json.Marshal.
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "a", `"\`, "<>&", "\u2028", "\xff", "é\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		got := AppendString(nil, s)
		if !bytes.Equal(got, want) {
			t.Fatalf("AppendString(%q) = %s, want %s", s, got, want)
		}
		if n := QuotedLen(s); n > len(got) || n != len(got) && isPrintableASCII(s) {
			t.Fatalf("QuotedLen(%q) = %d, AppendString wrote %d", s, n, len(got))
		}
	})
}

// FuzzReader checks that whatever the Reader accepts, encoding/json reads
// the same way: the fast path may decline, never disagree.
func FuzzReader(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":{"b":"c"}}`, `{"a":{"b":"\u00e9\n"}}`, `{"a":{}}`, ` { "x" : { } } `, `{"a":{"b":"c","b":"d"}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r := NewReader(b)
		got := r.StringMap2()
		if !r.End() {
			return
		}
		var want map[string]map[string]string
		if err := json.Unmarshal(b, &want); err != nil {
			t.Fatalf("reader accepted %q, encoding/json refused it: %v", b, err)
		}
		if !maps.EqualFunc(got, want, maps.Equal) {
			t.Fatalf("reader read %q as %v, encoding/json as %v", b, got, want)
		}
		sr := NewStringReader(string(b))
		if got := sr.StringMap2(); !sr.End() || !maps.EqualFunc(got, want, maps.Equal) {
			t.Fatalf("string reader read %q as %v (ok %v), encoding/json as %v", b, got, sr.Ok(), want)
		}
		r = NewReader(b)
		var u struct{ N uint64 }
		if n := r.Uint64(); r.End() {
			if err := json.Unmarshal(b, &u.N); err != nil || u.N != n {
				t.Fatalf("Uint64 read %q as %d, encoding/json as %d (%v)", b, n, u.N, err)
			}
		}
	})
}

func TestEqualStringMap2(t *testing.T) {
	m := map[string]map[string]string{"a": {"x": "1", "y": "2"}, "b": {}}
	for _, tc := range []struct {
		reason string
		in     string
		want   bool
	}{
		{"the same content in Marshal's order", `{"a":{"x":"1","y":"2"},"b":{}}`, true},
		{"a value differs", `{"a":{"x":"1","y":"3"},"b":{}}`, false},
		{"a key is missing", `{"a":{"x":"1","y":"2"}}`, false},
		{"an extra inner key", `{"a":{"x":"1","y":"2","z":"3"},"b":{}}`, false},
		{"a duplicate standing in for a missing key", `{"a":{"x":"1","x":"1"},"b":{}}`, false},
		{"keys out of order", `{"b":{},"a":{"x":"1","y":"2"}}`, false},
	} {
		r := NewReader([]byte(tc.in))
		if got := r.EqualStringMap2(m) && r.End(); got != tc.want {
			t.Errorf("%s: EqualStringMap2(%s) = %v, want %v", tc.reason, tc.in, got, tc.want)
		}
	}
}

func TestStringReaderShares(t *testing.T) {
	doc := `{"pod":{"ctr":"0-3"},"esc":{"ctr":"a\u0074b"}}`
	r := NewStringReader(doc)
	m := r.StringMap2()
	if !r.End() {
		t.Fatal("refused")
	}
	if m["pod"]["ctr"] != "0-3" || m["esc"]["ctr"] != "atb" {
		t.Fatalf("got %v", m)
	}
	if !r.Ok() {
		t.Fatal("not ok")
	}
	r = NewStringReader(`{"a":"x\"y"}`)
	if got := r.StringMap(); !r.End() || got["a"] != `x"y` {
		t.Fatalf("escaped value: %v", got)
	}
}

func TestSkip(t *testing.T) {
	for _, tc := range []struct {
		reason string
		in     string
		ok     bool
	}{
		{"nested values of every kind", `{"a":[1,-2,true,false,null,"s",{"b":[]}]}`, true},
		{"too deep", strings.Repeat("[", 100) + strings.Repeat("]", 100), false},
		{"garbage", `{"a":?}`, false},
	} {
		r := NewReader([]byte(tc.in))
		r.Skip()
		if got := r.End(); got != tc.ok {
			t.Errorf("%s: Skip(%s) ok = %v, want %v", tc.reason, tc.in, got, tc.ok)
		}
	}
}

// BenchmarkAppendString quotes a JSON document, as the encoders do for
// their data strings.
func BenchmarkAppendString(b *testing.B) {
	m := map[string]map[string]string{}
	for i := range 200 {
		m[strings.Repeat("p", 30)+string(rune('a'+i%26))+string(rune('a'+i/26))] = map[string]string{"app": "0-3,7", "sidecar": "12"}
	}
	doc, _ := json.Marshal(m)
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	var dst []byte
	for b.Loop() {
		dst = AppendString(dst[:0], doc)
	}
}

func isPrintableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func TestAppendStringMap2MatchesMarshal(t *testing.T) {
	for _, tc := range []struct {
		reason string
		in     map[string]map[string]string
	}{
		{"empty", map[string]map[string]string{}},
		{"a nil inner map is null", map[string]map[string]string{"a": nil}},
		{"keys sorted at both levels, values escaped", map[string]map[string]string{
			"b": {"z": "1", "a": `<"\>`}, "a": {"é": "\u2028", "x\xff": "y"}, "c": {}}},
	} {
		want, _ := json.Marshal(tc.in)
		if got := AppendStringMap2(nil, tc.in); !bytes.Equal(got, want) {
			t.Errorf("%s: got %s, want %s", tc.reason, got, want)
		}
	}
}
