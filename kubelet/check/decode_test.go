package check_test

import (
	"errors"
	"testing"

	"github.com/ckptkit/ckpt/kubelet/check"
)

func TestDecodeJSON(t *testing.T) {
	type doc struct {
		A string
		N int
	}
	for _, tc := range []struct {
		reason  string
		data    string
		problem check.DecodeProblem
	}{
		{"a complete document decodes", `{"a":"x","n":1}`, ""},
		{"white space after the document is fine", "{\"a\":\"x\"}\n \t", ""},
		{"no bytes at all is an empty file", "", check.ProblemEmpty},
		{"white space only is an empty file", " \n", check.ProblemEmpty},
		{"NUL bytes only are a zero-filled file", "\x00\x00\x00\x00", check.ProblemZeroFilled},
		{"a document cut short is truncated", `{"a":"x","n":`, check.ProblemTruncated},
		{"a document with a NUL tail is zero-filled", "{\"a\":\"x\"\x00\x00\x00", check.ProblemZeroFilled},
		{"bytes after the document are trailing bytes", `{"a":"x"}"checksum":1}`, check.ProblemTrailing},
		{"a second document is trailing bytes", `{"a":"x"}{"a":"y"}`, check.ProblemTrailing},
		{"non-JSON is a syntax error", `{"a" "x"}`, check.ProblemSyntax},
		{"a string where a number belongs is a type error", `{"n":"1"}`, check.ProblemType},
	} {
		var d doc
		err := check.DecodeJSON("test document", []byte(tc.data), &d)
		if tc.problem == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.reason, err)
			}
			continue
		}
		var de *check.DecodeError
		if !errors.As(err, &de) || de.Problem != tc.problem || !errors.Is(err, check.ErrInvalid) {
			t.Errorf("%s: err %v, want problem %s wrapping ErrInvalid", tc.reason, err, tc.problem)
		}
	}
}

func TestScanObjectToleratesDamage(t *testing.T) {
	for _, tc := range []struct {
		reason string
		data   string
		keys   []string
	}{
		{"a complete object lists its keys in order", `{"b":1,"A":{"x":2}}`, []string{"b", "A"}},
		{"a truncated object lists the keys it starts with", `{"policyName":"none","defaultCpuSet":"0-`, []string{"policyName", "defaultCpuSet"}},
		{"not an object lists nothing", `[1,2]`, nil},
		{"no bytes list nothing", ``, nil},
	} {
		ms := check.ScanObject([]byte(tc.data))
		if len(ms) != len(tc.keys) {
			t.Errorf("%s: %d members, want %v", tc.reason, len(ms), tc.keys)
			continue
		}
		for i, k := range tc.keys {
			if ms[i].Key != k {
				t.Errorf("%s: key %d = %q, want %q", tc.reason, i, ms[i].Key, k)
			}
		}
		if len(tc.keys) > 0 {
			if _, ok := check.Find(ms, tc.keys[0]+""); !ok {
				t.Errorf("%s: Find misses %q", tc.reason, tc.keys[0])
			}
		}
	}
	if _, ok := check.Find(check.ScanObject([]byte(`{"Data":1}`)), "data"); !ok {
		t.Error("Find must ignore case, as encoding/json does")
	}
}
