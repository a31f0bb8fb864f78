package memorymanager

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/ckptkit/ckpt/kubelet/check"
	"github.com/ckptkit/ckpt/kubelet/internal/canonjson"
)

// memoryFiles returns every memory manager file under testdata.
func memoryFiles(tb testing.TB) []string {
	tb.Helper()
	var files []string
	for _, pattern := range []string{
		"../../testdata/kubelet-generated/memorymanager/*/memory_manager_state",
		filepath.Join(vectorsDir, "memorymanager/*.json"),
		"../../testdata/cases/*/memory_manager_state",
		"../../testdata/cases/*/*/memory_manager_state",
	} {
		m, err := filepath.Glob(pattern)
		if err != nil {
			tb.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) < 10 {
		tb.Fatalf("only %d memory manager files found", len(files))
	}
	return files
}

// fastAgrees checks decodeFast against the slow path on data: when the
// fast path accepts, Examine must say valid and decode the same State.
// It reports whether the fast path accepted.
func fastAgrees(t *testing.T, data []byte) bool {
	t.Helper()
	got, ok := decodeFast(data)
	if !ok {
		return false
	}
	if res := Examine(data); res.Verdict != check.Valid {
		t.Fatalf("fast path accepted a file Examine calls %s: %v\n%.400q", res.Verdict, res.Err, data)
	}
	want, err := decodeSlow(data)
	if err != nil {
		t.Fatalf("fast path accepted a file the slow path rejects: %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("fast path decoded\n%#v\nslow path\n%#v", got, want)
	}
	return true
}

// mutateChecksums returns data with each stored checksum changed, in
// several ways; the fast path must decline every one.
func mutateChecksums(data []byte) [][]byte {
	var out [][]byte
	r := canonjson.NewReader(data)
	r.Object(func(key []byte) {
		start := r.Offset()
		r.Skip()
		if string(key) != "checksum" && string(key) != "dataChecksum" {
			return
		}
		val := bytes.TrimRight(data[start:r.Offset()], " \t\n\r")
		v, err := strconv.ParseUint(string(val), 10, 64)
		if err != nil {
			return
		}
		for _, nv := range []uint64{0, v + 1, v ^ 1<<31, v | 1<<32} {
			m := append([]byte{}, data[:start]...)
			m = strconv.AppendUint(m, nv, 10)
			out = append(out, append(m, data[start+len(val):]...))
		}
	})
	return out
}

// TestDecodeFastAgrees runs the fast and slow paths on every memory
// manager file in testdata and on variants of them.
func TestDecodeFastAgrees(t *testing.T) {
	accepted := 0
	for _, f := range memoryFiles(t) {
		t.Run(f, func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if fastAgrees(t, data) {
				accepted++
			}
			for _, m := range mutateChecksums(data) {
				if _, ok := decodeFast(m); ok {
					t.Errorf("a mutated checksum was accepted:\n%.300s", m)
				}
				fastAgrees(t, m)
			}
		})
	}
	if accepted < 2 {
		t.Errorf("the fast path accepted only %d files; the kubelet-generated ones at least must take it", accepted)
	}
}

// TestDecodeFastCases checks the fast path on hand-made v3 files: what it
// must accept (and decode as the slow path does) and what it must leave
// to the slow path.
func TestDecodeFastCases(t *testing.T) {
	table := func(reserved uint64) *MemoryTable {
		return &MemoryTable{TotalMemSize: 8, Allocatable: 8, Reserved: reserved, Free: 8 - reserved}
	}
	full := State{PolicyName: "Static",
		MachineState: NUMANodeMap{0: {NumberOfAssignments: 2, Cells: []int{0}, MemoryMap: map[ResourceName]*MemoryTable{"memory": table(3)}},
			1: {Cells: []int{}, MemoryMap: map[ResourceName]*MemoryTable{"memory": nil, "hugepages-1Gi": table(0)}}, 2: nil,
			10: {MemoryMap: nil, Cells: nil}, -1: {}},
		Entries: ContainerMemoryAssignments{"p": {"c": {{NUMAAffinity: []int{0}, Type: "memory", Size: 3}}, "d": nil, "e": {}},
			"q": nil, "r": {}},
		PodEntries: PodMemoryAssignments{"p": {MemoryBlocks: []Block{{NUMAAffinity: []int{0, 1}, Type: "memory", Size: 1}}}, "s": {}},
	}
	enc := func(s State) string {
		out, err := Encode(&s)
		if err != nil {
			t.Fatal(err)
		}
		return string(out)
	}
	fullFile := enc(full)
	indented := func(s string) string {
		var b bytes.Buffer
		if err := json.Indent(&b, []byte(s), "", "  "); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	tests := []struct {
		name   string
		reason string
		in     string
		accept bool
	}{
		{"full", "nil, empty and null values everywhere, pod entries, a negative and a two-digit NUMA id", fullFile, true},
		{"empty", "the smallest v3 file Encode writes", enc(State{PolicyName: "None", MachineState: NUMANodeMap{}}), true},
		{"nil machine", "machineState null in both the block and data", enc(State{PolicyName: "None"}), true},
		{"only pod entries", "no container entries: the block has no entries key",
			enc(State{PolicyName: "Static", MachineState: NUMANodeMap{}, PodEntries: full.PodEntries}), true},
		{"indented", "white space is read (the data string then is read on its own)", indented(fullFile), true},
		{"key case", "encoding/json matches keys case-insensitively; the fast path leaves that to it",
			strings.Replace(fullFile, `"policyName"`, `"PolicyName"`, 1), false},
		{"unknown key", "an unknown key is ignored by encoding/json; the fast path declines",
			strings.Replace(fullFile, `{"policyName"`, `{"x":1,"policyName"`, 1), false},
		{"duplicate key", "encoding/json keeps the last; the fast path declines",
			strings.Replace(fullFile, `{"policyName":"Static"`, `{"policyName":"Static","policyName":"Static"`, 1), false},
		{"null checksum", "null leaves the checksum 0", strings.Replace(fullFile, `"checksum":`, `"checksum":null,"x":`, 1), false},
		{"no data", "an older layout", `{"policyName":"None","machineState":{},"checksum":4236770233}`, false},
		{"trailing", "bytes after the document", fullFile + "x", false},
		{"data trailing", "data with bytes after its object",
			`{"policyName":"None","machineState":{},"checksum":4236770233,"data":"{\"policyName\":\"None\",\"machineState\":{}}x","dataChecksum":1}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := fastAgrees(t, []byte(tt.in)); got != tt.accept {
				t.Errorf("%s: fast path accepted = %v, want %v (slow: %v)", tt.reason, got, tt.accept, Examine([]byte(tt.in)).Err)
			}
			for _, m := range mutateChecksums([]byte(tt.in)) {
				if _, ok := decodeFast(m); ok {
					t.Errorf("%s: a mutated checksum was accepted:\n%.300s", tt.reason, m)
				}
			}
		})
	}
}

// TestEncodeFastMatchesSlow checks that the hand-written encoder writes
// what the encoding/json one writes, byte for byte, for the states of
// every testdata file and for edge states.
func TestEncodeFastMatchesSlow(t *testing.T) {
	type named struct {
		name, reason string
		s            State
	}
	states := []named{
		{"empty", "nothing set: null machine state, omitted entries", State{}},
		{"html and separators", "Marshal escapes <, >, & and U+2028 in keys and values", State{PolicyName: "a<b>&\u2028\"\\\n",
			MachineState: NUMANodeMap{0: {MemoryMap: map[ResourceName]*MemoryTable{"m<": {Free: 1}}}},
			Entries:      ContainerMemoryAssignments{"p&": {"c\u2029": {{Type: "t>"}}}}}},
		{"key order", "integer keys sort by their text, as Marshal sorts them",
			State{MachineState: NUMANodeMap{10: {}, 2: {}, -1: {}, 0: nil, 100: {}}}},
		{"empty entries", "empty maps are omitted like nil ones",
			State{MachineState: NUMANodeMap{}, Entries: ContainerMemoryAssignments{}, PodEntries: PodMemoryAssignments{}}},
		{"invalid UTF-8", "Marshal replaces the bad bytes; the legacy checksum hashes what a reader sees",
			State{PolicyName: "a\xffb", MachineState: NUMANodeMap{}, Entries: ContainerMemoryAssignments{"p\xfe": {"c": nil}}}},
	}
	for _, f := range memoryFiles(t) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if s, err := decodeSlow(data); err == nil {
			states = append(states, named{f, "a state from testdata", *s})
		}
	}
	for _, tt := range states {
		t.Run(tt.name, func(t *testing.T) {
			want, err := encodeSlow(&tt.s)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Encode(&tt.s)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s: Encode differs from encoding/json:\n got %.400s\nwant %.400s", tt.reason, got, want)
			}
		})
	}
}

// FuzzDecodeFast checks that the fast path never disagrees with the slow
// one: whatever it accepts, Examine calls valid and decodes to the same
// State, and a changed checksum is never accepted. It also checks that
// Encode's fast path writes what encoding/json writes.
func FuzzDecodeFast(f *testing.F) {
	for _, file := range memoryFiles(f) {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		if len(b) > 16<<10 {
			// The realistic file (TestDecodeFastAgrees covers it) makes
			// each run take tens of milliseconds, and the engine then
			// spends its time minimizing it.
			continue
		}
		f.Add(b)
		for _, m := range mutateChecksums(b) {
			f.Add(m)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if fastAgrees(t, data) {
			for _, m := range mutateChecksums(data) {
				if _, ok := decodeFast(m); ok {
					t.Fatalf("a mutated checksum was accepted:\n%.300q", m)
				}
			}
		}
		s, err := decodeSlow(data)
		if err != nil {
			return
		}
		want, err := encodeSlow(s)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := Encode(s); err != nil || !bytes.Equal(got, want) {
			t.Fatalf("Encode = %.300q, %v; encoding/json writes %.300q", got, err, want)
		}
	})
}
