package interop

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	kcm "k8s.io/kubernetes/pkg/kubelet/checkpointmanager"
)

// The side-by-side benchmarks. Their names are what scripts/bench-interop.sh
// parses: Benchmark<Op>/<consumer>/<impl>/g<goroutines>, with impl one of
// ckpt, kubelet and floor. scripts/bench-interop.sh runs them in rounds and
// prints medians with the ratios ckpt/kubelet and ckpt/floor.

// goroutineCounts are the concurrency levels: one writer, and 16 writers on
// 16 distinct keys sharing one manager.
var goroutineCounts = []int{1, 16}

// runParallel runs op b.N times in total over n goroutines, each with its
// own index, and reports the wall time per op (so ns/op is the inverse of
// throughput).
func runParallel(b *testing.B, n int, op func(g int) error) {
	b.Helper()
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, n)
	b.ResetTimer()
	for g := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(b.N) {
				if err := op(g); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
}

func keyFor(base string, g, n int) string {
	if n == 1 {
		return base
	}
	return fmt.Sprintf("%s-%02d", base, g)
}

// BenchmarkCreate saves the realistic state: serialize, checksum, write.
// Kubelet's write is not durable (no directory fsync); ckpt's is. The floor
// is the I/O alone, durable: write, fsync, close, rename, directory fsync of
// the same bytes.
func BenchmarkCreate(b *testing.B) {
	for _, c := range consumers() {
		for _, n := range goroutineCounts {
			for _, impl := range []struct {
				name string
				s    side
			}{{"ckpt", c.ckpt}, {"kubelet", c.kubelet}} {
				b.Run(fmt.Sprintf("%s/%s/g%d", c.name, impl.name, n), func(b *testing.B) {
					m, err := impl.s.newManager(b.TempDir())
					if err != nil {
						b.Fatal(err)
					}
					savers := make([]func(kcm.CheckpointManager, string) error, n)
					for g := range savers {
						savers[g] = impl.s.newSaver(b)
					}
					b.ReportAllocs()
					runParallel(b, n, func(g int) error { return savers[g](m, keyFor(c.key, g, n)) })
				})
			}
			b.Run(fmt.Sprintf("%s/floor/g%d", c.name, n), func(b *testing.B) {
				dir := b.TempDir()
				data := realistic(b, c)
				runParallel(b, n, func(g int) error { return durableWrite(dir, keyFor(c.key, g, n), data) })
			})
		}
	}
}

// BenchmarkGet restores the realistic state: read, decode, verify.
func BenchmarkGet(b *testing.B) {
	for _, c := range consumers() {
		for _, n := range goroutineCounts {
			for _, impl := range []struct {
				name string
				s    side
			}{{"ckpt", c.ckpt}, {"kubelet", c.kubelet}} {
				b.Run(fmt.Sprintf("%s/%s/g%d", c.name, impl.name, n), func(b *testing.B) {
					dir := b.TempDir()
					data := realistic(b, c)
					for g := range n {
						if err := os.WriteFile(filepath.Join(dir, keyFor(c.key, g, n)), data, 0o600); err != nil {
							b.Fatal(err)
						}
					}
					m, err := impl.s.newManager(dir)
					if err != nil {
						b.Fatal(err)
					}
					b.SetBytes(int64(len(data)))
					b.ReportAllocs()
					runParallel(b, n, func(g int) error { return impl.s.load(m, keyFor(c.key, g, n)) })
					// After the run: ResetTimer (in runParallel) deletes
					// metrics reported before it.
					b.ReportMetric(float64(len(data)), "file-bytes")
				})
			}
		}
	}
}

// durableWrite is the raw disk floor of a durable replace.
func durableWrite(dir, key string, data []byte) error {
	f, err := os.CreateTemp(dir, "."+key+".floor-")
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), filepath.Join(dir, key)); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	if err := d.Sync(); err != nil {
		d.Close()
		return err
	}
	return d.Close()
}
