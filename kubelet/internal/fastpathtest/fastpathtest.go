// Package fastpathtest holds a format package's Decode fast path to its
// full path in tests: the fast path may decline an input, never read it
// differently or accept what the full path rejects. Only tests import it.
package fastpathtest

import (
	"reflect"
	"testing"
)

// Paths are the decoders of one format package.
type Paths[S any] struct {
	// Fast is the fast path: the state, or false when it declines.
	Fast func([]byte) (S, bool)
	// Slow is the full path.
	Slow func([]byte) (S, error)
	// Decode is the package's Decode, which tries Fast, then Slow.
	Decode func([]byte) (S, error)
	// Valid checks that the package's Examine calls an input valid, in
	// the format the fast path reads; it returns what Examine said when
	// not.
	Valid func([]byte) (ok bool, said string)
}

// Agree runs every path on data and fails t when they disagree: Decode
// must give the full path's state and error, and whatever the fast path
// accepts the full path must accept, read the same way, and Examine call
// valid. It reports whether the fast path accepted.
func Agree[S any](t testing.TB, p Paths[S], data []byte) bool {
	t.Helper()
	got, ok := p.Fast(data)
	want, err := p.Slow(data)
	s, derr := p.Decode(data)
	if !reflect.DeepEqual(s, want) || errString(derr) != errString(err) {
		t.Fatalf("Decode differs from the full path: %v, %v; want %v, %v", s, derr, want, err)
	}
	if !ok {
		return false
	}
	if err != nil {
		t.Fatalf("the fast path accepts what the full path rejects: %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("the fast path reads %#v, the full path %#v", got, want)
	}
	if ok, said := p.Valid(data); !ok {
		t.Fatalf("the fast path accepts a file Examine calls %s", said)
	}
	return true
}

// Case is one input and what the fast path must do with it: "accept",
// "decline", or "" (either, as long as the paths agree).
type Case struct {
	Reason string
	Data   []byte
	Fast   string
}

// Run runs Agree on every case, as a subtest named by its reason, and logs
// how many the fast path took.
func Run[S any](t *testing.T, p Paths[S], cases []Case) {
	accepted := 0
	for _, tc := range cases {
		t.Run(tc.Reason, func(t *testing.T) {
			ok := Agree(t, p, tc.Data)
			if ok {
				accepted++
			}
			switch {
			case tc.Fast == "accept" && !ok:
				t.Error("the fast path declines")
			case tc.Fast == "decline" && ok:
				t.Error("the fast path accepts")
			}
		})
	}
	t.Logf("the fast path accepts %d of %d inputs", accepted, len(cases))
}

// ErrString is err's text, "" for nil, to compare errors of two paths.
func ErrString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func errString(err error) string { return ErrString(err) }
