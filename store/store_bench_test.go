package store_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/ckptkit/ckpt/store"
)

// The store's hot paths, for benchstat (go test -bench . -count 10). Write
// times are mostly the disk's: run them on the disk that matters (TMPDIR).
// The side-by-side comparison with kubelet is interop's.

var benchSizes = []int{1 << 10, 18 << 10, 160 << 10} // small, cpu manager, device manager

func benchStore(b *testing.B, opts ...store.Option) *store.FileStore {
	b.Helper()
	s, err := store.NewFileStore(b.TempDir(), opts...)
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkWrite is one durable write (temporary file, fsync, rename,
// directory fsync).
func BenchmarkWrite(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) {
			s, data := benchStore(b), make([]byte, size)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				if err := s.Write("key", data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkWrite16 is 16 goroutines writing 16 keys of one directory
// (time per write: the inverse of throughput). They share directory fsyncs.
func BenchmarkWrite16(b *testing.B) {
	s, data := benchStore(b), make([]byte, 18<<10)
	b.SetBytes(int64(len(data)))
	var next atomic.Int64
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := fmt.Sprintf("key-%02d", g)
			for next.Add(1) <= int64(b.N) {
				if err := s.Write(key, data); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// BenchmarkWriteUnchanged is a re-write of the same bytes with
// WithSkipUnchanged: no I/O but one Lstat.
func BenchmarkWriteUnchanged(b *testing.B) {
	s, data := benchStore(b, store.WithSkipUnchanged()), make([]byte, 18<<10)
	if err := s.Write("key", data); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Write("key", data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRead reads a value (from the page cache).
func BenchmarkRead(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) {
			s := benchStore(b)
			if err := s.Write("key", make([]byte, size)); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Read("key"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
