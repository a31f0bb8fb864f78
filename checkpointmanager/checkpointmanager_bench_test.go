package checkpointmanager_test

import (
	"testing"

	"github.com/ckptkit/ckpt/checkpointmanager"
)

// The manager's own cost around the store, for benchstat: a checkpoint of
// raw bytes, so that no format is measured. interop measures real formats
// side by side with kubelet.

func benchManager(b *testing.B, opts ...checkpointmanager.Option) checkpointmanager.CheckpointManager {
	b.Helper()
	m, err := checkpointmanager.NewCheckpointManagerWithOptions(b.TempDir(), opts...)
	if err != nil {
		b.Fatal(err)
	}
	return m
}

// BenchmarkCreateCheckpoint is a durable create of 18 KiB.
func BenchmarkCreateCheckpoint(b *testing.B) {
	m, cp := benchManager(b), &rawCheckpoint{data: make([]byte, 18<<10)}
	b.SetBytes(int64(len(cp.data)))
	b.ReportAllocs()
	for b.Loop() {
		if err := m.CreateCheckpoint("key", cp); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCreateCheckpointUnchanged re-creates the same checkpoint with
// WithSkipUnchanged (case B32): no I/O.
func BenchmarkCreateCheckpointUnchanged(b *testing.B) {
	m, cp := benchManager(b, checkpointmanager.WithSkipUnchanged()), &rawCheckpoint{data: make([]byte, 18<<10)}
	if err := m.CreateCheckpoint("key", cp); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(cp.data)))
	b.ReportAllocs()
	for b.Loop() {
		if err := m.CreateCheckpoint("key", cp); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGetCheckpoint reads 18 KiB into a checkpoint.
func BenchmarkGetCheckpoint(b *testing.B) {
	m := benchManager(b)
	if err := m.CreateCheckpoint("key", &rawCheckpoint{data: make([]byte, 18<<10)}); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(18 << 10)
	b.ReportAllocs()
	for b.Loop() {
		if err := m.GetCheckpoint("key", &rawCheckpoint{}); err != nil {
			b.Fatal(err)
		}
	}
}
