package fastpathtest

import (
	"errors"
	"fmt"
	"testing"
)

// recorder is a testing.TB whose Fatalf records the failure and stops
// the checked function, so that the checks themselves can be tested.
type recorder struct {
	testing.TB
	failed string
}

type stop struct{}

func (r *recorder) Helper() {}
func (r *recorder) Fatalf(format string, args ...any) {
	r.failed = fmt.Sprintf(format, args...)
	panic(stop{})
}

func agreeFails(t *testing.T, p Paths[string], data []byte) (failed string) {
	r := &recorder{TB: t}
	defer func() {
		if v := recover(); v != nil {
			if _, ok := v.(stop); !ok {
				panic(v)
			}
		}
		failed = r.failed
	}()
	Agree[string](r, p, data)
	return ""
}

func TestAgreeCatchesDisagreement(t *testing.T) {
	slow := func(b []byte) (string, error) {
		if len(b) == 0 {
			return "", errors.New("empty")
		}
		return string(b), nil
	}
	decode := slow
	valid := func([]byte) (bool, string) { return true, "" }
	for _, tc := range []struct {
		reason string
		fast   func([]byte) (string, bool)
		valid  func([]byte) (bool, string)
		fails  bool
	}{
		{"a fast path that agrees passes", func(b []byte) (string, bool) { return string(b), len(b) > 0 }, valid, false},
		{"a fast path that declines passes", func([]byte) (string, bool) { return "", false }, valid, false},
		{"a fast path that reads differently fails", func(b []byte) (string, bool) { return "x" + string(b), true }, valid, true},
		{"a fast path that accepts what the full path rejects fails", func([]byte) (string, bool) { return "", true }, valid, true},
		{"accepting a file Examine does not call valid fails", func(b []byte) (string, bool) { return string(b), true },
			func([]byte) (bool, string) { return false, "corrupt" }, true},
	} {
		for _, data := range [][]byte{[]byte("abc"), nil} {
			p := Paths[string]{Fast: tc.fast, Slow: slow, Decode: decode, Valid: tc.valid}
			failed := agreeFails(t, p, data)
			if tc.fails && len(data) > 0 && failed == "" {
				t.Errorf("%s: %q passed", tc.reason, data)
			}
			if !tc.fails && failed != "" {
				t.Errorf("%s: %q failed: %s", tc.reason, data, failed)
			}
		}
	}
}
