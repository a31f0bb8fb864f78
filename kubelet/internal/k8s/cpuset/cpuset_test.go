package cpuset

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/ckptkit/ckpt/checkpointmanager/checksum"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in     string
		reason string
		want   []int
		str    string
		is     error
	}{
		{"", "the empty list is the empty set", []int{}, "", nil},
		{"0-3,7", "ranges and single ids", []int{0, 1, 2, 3, 7}, "0-3,7", nil},
		{"3,1,2", "order does not matter; String sorts and joins runs", []int{1, 2, 3}, "1-3", nil},
		{"1-1", "a one-element range is accepted, as by kubelet", []int{1}, "1", nil},
		{"1,2", "two consecutive ids print as a range", []int{1, 2}, "1-2", nil},
		{"+5", "strconv.Atoi accepts a sign, so kubelet does", []int{5}, "5", nil},
		{"1.3", "not a number", nil, "", ErrSyntax},
		{"asd", "not a number", nil, "", ErrSyntax},
		{"1,", "an empty part", nil, "", ErrSyntax},
		{" 1", "no spaces", nil, "", ErrSyntax},
		{"-1", "no negative ids", nil, "", ErrSyntax},
		{"1-2-3", "one dash per range", nil, "", ErrSyntax},
		{"3-1", "start above end", nil, "", ErrRange},
		{"0-70000", "above MaxCPU", nil, "", ErrRange},
		{"99999999999999999999", "overflows int", nil, "", ErrSyntax},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			cs, err := Parse(tt.in)
			if tt.is != nil {
				var pe *ParseError
				if !errors.Is(err, tt.is) || !errors.As(err, &pe) {
					t.Fatalf("%s: err = %v, want *ParseError wrapping %v", tt.reason, err, tt.is)
				}
				if cs.elems == nil || cs.Size() != 0 {
					t.Errorf("%s: failed Parse must return an empty made set, as kubelet's", tt.reason)
				}
				return
			}
			if err != nil {
				t.Fatalf("%s: %v", tt.reason, err)
			}
			if got := cs.List(); !slices.Equal(got, tt.want) {
				t.Errorf("%s: List = %v, want %v", tt.reason, got, tt.want)
			}
			if cs.String() != tt.str {
				t.Errorf("%s: String = %q, want %q", tt.reason, cs.String(), tt.str)
			}
		})
	}
}

func TestParseKeepsKubeletText(t *testing.T) {
	_, err := Parse("1.3")
	// Kubelet's message ends with the strconv text; keep it (compatibility).
	if want := `strconv.Atoi: parsing "1.3": invalid syntax`; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("err = %v, want it to contain %q", err, want)
	}
	var ne *strconv.NumError
	if !errors.As(err, &ne) {
		t.Errorf("err %v does not wrap *strconv.NumError", err)
	}
}

func TestParseBoundsWork(t *testing.T) {
	in := "0-65535"
	for range 20 {
		in += ",0-65535"
	}
	if _, err := Parse(in); !errors.Is(err, ErrRange) || !errors.Is(err, ErrLimit) {
		t.Errorf("err = %v, want ErrRange and ErrLimit for more than %d ids", err, maxWork)
	}
	if _, err := Parse("0-99999999"); !errors.Is(err, ErrLimit) {
		t.Errorf("err = %v, want ErrLimit for an id above MaxCPU", err)
	}
	if _, err := Parse("5-3"); !errors.Is(err, ErrRange) || errors.Is(err, ErrLimit) {
		t.Errorf("err = %v, want ErrRange alone for a reversed range (kubelet refuses it too)", err)
	}
}

func TestSetOps(t *testing.T) {
	a, b := New(1, 2, 3), New(3, 4)
	tests := []struct {
		reason string
		got    CPUSet
		want   string
	}{
		{"union", a.Union(b), "1-4"},
		{"intersection", a.Intersection(b), "3"},
		{"difference", a.Difference(b), "1-2"},
	}
	for _, tt := range tests {
		if tt.got.String() != tt.want {
			t.Errorf("%s = %q, want %q", tt.reason, tt.got.String(), tt.want)
		}
	}
	if !a.Equals(New(3, 2, 1)) || a.Equals(b) || !a.Contains(2) || a.Contains(4) || a.IsEmpty() || !New().IsEmpty() {
		t.Error("Equals/Contains/IsEmpty disagree with the sets")
	}
}

// TestChecksumText pins the text kubelet hashes for a CPUSet (FORMATS.md §2).
func TestChecksumText(t *testing.T) {
	tests := []struct {
		reason string
		set    CPUSet
		want   string
	}{
		{"elements sorted numerically", New(9, 7, 8), "(cpuset.CPUSet){elems:(map[int]struct {})map[7:{} 8:{} 9:{}]}"},
		{"made but empty", New(), "(cpuset.CPUSet){elems:(map[int]struct {})map[]}"},
		{"zero value", CPUSet{}, "(cpuset.CPUSet){elems:(map[int]struct {})<nil>}"},
	}
	for _, tt := range tests {
		if got := checksum.Text(tt.set); got != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.reason, got, tt.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"", "0-3,7", "1.3", "3-1", "0-65535", "+1,-"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		cs, err := Parse(s)
		if err != nil {
			return
		}
		back, err := Parse(cs.String())
		if err != nil || !back.Equals(cs) {
			t.Fatalf("Parse(String(Parse(%q))) = %v, %v", s, back, err)
		}
	})
}

func TestIsCanonical(t *testing.T) {
	for _, tc := range []struct {
		in     string
		reason string
		want   bool
	}{
		{"", "the empty set prints as the empty string", true},
		{"0", "one id", true},
		{"0-3,7,9-10", "runs and single ids in order", true},
		{"4-5", "a run of two prints as a range", true},
		{"4,5", "adjacent ids print as a range", false},
		{"4-4", "a run of one prints as a single id", false},
		{"3,1", "descending", false},
		{"1-3,3-5", "overlapping", false},
		{"1-3,4", "adjacent runs merge", false},
		{"01", "leading zero", false},
		{"+1", "sign", false},
		{"1,", "trailing comma", false},
		{",1", "leading comma", false},
		{"1 ,2", "white space", false},
		{"5-3", "reversed range", false},
		{"65535", "MaxCPU", true},
		{"65536", "above MaxCPU", false},
		{"1-2-3", "double range", false},
	} {
		if got := IsCanonical(tc.in); got != tc.want {
			t.Errorf("%s: IsCanonical(%q) = %v, want %v", tc.reason, tc.in, got, tc.want)
		}
	}
}

// FuzzIsCanonical checks that a canonical list parses and prints as itself,
// and that every printed set is canonical.
func FuzzIsCanonical(f *testing.F) {
	for _, s := range []string{"", "0-3,7", "4,5", "1-1", "007", "3-2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		set, err := Parse(s)
		if IsCanonical(s) && (err != nil || set.String() != s) {
			t.Fatalf("IsCanonical(%q) but Parse gives %q, %v", s, set.String(), err)
		}
		if err == nil && !IsCanonical(set.String()) {
			t.Fatalf("String() of %q is %q, not canonical", s, set.String())
		}
	})
}
