package interop

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	allocstate "k8s.io/kubernetes/pkg/kubelet/allocation/state"
	kchecksum "k8s.io/kubernetes/pkg/kubelet/checkpointmanager/checksum"
	cpustate "k8s.io/kubernetes/pkg/kubelet/cm/cpumanager/state"
	dmcheckpoint "k8s.io/kubernetes/pkg/kubelet/cm/devicemanager/checkpoint"
	drastate "k8s.io/kubernetes/pkg/kubelet/cm/dra/state"
	memstate "k8s.io/kubernetes/pkg/kubelet/cm/memorymanager/state"
	"k8s.io/utils/cpuset"
	"k8s.io/utils/dump"
	"sigs.k8s.io/randfill"

	"github.com/ckptkit/ckpt/checkpointmanager/checksum"
)

// oracleTypes are the types whose values both implementations hash: every
// type kubelet v1.37.2 checksums with the spew text (the consumers' own
// checkpoint types), the Kubernetes API types inside them, and a few broad
// API types whose shapes (pointers, nested structs, quantities with their
// unexported internals, times) reach corners kubelet's types do not.
func oracleTypes() []struct {
	reason string
	new    func() any
} {
	return []struct {
		reason string
		new    func() any
	}{
		{"cpu manager V2 (1.18-1.36, and the legacy block of V4)", func() any { return new(cpustate.CPUManagerCheckpointV2) }},
		{"cpu manager V3 with pod-level cpusets (unexported map inside)", func() any { return new(cpustate.CPUManagerCheckpointV3) }},
		{"cpu manager V4", func() any { return new(cpustate.CPUManagerCheckpoint) }},
		{"cpu manager V4 data", func() any { return new(cpustate.CPUManagerCheckpointData) }},
		{"memory manager V1", func() any { return new(memstate.MemoryManagerCheckpointV1) }},
		{"memory manager V2", func() any { return new(memstate.MemoryManagerCheckpointV2) }},
		{"memory manager V3", func() any { return new(memstate.MemoryManagerCheckpoint) }},
		{"device manager checkpoint (what kubelet hashes is its Data field)", func() any { return new(dmcheckpoint.Data) }},
		{"DRA claim info list", func() any { return new(drastate.ClaimInfoStateList) }},
		{"DRA checkpoint data", func() any { return new(drastate.CheckpointData) }},
		{"allocation pod resources", func() any { return new(allocstate.PodResourceCheckpointInfo) }},
		{"allocation checkpoint", func() any { return new(allocstate.Checkpoint) }},
		{"resource requirements (quantities with internals)", func() any { return new(v1.ResourceRequirements) }},
		{"pod", func() any { return new(v1.Pod) }},
		{"node status", func() any { return new(v1.NodeStatus) }},
		{"object meta", func() any { return new(metav1.ObjectMeta) }},
	}
}

// filler returns a randfill.Filler that also fills what plain reflection
// cannot: quantities (unexported fields) from random parsed values, and
// cpusets from random CPU ids.
func filler(seed int64) *randfill.Filler {
	r := rand.New(rand.NewPCG(uint64(seed), 7))
	return randfill.NewWithSeed(seed).NilChance(0.2).NumElements(0, 6).MaxDepth(12).Funcs(
		func(q *resource.Quantity, c randfill.Continue) {
			forms := []string{"%d", "%dm", "%dMi", "%dGi", "%de3", "%dk", "%d.5", "%dn"}
			*q = resource.MustParse(fmt.Sprintf(forms[r.IntN(len(forms))], r.Int64N(1<<40)))
			if r.IntN(4) == 0 {
				_ = q.String() // fills the cached string, which the hash covers
			}
		},
		func(s *cpuset.CPUSet, c randfill.Continue) {
			ids := make([]int, r.IntN(8))
			for i := range ids {
				ids[i] = r.IntN(256)
			}
			*s = cpuset.New(ids...)
		},
		func(t *metav1.Time, c randfill.Continue) {
			// Local time zones carry a *time.Location with caches that
			// differ between runs; UTC keeps the text reproducible.
			*t = metav1.Unix(r.Int64N(1<<32), r.Int64N(1e9)).Rfc3339Copy()
		},
	)
}

// TestChecksumOracle hashes generated values of kubelet's own types with
// kubelet v1.37.2's checksum.New and with ours, and requires every
// checksum, and the text behind it, to be equal.
func TestChecksumOracle(t *testing.T) {
	const perType = 150
	for ti, typ := range oracleTypes() {
		f := filler(int64(ti))
		for i := range perType {
			v := typ.new()
			f.Fill(v)
			for _, value := range []any{v, reflect.ValueOf(v).Elem().Interface()} {
				want := uint64(kchecksum.New(value))
				if got := uint64(checksum.New(value)); got != want {
					t.Errorf("%s #%d: checksum.New = %d, kubelet's = %d\nours:    %.400s\nkubelet: %.400s",
						typ.reason, i, got, want, checksum.Text(value), dump.ForHash(value))
					break
				}
				if got, want := checksum.Text(value), dump.ForHash(value); got != want {
					t.Errorf("%s #%d: text differs\nours:    %.400s\nkubelet: %.400s", typ.reason, i, got, want)
					break
				}
			}
		}
	}
}
