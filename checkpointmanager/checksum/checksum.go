// Package checksum computes kubelet's checkpoint checksum, bit-identical to
// k8s.io/kubernetes/pkg/kubelet/checkpointmanager/checksum for any Go value.
//
// Kubelet hashes a textual dump of a Go value: FNV-1a (32 bit) over the text
// go-spew v1.1.1 prints for "%#v" with SortKeys, DisableMethods and SpewKeys
// (kubelet's hashutil.DeepHashObject / dump.ForHash). The text contains
// package and type names, field names and order, unexported fields and the
// difference between nil and empty maps and slices, so the checksum of a
// value depends on its Go type as much as on its content. This package
// reproduces that text with its own printer, without depending on go-spew,
// and hashes it as it is produced.
//
// The functions are safe for concurrent use.
package checksum

import (
	"reflect"
	"strings"

	"github.com/ckptkit/ckpt/checkpointmanager/errors"
)

// Checksum is the data to be stored as a checkpoint's checksum. A computed
// checksum always fits in 32 bits; the type is a uint64 because kubelet's
// is, so a stored value read from a damaged file may be larger.
type Checksum uint64

// New returns the checksum of data, as kubelet's checksum.New does.
func New(data any) Checksum {
	if data != nil {
		if sum, ok := fastNew(data, nil); ok {
			return sum
		}
	}
	var h fnvSink
	h.reset()
	p := printer{out: &h, sortKeys: true}
	p.top(data)
	return Checksum(h.sum)
}

// Verify checks that cs is the checksum of data. It returns nil when it is,
// and otherwise a *errors.CorruptCheckpointError with ActualCS set to the
// checksum of data and ExpectedCS set to cs, as kubelet 1.33 and later do.
func (cs Checksum) Verify(data any) error {
	actual := New(data)
	if actual != cs {
		return &errors.CorruptCheckpointError{ActualCS: uint64(actual), ExpectedCS: uint64(cs)}
	}
	return nil
}

// Text returns the exact text New hashes for data, so that a person can see
// what a checksum covers (ckpt shows it when a checksum fails), and so that
// callers can apply kubelet's type-renaming replacements before hashing it
// with Sum.
func Text(data any) string {
	if data != nil {
		if text, ok := fastText(data); ok {
			return text
		}
	}
	var b textSink
	p := printer{out: &b, sortKeys: true}
	p.top(data)
	return b.String()
}

// NewReplaced returns the checksum of the text of data with the first
// occurrence of old replaced by new: Sum([]byte(strings.Replace(Text(data),
// old, new, 1))). Kubelet computes its cpu manager, memory manager and old
// device manager checksums that way, to hash a renamed type under the name
// it had when the file was written (FORMATS.md §3.1-3.3). When old occurs
// in the top-level type name, where those renames apply, NewReplaced hashes
// as fast as New; otherwise it builds the text.
func NewReplaced(data any, old, new string) Checksum {
	if data != nil {
		if top := topText(reflect.TypeOf(data)); old != "" {
			if i := strings.Index(top, old); i >= 0 {
				// The first occurrence in the text is this one: the text
				// starts with top, and an occurrence starting earlier would
				// end inside top too.
				top = top[:i] + new + top[i+len(old):]
				if sum, ok := fastNew(data, &top); ok {
					return sum
				}
			}
		}
	}
	return Sum([]byte(strings.Replace(Text(data), old, new, 1)))
}

// Sum returns the FNV-1a 32-bit hash of text as a Checksum: New(v) equals
// Sum([]byte(Text(v))).
func Sum(text []byte) Checksum {
	return Checksum(fnvBytes(fnvOffset32, text))
}

// OfString returns New(s) for a string s without reflection: the checksum
// kubelet's data-string formats store (cpumanager V4, memorymanager V3,
// allocation), which is FNV-1a over "(string)" followed by s.
func OfString(s string) Checksum {
	return Checksum(fnvString(ofStringPrefix.apply(fnvOffset32), s))
}

var ofStringPrefix = newSeg("(string)")

// OfBytes returns OfString(string(b)) without copying b: the checksum of
// the string whose bytes b holds.
func OfBytes(b []byte) Checksum {
	return Checksum(fnvBytes(ofStringPrefix.apply(fnvOffset32), b))
}

// fnvSink hashes what it is given with FNV-1a, 32 bit.
type fnvSink struct{ sum uint32 }

func (h *fnvSink) reset() { h.sum = fnvOffset32 }

func (h *fnvSink) writeByte(c byte) {
	h.sum = (h.sum ^ uint32(c)) * fnvPrime32
}

func (h *fnvSink) writeString(s string) { h.sum = fnvString(h.sum, s) }

// textSink collects the text.
type textSink struct{ strings.Builder }

func (t *textSink) writeString(s string) { t.Builder.WriteString(s) }
func (t *textSink) writeByte(c byte)     { t.Builder.WriteByte(c) }
