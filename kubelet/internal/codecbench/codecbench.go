// Package codecbench runs the same benchmarks for every format package
// (Decode, Encode and Examine of a realistic file of
// testdata/kubelet-generated), so that a regression in any of them shows
// with benchstat: go test -bench . -count 10 ./kubelet/... . They measure,
// they do not judge: the targets live in the interop module's side-by-side
// run (scripts/bench-interop.sh, docs/performance.md). Only tests import it.
package codecbench

import (
	"os"
	"testing"

	"github.com/ckptkit/ckpt/kubelet/check"
)

// Codec is one format package's face.
type Codec[S any] struct {
	// File is the realistic file, relative to the package under test.
	File    string
	Decode  func([]byte) (S, error)
	Encode  func(S) ([]byte, error)
	Examine func([]byte) check.Result
}

// Run runs the sub-benchmarks Decode (read and verify the file's bytes),
// Encode (write the decoded state) and Examine (everything ckpt verify and
// inspect report), with the file's size as bytes per operation.
func Run[S any](b *testing.B, c Codec[S]) {
	data, err := os.ReadFile(c.File)
	if err != nil {
		b.Fatal(err)
	}
	s, err := c.Decode(data)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("Decode", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.Decode(data); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Encode", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.Encode(s); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Examine", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			c.Examine(data)
		}
	})
}
