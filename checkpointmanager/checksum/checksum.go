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
	"strings"

	"github.com/ckptkit/ckpt/checkpointmanager/errors"
)

// Checksum is the data to be stored as a checkpoint's checksum. Its value
// always fits in 32 bits; it is a uint64 because kubelet's is.
type Checksum uint64

// New returns the checksum of data, as kubelet's checksum.New does.
func New(data any) Checksum {
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
	var b textSink
	p := printer{out: &b, sortKeys: true}
	p.top(data)
	return b.String()
}

// Sum returns the FNV-1a 32-bit hash of text as a Checksum: New(v) equals
// Sum([]byte(Text(v))).
func Sum(text []byte) Checksum {
	var h fnvSink
	h.reset()
	for _, c := range text {
		h.writeByte(c)
	}
	return Checksum(h.sum)
}

// OfString returns New(s) for a string s without reflection: the checksum
// kubelet's data-string formats store (cpumanager V4, memorymanager V3,
// allocation), which is FNV-1a over "(string)" followed by s.
func OfString(s string) Checksum {
	var h fnvSink
	h.reset()
	h.writeString("(string)")
	h.writeString(s)
	return Checksum(h.sum)
}

const (
	fnvOffset32 = 2166136261
	fnvPrime32  = 16777619
)

// fnvSink hashes what it is given with FNV-1a, 32 bit.
type fnvSink struct{ sum uint32 }

func (h *fnvSink) reset() { h.sum = fnvOffset32 }

func (h *fnvSink) writeByte(c byte) {
	h.sum = (h.sum ^ uint32(c)) * fnvPrime32
}

func (h *fnvSink) writeString(s string) {
	sum := h.sum
	for i := 0; i < len(s); i++ {
		sum = (sum ^ uint32(s[i])) * fnvPrime32
	}
	h.sum = sum
}

// textSink collects the text.
type textSink struct{ strings.Builder }

func (t *textSink) writeString(s string) { t.Builder.WriteString(s) }
func (t *textSink) writeByte(c byte)     { t.Builder.WriteByte(c) }
