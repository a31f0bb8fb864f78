// Package cpuset is a set of CPU ids whose Go package and type names, and
// whose single unexported field, equal those of kubelet's cpuset.CPUSet
// (k8s.io/utils/cpuset), so that the checksum text of a value that holds one
// is the text kubelet hashes:
//
//	(cpuset.CPUSet){elems:(map[int]struct {})map[4:{} 5:{} 6:{}]}
//
// It also parses and formats kubelet's list syntax ("0-3,7").
//
// A CPUSet is immutable once built and safe for concurrent reads.
package cpuset

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// CPUSet is a set of CPU ids. The zero value is an empty set whose checksum
// text is `{elems:(map[int]struct {})<nil>}`; New and Parse return sets with
// a made map, as kubelet's do (`map[]` when empty).
type CPUSet struct {
	// elems must stay the only field, with this name and type: it is part of
	// the text kubelet hashes (cpumanager V3 pod entries).
	elems map[int]struct{}
}

// MaxCPU is the largest CPU id Parse accepts. Kubelet has no limit; ckpt has
// one so that a damaged file ("0-999999999") cannot make it allocate without
// bound. Linux supports at most 8192 CPUs (NR_CPUS), far below it.
const MaxCPU = 1<<16 - 1

// maxWork bounds the total number of ids that ranges in one Parse may add,
// for the same reason as MaxCPU ("0-65535,0-65535,..." repeated).
const maxWork = 1 << 20

// Sentinel errors wrapped by *ParseError.
var (
	// ErrSyntax marks a part of a cpuset list that is not a number or range.
	ErrSyntax = errors.New("invalid cpuset syntax")
	// ErrRange marks a range whose start exceeds its end, or an id above
	// MaxCPU.
	ErrRange = errors.New("invalid cpuset range")
	// ErrLimit marks a list beyond what ckpt accepts (an id above MaxCPU,
	// or more than maxWork ids) although kubelet, which has no limit,
	// would parse it. It comes with ErrRange.
	ErrLimit = errors.New("beyond ckpt's cpuset limit")
)

// ParseError reports why a cpuset list could not be parsed.
type ParseError struct {
	// Input is the whole list.
	Input string
	// Part is the comma-separated part that failed.
	Part string
	// Err is ErrSyntax or ErrRange, possibly wrapping a strconv error.
	Err error
}

// Error implements error. For a bad number it ends with the strconv text
// kubelet prints (`strconv.Atoi: parsing "1.3": invalid syntax`).
func (e *ParseError) Error() string {
	return fmt.Sprintf("cpuset %q: part %q: %v", e.Input, e.Part, e.Err)
}

// Unwrap returns the cause.
func (e *ParseError) Unwrap() error { return e.Err }

// numError keeps kubelet's strconv text while wrapping ErrSyntax.
type numError struct{ err error }

func (e *numError) Error() string   { return e.err.Error() }
func (e *numError) Unwrap() []error { return []error{ErrSyntax, e.err} }

// New returns a set holding cpus.
func New(cpus ...int) CPUSet {
	s := CPUSet{elems: make(map[int]struct{}, len(cpus))}
	for _, c := range cpus {
		s.elems[c] = struct{}{}
	}
	return s
}

// Parse parses kubelet's cpuset list syntax: comma-separated ids and
// inclusive ranges ("0-3,7"); the empty string is the empty set. It follows
// k8s.io/utils/cpuset.Parse (strconv.Atoi per number, no spaces, "a-b" with
// a <= b), and rejects ids above MaxCPU.
func Parse(s string) (CPUSet, error) {
	out := New()
	if s == "" {
		return out, nil
	}
	work := 0
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		start, err := atoi(lo)
		if err != nil {
			return New(), &ParseError{Input: s, Part: part, Err: err}
		}
		end := start
		if isRange {
			if end, err = atoi(hi); err != nil {
				return New(), &ParseError{Input: s, Part: part, Err: err}
			}
			if start > end {
				return New(), &ParseError{Input: s, Part: part,
					Err: fmt.Errorf("%w: %d > %d", ErrRange, start, end)}
			}
		}
		if start < 0 || end > MaxCPU {
			return New(), &ParseError{Input: s, Part: part,
				Err: fmt.Errorf("%w: %w: ckpt accepts CPU ids 0-%d only (kubelet sets no limit, but would allocate every id of the range)", ErrRange, ErrLimit, MaxCPU)}
		}
		work += end - start + 1
		if work > maxWork {
			return New(), &ParseError{Input: s, Part: part,
				Err: fmt.Errorf("%w: %w: more than %d ids in ranges", ErrRange, ErrLimit, maxWork)}
		}
		for c := start; c <= end; c++ {
			out.elems[c] = struct{}{}
		}
	}
	return out, nil
}

func atoi(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, &numError{err: err}
	}
	return n, nil
}

// Size returns the number of CPUs in s.
func (s CPUSet) Size() int { return len(s.elems) }

// IsEmpty reports whether s holds no CPU.
func (s CPUSet) IsEmpty() bool { return len(s.elems) == 0 }

// Contains reports whether cpu is in s.
func (s CPUSet) Contains(cpu int) bool {
	_, ok := s.elems[cpu]
	return ok
}

// List returns the CPUs of s in ascending order.
func (s CPUSet) List() []int {
	out := make([]int, 0, len(s.elems))
	for c := range s.elems {
		out = append(out, c)
	}
	slices.Sort(out)
	return out
}

// Equals reports whether s and o hold the same CPUs.
func (s CPUSet) Equals(o CPUSet) bool {
	if len(s.elems) != len(o.elems) {
		return false
	}
	for c := range s.elems {
		if !o.Contains(c) {
			return false
		}
	}
	return true
}

// Union returns the CPUs in s or in any of others.
func (s CPUSet) Union(others ...CPUSet) CPUSet {
	n := len(s.elems)
	for _, o := range others {
		n = max(n, len(o.elems))
	}
	out := CPUSet{elems: make(map[int]struct{}, n)}
	for c := range s.elems {
		out.elems[c] = struct{}{}
	}
	for _, o := range others {
		for c := range o.elems {
			out.elems[c] = struct{}{}
		}
	}
	return out
}

// Intersection returns the CPUs in both s and o.
func (s CPUSet) Intersection(o CPUSet) CPUSet {
	out := New()
	for c := range s.elems {
		if o.Contains(c) {
			out.elems[c] = struct{}{}
		}
	}
	return out
}

// Difference returns the CPUs in s and not in o.
func (s CPUSet) Difference(o CPUSet) CPUSet {
	out := New()
	for c := range s.elems {
		if !o.Contains(c) {
			out.elems[c] = struct{}{}
		}
	}
	return out
}

// String formats s in kubelet's list syntax: ascending, runs of two or more
// consecutive ids as "a-b", joined by commas ("0-3,7"); "" when empty.
func (s CPUSet) String() string {
	cpus := s.List()
	var b strings.Builder
	for i := 0; i < len(cpus); {
		j := i
		for j+1 < len(cpus) && cpus[j+1] == cpus[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(cpus[i]))
		if j > i {
			b.WriteByte('-')
			b.WriteString(strconv.Itoa(cpus[j]))
		}
		i = j + 1
	}
	return b.String()
}

// IsCanonical reports whether s is a list exactly as String prints it:
// ascending, non-overlapping, non-adjacent runs, a run of one id as "a" and
// a longer one as "a-b", decimal without sign or leading zero, ids at most
// MaxCPU. Such a list is one Parse accepts and String reprints unchanged,
// so callers that only need to validate or normalise a list (the
// checkpoint encoders and fast decoders) can skip building the set. It
// does not allocate. A false answer says nothing about validity: use
// Parse.
func IsCanonical(s string) bool {
	prevEnd := -2 // the next run must start above prevEnd+1
	for i := 0; i < len(s); {
		start, n := canonNumber(s[i:])
		if n == 0 || start <= prevEnd+1 {
			return false
		}
		i += n
		end := start
		if i < len(s) && s[i] == '-' {
			i++
			if end, n = canonNumber(s[i:]); n == 0 || end <= start {
				return false
			}
			i += n
		}
		prevEnd = end
		if i < len(s) {
			if s[i] != ',' || i+1 == len(s) {
				return false
			}
			i++
		}
	}
	return true
}

// canonNumber reads a decimal id without sign or leading zero, at most
// MaxCPU, at the start of s; n is 0 when there is none.
func canonNumber(s string) (v, n int) {
	for n < len(s) && '0' <= s[n] && s[n] <= '9' {
		v = v*10 + int(s[n]-'0')
		n++
		if v > MaxCPU {
			return 0, 0
		}
	}
	if n > 1 && s[0] == '0' {
		return 0, 0
	}
	return v, n
}

// Builder accumulates CPUs into a set. Folding Union over many sets
// copies the growing set at every step (quadratic in a file of thousands
// of assignments); a Builder adds in place. The zero value is ready to
// use; a Builder must not be copied after first use.
type Builder struct {
	elems map[int]struct{}
}

// Add adds cpus.
func (b *Builder) Add(cpus ...int) {
	if b.elems == nil {
		b.elems = make(map[int]struct{}, len(cpus))
	}
	for _, c := range cpus {
		b.elems[c] = struct{}{}
	}
}

// AddSet adds every CPU of s.
func (b *Builder) AddSet(s CPUSet) {
	if b.elems == nil {
		b.elems = make(map[int]struct{}, len(s.elems))
	}
	for c := range s.elems {
		b.elems[c] = struct{}{}
	}
}

// Set returns the CPUs added so far as a CPUSet (a copy: the Builder may
// go on).
func (b *Builder) Set() CPUSet {
	out := CPUSet{elems: make(map[int]struct{}, len(b.elems))}
	for c := range b.elems {
		out.elems[c] = struct{}{}
	}
	return out
}
