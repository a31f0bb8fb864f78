// Package diff compares two kubelet checkpoints of one kind by what they
// mean, not by their text: the entries added, removed and changed (per pod
// and container, per claim, per device allocation), the policy, the default
// CPU set (and which CPUs moved), and the memory of each NUMA node. Two
// files in different format versions that hold the same state are equal.
//
// The rules:
//
//  1. Each file is examined (kubelet.Examine); its normalized content is
//     flattened into items keyed by what they describe ("entries/<pod>/<ctr>",
//     "numa/0/memory/free"), so that the key says what changed.
//  2. An item only in B is added, only in A removed, in both with other
//     values changed. Items are reported in key order within sections in a
//     fixed order.
//  3. Two files that are no kubelet checkpoint but JSON documents (a DRA
//     driver's own payloads) are compared leaf by leaf (Kind "json"); a
//     string that holds JSON is compared as that document, and additions or
//     removals of empty values are marked, which tells a re-marshal with
//     another omitempty from a real change.
//  4. Files of different kinds cannot be compared (ErrKindMismatch); a file
//     whose content cannot be decoded cannot be compared (ErrNoContent).
//     A file that decodes but fails its checksum is compared, and its
//     verdict is reported.
//
// Compare never prints and never exits.
package diff

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/ckptkit/ckpt/kubelet"
	"github.com/ckptkit/ckpt/kubelet/check"
)

// Errors of Compare, wrapped; test them with errors.Is.
var (
	// ErrKindMismatch: the two files are checkpoints of different kinds.
	ErrKindMismatch = errors.New("checkpoints of different kinds")
	// ErrNoContent: a file could not be decoded at all.
	ErrNoContent = errors.New("no decodable content")
)

// Op is what happened to an item.
type Op string

// The operations.
const (
	Added   Op = "added"
	Removed Op = "removed"
	Changed Op = "changed"
)

// Change is one difference.
type Change struct {
	// Section groups changes: "json", "policy", "default set", "entries",
	// "pod entries", "NUMA memory", "claims", ...
	Section string `json:"section"`
	// Key says what changed, within the section ("<pod>/<container>").
	Key string `json:"key"`
	// Op is added, removed or changed.
	Op Op `json:"op"`
	// From and To are the values in A and B ("" when absent).
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
	// Detail explains a change in words ("+CPUs 3-4", "-40 MiB").
	Detail string `json:"detail,omitempty"`
}

// Side describes one of the compared files.
type Side struct {
	Path    string        `json:"path"`
	Format  string        `json:"format"`
	Verdict check.Verdict `json:"verdict"`
}

// Diff is the result of comparing A with B.
type Diff struct {
	Kind    check.Kind `json:"kind"`
	A       Side       `json:"a"`
	B       Side       `json:"b"`
	Changes []Change   `json:"changes"`
}

// Equal reports whether the two files hold the same state.
func (d *Diff) Equal() bool { return len(d.Changes) == 0 }

// item is one flattened fact of a checkpoint.
type item struct {
	section, key, value string
}

// Compare examines a and b (paths name the files and hint at their kind)
// and returns their semantic differences.
func Compare(pathA string, a []byte, pathB string, b []byte) (*Diff, error) {
	ra, rb := kubelet.Examine(pathA, a), kubelet.Examine(pathB, b)
	d := &Diff{Kind: ra.Kind, A: Side{pathA, ra.Format, ra.Verdict}, B: Side{pathB, rb.Format, rb.Verdict}, Changes: []Change{}}
	if ra.Kind == check.KindUnknown && rb.Kind == check.KindUnknown {
		// Neither is a kubelet checkpoint: compare them as JSON documents.
		d.Kind = KindJSON
		d.A.Format, d.A.Verdict, d.B.Format, d.B.Verdict = "", "", "", ""
		changes, err := compareJSON(a, b)
		if err != nil {
			return nil, err
		}
		d.Changes = changes
		return d, nil
	}
	if ra.Kind != rb.Kind {
		return nil, fmt.Errorf("%w: %s is %s, %s is %s", ErrKindMismatch, pathA, ra.Kind, pathB, rb.Kind)
	}
	for _, side := range []struct {
		path string
		r    check.Result
	}{{pathA, ra}, {pathB, rb}} {
		if side.r.Content == nil {
			return nil, fmt.Errorf("%w: %s (%s): %v", ErrNoContent, side.path, side.r.Verdict, side.r.Err)
		}
	}
	ia, err := flatten(ra)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", pathA, err)
	}
	ib, err := flatten(rb)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", pathB, err)
	}
	d.Changes = compareItems(ia, ib)
	return d, nil
}

// sectionOrder is the order in which sections are reported.
var sectionOrder = []string{"json", "policy", "default set", "entries", "container entries (V1)", "pod entries", "baselines",
	"NUMA memory", "memory blocks", "pod memory blocks", "registered devices", "device allocations", "claims", "pods"}

func sectionRank(s string) int {
	if i := slices.Index(sectionOrder, s); i >= 0 {
		return i
	}
	return len(sectionOrder)
}

func compareItems(a, b []item) []Change {
	type key struct{ section, key string }
	ma, mb := map[key]string{}, map[key]string{}
	for _, it := range a {
		ma[key{it.section, it.key}] = it.value
	}
	for _, it := range b {
		mb[key{it.section, it.key}] = it.value
	}
	var out []Change
	for k, va := range ma {
		vb, ok := mb[k]
		switch {
		case !ok:
			out = append(out, Change{Section: k.section, Key: k.key, Op: Removed, From: va})
		case va != vb:
			out = append(out, Change{Section: k.section, Key: k.key, Op: Changed, From: va, To: vb, Detail: detail(k.section, va, vb)})
		}
	}
	for k, vb := range mb {
		if _, ok := ma[k]; !ok {
			out = append(out, Change{Section: k.section, Key: k.key, Op: Added, To: vb})
		}
	}
	slices.SortFunc(out, func(x, y Change) int {
		return cmp.Or(cmp.Compare(sectionRank(x.Section), sectionRank(y.Section)), strings.Compare(x.Section, y.Section),
			strings.Compare(x.Key, y.Key))
	})
	if out == nil {
		out = []Change{}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
