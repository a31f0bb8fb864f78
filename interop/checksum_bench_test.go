package interop

import (
	"fmt"
	"hash/fnv"
	"strings"
	"testing"

	kchecksum "k8s.io/kubernetes/pkg/kubelet/checkpointmanager/checksum"
	cpustate "k8s.io/kubernetes/pkg/kubelet/cm/cpumanager/state"
	dmcheckpoint "k8s.io/kubernetes/pkg/kubelet/cm/devicemanager/checkpoint"
	memstate "k8s.io/kubernetes/pkg/kubelet/cm/memorymanager/state"
	"k8s.io/utils/dump"

	"github.com/ckptkit/ckpt/checkpointmanager/checksum"
)

// hashedValue is a value kubelet checksums, taken from a realistic file, and
// how each side hashes it.
type hashedValue struct {
	name    string
	value   func(tb testing.TB) any
	kubelet func(v any) uint64
	ckpt    func(v any) uint64
	// text is the text that is hashed (for the FNV floor and its length).
	text func(v any) string
}

func kubeletNew(v any) uint64 { return uint64(kchecksum.New(v)) }
func ckptNew(v any) uint64    { return uint64(checksum.New(v)) }

// kubeletRenamed is how kubelet hashes a legacy block: the dump, a type
// renamed in it, FNV over the result.
func kubeletRenamed(old, new string) func(v any) uint64 {
	return func(v any) uint64 {
		h := fnv.New32a()
		fmt.Fprintf(h, "%v", strings.Replace(dump.ForHash(v), old, new, 1))
		return uint64(h.Sum32())
	}
}

func ckptRenamed(old, new string) func(v any) uint64 {
	return func(v any) uint64 { return uint64(checksum.NewReplaced(v, old, new)) }
}

func hashedValues() []hashedValue {
	cpu := func(tb testing.TB) *cpustate.CPUManagerCheckpoint {
		cp := newKubeletCPU().(*cpustate.CPUManagerCheckpoint)
		if err := cp.UnmarshalCheckpoint(readGenerated(tb, "cpumanager/realistic/cpu_manager_state")); err != nil {
			tb.Fatal(err)
		}
		cp.Checksum = 0
		return cp
	}
	mem := func(tb testing.TB) *memstate.MemoryManagerCheckpoint {
		cp := newKubeletMemory().(*memstate.MemoryManagerCheckpoint)
		if err := cp.UnmarshalCheckpoint(readGenerated(tb, "memorymanager/realistic/memory_manager_state")); err != nil {
			tb.Fatal(err)
		}
		cp.Checksum = 0
		return cp
	}
	text := func(v any) string { return checksum.Text(v) }
	return []hashedValue{
		{
			name: "devicemanager",
			value: func(tb testing.TB) any {
				cp := newKubeletDevices().(*dmcheckpoint.Data)
				if err := cp.UnmarshalCheckpoint(readGenerated(tb, "devicemanager/realistic/kubelet_internal_checkpoint")); err != nil {
					tb.Fatal(err)
				}
				return cp.Data // what kubelet hashes: checksum.New(cp.Data)
			},
			kubelet: kubeletNew, ckpt: ckptNew, text: text,
		},
		{
			name:    "cpumanager-v2",
			value:   func(tb testing.TB) any { return &cpu(tb).CPUManagerCheckpointV2 },
			kubelet: kubeletNew, ckpt: ckptNew, text: text,
		},
		{
			name:    "cpumanager-v2-renamed",
			value:   func(tb testing.TB) any { return &cpu(tb).CPUManagerCheckpointV2 },
			kubelet: kubeletRenamed("CPUManagerCheckpointV2", "CPUManagerCheckpoint"),
			ckpt:    ckptRenamed("CPUManagerCheckpointV2", "CPUManagerCheckpoint"),
			text: func(v any) string {
				return strings.Replace(checksum.Text(v), "CPUManagerCheckpointV2", "CPUManagerCheckpoint", 1)
			},
		},
		{
			name:    "cpumanager-data",
			value:   func(tb testing.TB) any { return cpu(tb).Data },
			kubelet: kubeletNew, ckpt: ckptNew, text: text,
		},
		{
			name:    "memorymanager-v1",
			value:   func(tb testing.TB) any { return &mem(tb).MemoryManagerCheckpointV1 },
			kubelet: kubeletNew, ckpt: ckptNew, text: text,
		},
		{
			name:    "memorymanager-data",
			value:   func(tb testing.TB) any { return mem(tb).Data },
			kubelet: kubeletNew, ckpt: ckptNew, text: text,
		},
		{
			name: "allocation-data",
			value: func(tb testing.TB) any {
				b := readGenerated(tb, "allocation/realistic/allocated_pods_state")
				var cp struct{ Data string }
				if err := decodeJSON(b, &cp); err != nil {
					tb.Fatal(err)
				}
				return cp.Data
			},
			kubelet: kubeletNew, ckpt: ckptNew, text: text,
		},
	}
}

// TestHashedValuesAgree checks the benchmark set-up: both sides compute the
// same checksum for each value, and that checksum is the one in the file.
func TestHashedValuesAgree(t *testing.T) {
	for _, hv := range hashedValues() {
		v := hv.value(t)
		if k, c := hv.kubelet(v), hv.ckpt(v); k != c {
			t.Errorf("%s: kubelet %d, ckpt %d", hv.name, k, c)
		}
		h := fnv.New32a()
		h.Write([]byte(hv.text(v)))
		if k := hv.kubelet(v); uint64(h.Sum32()) != k {
			t.Errorf("%s: FNV of the text %d, kubelet %d", hv.name, h.Sum32(), k)
		}
	}
}

// BenchmarkChecksum hashes each realistic value: kubelet's checksum, ckpt's,
// and the floor of a byte-at-a-time FNV-1a over the text already made
// (hash/fnv), with the text's length as a metric.
func BenchmarkChecksum(b *testing.B) {
	var sink uint64
	for _, hv := range hashedValues() {
		v := hv.value(b)
		text := []byte(hv.text(v))
		for _, impl := range []struct {
			name string
			f    func(v any) uint64
		}{
			{"ckpt", hv.ckpt},
			{"kubelet", hv.kubelet},
			{"floor", func(any) uint64 {
				h := fnv.New32a()
				h.Write(text)
				return uint64(h.Sum32())
			}},
		} {
			b.Run(hv.name+"/"+impl.name+"/g1", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					sink += impl.f(v)
				}
				// After the loop: its first call resets the metrics.
				b.ReportMetric(float64(len(text)), "text-bytes")
			})
		}
	}
	_ = sink
}
