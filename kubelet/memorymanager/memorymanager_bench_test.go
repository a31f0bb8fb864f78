package memorymanager_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/ckptkit/ckpt/kubelet/memorymanager"
)

// The hot paths of this package on the realistic file of
// testdata/kubelet-generated, for benchstat: go test -bench . -count 10.
// They measure, they do not judge: the targets live in interop's
// side-by-side run (scripts/bench-interop.sh, docs/performance.md).

func benchRealisticMemorymanager(b *testing.B) []byte {
	b.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "kubelet-generated", "memorymanager", "realistic", "memory_manager_state"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	return data
}

// BenchmarkDecode decodes and verifies the realistic file.
func BenchmarkDecode(b *testing.B) {
	data := benchRealisticMemorymanager(b)
	for b.Loop() {
		if _, err := memorymanager.Decode(data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncode encodes the realistic file's state.
func BenchmarkEncode(b *testing.B) {
	data := benchRealisticMemorymanager(b)
	s, err := memorymanager.Decode(data)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := memorymanager.Encode(s); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkExamine examines the realistic file (everything ckpt inspect
// and verify report).
func BenchmarkExamine(b *testing.B) {
	data := benchRealisticMemorymanager(b)
	for b.Loop() {
		memorymanager.Examine(data)
	}
}
