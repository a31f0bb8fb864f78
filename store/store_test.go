package store

import (
	"errors"
	"regexp"
	"strings"
	"testing"
)

// kubeletKeyRegexp is kubelet's key rule, used as the oracle for ValidateKey.
var kubeletKeyRegexp = regexp.MustCompile(`^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$`)

func TestValidateKey(t *testing.T) {
	tests := []struct {
		reason string
		key    string
		valid  bool
	}{
		{"kubelet checkpoint names are keys", "cpu_manager_state", true},
		{"one letter is the shortest key", "a", true},
		{"one digit is a key", "7", true},
		{"dots, dashes and underscores inside", "Pod_a.b-c", true},
		{"exactly the maximum length", strings.Repeat("k", MaxKeyLength), true},
		{"empty", "", false},
		{"one over the maximum length", strings.Repeat("k", MaxKeyLength+1), false},
		{"leading dot would hide the file and collide with temp files", ".hidden", false},
		{"path traversal", "../etc", false},
		{"slash would leave the directory", "a/b", false},
		{"trailing dot", "a.", false},
		{"trailing dash", "a-", false},
		{"leading underscore", "_a", false},
		{"space", "a b", false},
		{"NUL byte", "a\x00b", false},
		{"non-ASCII letter", "caf\u00e9", false},
	}
	for _, tt := range tests {
		err := ValidateKey(tt.key)
		if got := err == nil; got != tt.valid {
			t.Errorf("%s: ValidateKey(%q) = %v, want valid=%v", tt.reason, tt.key, err, tt.valid)
		}
		if err != nil && !errors.Is(err, ErrInvalidKey) {
			t.Errorf("%s: ValidateKey(%q) = %v, does not wrap ErrInvalidKey", tt.reason, tt.key, err)
		}
		if rule := kubeletKeyRegexp.MatchString(tt.key) && len(tt.key) <= MaxKeyLength; rule != tt.valid {
			t.Errorf("%s: table disagrees with kubelet's rule for %q", tt.reason, tt.key)
		}
	}
}

// FuzzValidateKey checks ValidateKey against kubelet's regular expression.
func FuzzValidateKey(f *testing.F) {
	for _, seed := range []string{"", "a", "a.b", ".a", "a-", "cpu_manager_state", "a/b", "..", strings.Repeat("x", 251)} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, key string) {
		want := kubeletKeyRegexp.MatchString(key) && len(key) <= MaxKeyLength
		if got := ValidateKey(key) == nil; got != want {
			t.Fatalf("ValidateKey(%q) valid=%v, kubelet's rule says %v", key, got, want)
		}
	})
}

func TestOpErrorMessage(t *testing.T) {
	tests := []struct {
		reason string
		err    *OpError
		want   []string
	}{
		{"names op, key, path and cause", &OpError{Op: "write", Key: "k", Path: "/d/k", Err: ErrTooLarge}, []string{"write", `"k"`, "/d/k", ErrTooLarge.Error()}},
		{"a nil cause does not panic", &OpError{Op: "list"}, []string{"list"}},
	}
	for _, tt := range tests {
		msg := tt.err.Error()
		for _, w := range tt.want {
			if !strings.Contains(msg, w) {
				t.Errorf("%s: %q lacks %q", tt.reason, msg, w)
			}
		}
	}
}
