// Package sets mirrors the name of k8s.io/apimachinery/pkg/util/sets for
// the generic set type that kubelet checkpoints hash and encode. The checksum
// text prints it as "sets.Set[string]"; JSON encodes it as an object whose
// keys are the members and whose values are "{}".
package sets

import "sort"

// Set is a set of comparable values, encoded in JSON as {"member":{}}.
type Set[T comparable] map[T]struct{}

// New returns a set holding items.
func New[T comparable](items ...T) Set[T] {
	s := make(Set[T], len(items))
	for _, it := range items {
		s[it] = struct{}{}
	}
	return s
}

// List returns the members of a set of strings in ascending order.
func List(s Set[string]) []string {
	out := make([]string, 0, len(s))
	for k := range s {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
