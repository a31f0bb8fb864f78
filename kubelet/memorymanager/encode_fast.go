package memorymanager

import (
	"bytes"
	"slices"
	"strconv"
	"sync"
	"unicode/utf8"
	"unsafe"

	"github.com/ckptkit/ckpt/checkpointmanager/checksum"
	"github.com/ckptkit/ckpt/kubelet/internal/canonjson"
	"github.com/ckptkit/ckpt/kubelet/memorymanager/internal/state"
)

// This file is Encode's fast path: it writes by hand the bytes json.Marshal
// writes (struct fields in declaration order, map keys sorted by their
// string form, nil maps, slices and pointers as null, omitempty honoured)
// and hashes the legacy block directly instead of through a Marshal and
// Unmarshal round trip. The round trip is the identity for these types,
// except for strings that are not valid UTF-8 (Marshal replaces their bad
// bytes): encodeFast declines those and Encode takes the old path.

// encodeBufs holds the buffers the data string is written into before it
// is escaped into the output.
var encodeBufs = sync.Pool{New: func() any { b := make([]byte, 0, 32<<10); return &b }}

// maxPooledBuf bounds the buffers kept for reuse.
const maxPooledBuf = 1 << 20

// encodeFast returns Encode(s) for a non-nil s, or false when a string in
// s is not valid UTF-8.
func encodeFast(s *State) ([]byte, bool) {
	bufp := encodeBufs.Get().(*[]byte)
	defer func() {
		if cap(*bufp) <= maxPooledBuf {
			encodeBufs.Put(bufp)
		}
	}()
	w := &stateWriter{b: (*bufp)[:0]}
	w.b = append(w.b, `{"policyName":`...)
	w.str(s.PolicyName)
	w.b = append(w.b, `,"machineState":`...)
	w.numaNodeMap(s.MachineState)
	if len(s.Entries) > 0 {
		w.b = append(w.b, `,"entries":`...)
		w.entries(s.Entries)
	}
	// The top-level V1 block repeats these bytes.
	legacyEnd := len(w.b)
	if len(s.PodEntries) > 0 {
		w.b = append(w.b, `,"podEntries":`...)
		w.podEntries(s.PodEntries)
	}
	w.b = append(w.b, '}')
	data := w.b
	*bufp = data[:0]
	if w.bad {
		return nil, false
	}

	// The legacy block as a 1.35/1.36 reader decodes it into its
	// constructor-made struct: an omitted "entries" becomes an empty map.
	legacy := state.MemoryManagerCheckpointV1{PolicyName: s.PolicyName, MachineState: s.MachineState, Entries: s.Entries}
	if len(legacy.Entries) == 0 {
		legacy.Entries = ContainerMemoryAssignments{}
	}
	sum := checksum.NewReplaced(&legacy, v1TypeName, state.LegacyName)
	dataSum := checksum.OfString(unsafe.String(unsafe.SliceData(data), len(data)))

	out := make([]byte, 0, legacyEnd+len(data)+len(data)/4+96)
	out = append(out, data[:legacyEnd]...)
	out = append(out, `,"checksum":`...)
	out = canonjson.AppendUint(out, uint64(sum))
	out = append(out, `,"data":`...)
	out = canonjson.AppendString(out, data)
	out = append(out, `,"dataChecksum":`...)
	out = canonjson.AppendUint(out, uint64(dataSum))
	out = append(out, '}')
	return out, true
}

// stateWriter appends the state's values as json.Marshal writes them. bad
// records a string that is not valid UTF-8.
type stateWriter struct {
	b   []byte
	bad bool
	// Scratch for sorted keys, per nesting level.
	keys1, keys2 []string
	ids          []int
}

func (w *stateWriter) str(s string) {
	if !w.bad && !utf8.ValidString(s) {
		w.bad = true
	}
	w.b = canonjson.AppendString(w.b, s)
}

// sortedKeys returns m's keys sorted byte-wise, as Marshal sorts them,
// reusing scratch.
func sortedKeys[K ~string, V any](scratch []string, m map[K]V) []string {
	scratch = scratch[:0]
	for k := range m {
		scratch = append(scratch, string(k))
	}
	slices.Sort(scratch)
	return scratch
}

func (w *stateWriter) numaNodeMap(m NUMANodeMap) {
	if m == nil {
		w.b = append(w.b, "null"...)
		return
	}
	w.ids = w.ids[:0]
	for id := range m {
		w.ids = append(w.ids, id)
	}
	// Marshal sorts integer keys by their decimal text.
	slices.SortFunc(w.ids, func(a, b int) int {
		var ba, bb [24]byte
		return bytes.Compare(strconv.AppendInt(ba[:0], int64(a), 10), strconv.AppendInt(bb[:0], int64(b), 10))
	})
	w.b = append(w.b, '{')
	for i, id := range w.ids {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.b = append(w.b, '"')
		w.b = strconv.AppendInt(w.b, int64(id), 10)
		w.b = append(w.b, '"', ':')
		ns := m[id]
		if ns == nil {
			w.b = append(w.b, "null"...)
			continue
		}
		w.b = append(w.b, `{"numberOfAssignments":`...)
		w.b = strconv.AppendInt(w.b, int64(ns.NumberOfAssignments), 10)
		w.b = append(w.b, `,"memoryMap":`...)
		w.memoryMap(ns.MemoryMap)
		w.b = append(w.b, `,"cells":`...)
		w.ints(ns.Cells)
		w.b = append(w.b, '}')
	}
	w.b = append(w.b, '}')
}

func (w *stateWriter) memoryMap(m map[ResourceName]*MemoryTable) {
	if m == nil {
		w.b = append(w.b, "null"...)
		return
	}
	w.keys2 = sortedKeys(w.keys2, m)
	w.b = append(w.b, '{')
	for i, k := range w.keys2 {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.str(k)
		w.b = append(w.b, ':')
		t := m[ResourceName(k)]
		if t == nil {
			w.b = append(w.b, "null"...)
			continue
		}
		w.b = append(w.b, `{"total":`...)
		w.b = strconv.AppendUint(w.b, t.TotalMemSize, 10)
		w.b = append(w.b, `,"systemReserved":`...)
		w.b = strconv.AppendUint(w.b, t.SystemReserved, 10)
		w.b = append(w.b, `,"allocatable":`...)
		w.b = strconv.AppendUint(w.b, t.Allocatable, 10)
		w.b = append(w.b, `,"reserved":`...)
		w.b = strconv.AppendUint(w.b, t.Reserved, 10)
		w.b = append(w.b, `,"free":`...)
		w.b = strconv.AppendUint(w.b, t.Free, 10)
		w.b = append(w.b, '}')
	}
	w.b = append(w.b, '}')
}

func (w *stateWriter) ints(s []int) {
	if s == nil {
		w.b = append(w.b, "null"...)
		return
	}
	w.b = append(w.b, '[')
	for i, v := range s {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.b = strconv.AppendInt(w.b, int64(v), 10)
	}
	w.b = append(w.b, ']')
}

func (w *stateWriter) blocks(bs []Block) {
	if bs == nil {
		w.b = append(w.b, "null"...)
		return
	}
	w.b = append(w.b, '[')
	for i := range bs {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		b := &bs[i]
		w.b = append(w.b, `{"numaAffinity":`...)
		w.ints(b.NUMAAffinity)
		w.b = append(w.b, `,"type":`...)
		w.str(string(b.Type))
		w.b = append(w.b, `,"size":`...)
		w.b = strconv.AppendUint(w.b, b.Size, 10)
		w.b = append(w.b, '}')
	}
	w.b = append(w.b, ']')
}

func (w *stateWriter) entries(m ContainerMemoryAssignments) {
	pods := sortedKeys(nil, m)
	w.b = append(w.b, '{')
	for i, pod := range pods {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.str(pod)
		w.b = append(w.b, ':')
		ctrs := m[pod]
		if ctrs == nil {
			w.b = append(w.b, "null"...)
			continue
		}
		w.keys1 = sortedKeys(w.keys1, ctrs)
		w.b = append(w.b, '{')
		for j, ctr := range w.keys1 {
			if j > 0 {
				w.b = append(w.b, ',')
			}
			w.str(ctr)
			w.b = append(w.b, ':')
			w.blocks(ctrs[ctr])
		}
		w.b = append(w.b, '}')
	}
	w.b = append(w.b, '}')
}

func (w *stateWriter) podEntries(m PodMemoryAssignments) {
	pods := sortedKeys(nil, m)
	w.b = append(w.b, '{')
	for i, pod := range pods {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.str(pod)
		w.b = append(w.b, ':', '{')
		if e := m[pod]; len(e.MemoryBlocks) > 0 {
			w.b = append(w.b, `"memoryBlocks":`...)
			w.blocks(e.MemoryBlocks)
		}
		w.b = append(w.b, '}')
	}
	w.b = append(w.b, '}')
}
