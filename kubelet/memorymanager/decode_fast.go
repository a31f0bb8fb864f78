package memorymanager

import (
	"github.com/ckptkit/ckpt/checkpointmanager/checksum"
	"github.com/ckptkit/ckpt/kubelet/internal/canonjson"
	"github.com/ckptkit/ckpt/kubelet/memorymanager/internal/state"
)

// This file is Decode's fast path. Examine, which Decode used to run in
// full, builds notes, tables and every alternative checksum text, and reads
// the file four times with encoding/json; a node agent restoring its state
// needs none of that. decodeFast reads the current layout (v3, as kubelet
// 1.37 writes it) once, without reflection, and verifies what Examine
// verifies for a valid verdict: the embedded V1 block's checksum under the
// V1 rule (RuleV3Legacy), the dataChecksum of the data string, and that the
// data string decodes as the state.
//
// It may only decline, never disagree: whenever it is not certain that
// Examine would call the file valid and decode the same State (a reader
// failure, an unknown key or one in another letter case, a duplicate key, a
// null where a scalar or struct is, a zero or mismatched checksum, an older
// layout), it reports false and Decode runs Examine, which gives the exact
// verdict and error. The differential test and FuzzDecodeFast check that.

// The type name the embedded V1 block is hashed under (RuleV3Legacy).
const v1TypeName = "MemoryManagerCheckpointV1"

// span is where a value lies in a document: from its first byte to the
// next token (white space after the value included, which does not change
// what it reads as).
type span struct{ start, end int }

// read records in *sp the span of the value that read reads from r.
func (sp *span) read(r *canonjson.Reader, read func()) {
	sp.start = r.Offset()
	read()
	sp.end = r.Offset()
}

// once marks bit in *seen, failing r if it was already set: a duplicate
// key, which encoding/json reads as the last one.
func once(r *canonjson.Reader, seen *uint8, bit uint8) {
	if *seen&bit != 0 {
		r.Fail()
	}
	*seen |= bit
}

// decodeFast returns the State of a v3 file that Examine finds valid, and
// false when it is not certain of that (see above).
func decodeFast(data []byte) (*State, bool) {
	var (
		seen              uint8
		policy            []byte
		machine, entries  span
		stored, storedSum uint64
		dataStr           string
	)
	// The embedded block's maps are only skipped here: the data string
	// holds the same values, and is read in full below.
	r := canonjson.NewReader(data)
	r.Object(func(key []byte) {
		var bit uint8
		switch string(key) {
		case "policyName":
			bit, policy = 1, r.StringBytes()
		case "machineState":
			bit = 2
			machine.read(r, r.Skip)
		case "entries":
			bit = 4
			entries.read(r, r.Skip)
		case "checksum":
			bit, stored = 8, r.Uint64()
		case "data":
			bit, dataStr = 16, r.StringOwned()
		case "dataChecksum":
			bit, storedSum = 32, r.Uint64()
		default:
			r.Fail()
		}
		once(r, &seen, bit)
	})
	// data and both checksums are required: without them the file is not
	// v3 as 1.37 writes it, or a checksum is missing (0), which never
	// verifies here.
	if !r.End() || seen&(8|16|32) != 8|16|32 || stored == 0 || storedSum == 0 || dataStr == "" {
		return nil, false
	}
	if uint64(checksum.OfString(dataStr)) != storedSum {
		return nil, false
	}
	s, in, ok := decodeData(dataStr)
	if !ok {
		return nil, false
	}

	// The embedded V1 block, as Examine decodes it into kubelet's
	// constructor-made struct: absent maps are made, not nil. Kubelet
	// writes the block's values with the bytes of the data string's; the
	// same bytes decode to the same values, which are then reused. A value
	// written otherwise is read on its own.
	legacy := state.MemoryManagerCheckpointV1{PolicyName: s.PolicyName}
	if string(policy) != s.PolicyName {
		legacy.PolicyName = string(policy)
	}
	if seen&2 == 0 {
		legacy.MachineState = make(NUMANodeMap)
	} else if legacy.MachineState, ok = blockValue(data[machine.start:machine.end], dataStr[in.machine.start:in.machine.end], s.MachineState, numaNodeMap); !ok {
		return nil, false
	}
	if seen&4 == 0 {
		legacy.Entries = make(ContainerMemoryAssignments)
	} else if legacy.Entries, ok = blockValue(data[entries.start:entries.end], dataStr[in.entries.start:in.entries.end], s.Entries, readEntries); !ok {
		return nil, false
	}
	if uint64(checksum.NewReplaced(&legacy, v1TypeName, state.LegacyName)) != stored {
		return nil, false
	}
	return s, true
}

// blockValue returns the value of the block's raw bytes: decoded, the
// value the data string read from the same bytes, else raw read on its own.
func blockValue[T any](raw []byte, same string, decoded T, read func(*canonjson.Reader) T) (T, bool) {
	if string(raw) == same {
		return decoded, true
	}
	r := canonjson.NewReader(raw)
	v := read(r)
	return v, r.End()
}

// dataSpans are where the data string holds the values the embedded block
// repeats (zero when it has no such key).
type dataSpans struct{ machine, entries span }

// decodeData reads the data string. Its strings share doc's memory (one
// allocation, made when the data string was read, holds all of them).
func decodeData(doc string) (*State, dataSpans, bool) {
	s := &State{}
	var in dataSpans
	var seen uint8
	r := canonjson.NewStringReader(doc)
	r.Object(func(key []byte) {
		var bit uint8
		switch string(key) {
		case "policyName":
			bit, s.PolicyName = 1, r.String()
		case "machineState":
			bit = 2
			in.machine.read(r, func() { s.MachineState = numaNodeMap(r) })
		case "entries":
			bit = 4
			in.entries.read(r, func() { s.Entries = readEntries(r) })
		case "podEntries":
			bit, s.PodEntries = 8, podEntries(r)
		default:
			r.Fail()
		}
		once(r, &seen, bit)
	})
	return s, in, r.End()
}

// The readers below decode the state's values as encoding/json decodes
// them into fresh values: an object into a made map or a new struct, an
// array into a non-nil slice, null into a nil map, slice or pointer. They
// fail the reader on what they do not handle exactly (unknown or duplicate
// keys, null for a scalar or struct, integers out of range, NUMA ids not in
// canonical decimal).

// objectMap reads an object into a made map, or null as a nil map. key
// converts each key (false fails the reader), val reads each value; a
// duplicate key fails the reader.
func objectMap[K comparable, V any](r *canonjson.Reader, key func(*canonjson.Reader, []byte) (K, bool), val func(*canonjson.Reader) V) map[K]V {
	if r.IsNull() {
		return nil
	}
	m := make(map[K]V)
	r.Object(func(b []byte) {
		k, ok := key(r, b)
		if _, dup := m[k]; dup || !ok {
			r.Fail()
			return
		}
		m[k] = val(r)
	})
	return m
}

// stringKey is a key as it is (r.Key: a substring of a string reader's
// input, else a copy).
func stringKey(r *canonjson.Reader, _ []byte) (string, bool) { return r.Key(), true }

func resourceKey(r *canonjson.Reader, _ []byte) (ResourceName, bool) {
	return ResourceName(r.Key()), true
}

func numaID(_ *canonjson.Reader, b []byte) (int, bool) { return canonInt(b) }

func numaNodeMap(r *canonjson.Reader) NUMANodeMap {
	return objectMap(r, numaID, numaNodeState)
}

func numaNodeState(r *canonjson.Reader) *NUMANodeState {
	if r.IsNull() {
		return nil
	}
	ns := &NUMANodeState{}
	var seen uint8
	r.Object(func(key []byte) {
		var bit uint8
		switch string(key) {
		case "numberOfAssignments":
			bit, ns.NumberOfAssignments = 1, readInt(r)
		case "memoryMap":
			bit, ns.MemoryMap = 2, objectMap(r, resourceKey, memoryTable)
		case "cells":
			bit, ns.Cells = 4, readInts(r)
		default:
			r.Fail()
		}
		once(r, &seen, bit)
	})
	return ns
}

func memoryTable(r *canonjson.Reader) *MemoryTable {
	if r.IsNull() {
		return nil
	}
	t := &MemoryTable{}
	var seen uint8
	r.Object(func(key []byte) {
		var bit uint8
		var dst *uint64
		switch string(key) {
		case "total":
			bit, dst = 1, &t.TotalMemSize
		case "systemReserved":
			bit, dst = 2, &t.SystemReserved
		case "allocatable":
			bit, dst = 4, &t.Allocatable
		case "reserved":
			bit, dst = 8, &t.Reserved
		case "free":
			bit, dst = 16, &t.Free
		default:
			r.Fail()
			return
		}
		once(r, &seen, bit)
		*dst = r.Uint64()
	})
	return t
}

func readEntries(r *canonjson.Reader) ContainerMemoryAssignments {
	return objectMap(r, stringKey, containerBlocks)
}

func containerBlocks(r *canonjson.Reader) map[string][]Block {
	return objectMap(r, stringKey, blocks)
}

func podEntries(r *canonjson.Reader) PodMemoryAssignments {
	return objectMap(r, stringKey, podEntry)
}

// podEntry reads a pod's entry; null (which encoding/json reads as an
// empty entry) fails the reader.
func podEntry(r *canonjson.Reader) PodEntry {
	var e PodEntry
	var seen uint8
	r.Object(func(key []byte) {
		if string(key) != "memoryBlocks" {
			r.Fail()
			return
		}
		once(r, &seen, 1)
		e.MemoryBlocks = blocks(r)
	})
	return e
}

func blocks(r *canonjson.Reader) []Block {
	if r.IsNull() {
		return nil
	}
	bs := []Block{}
	r.Array(func() {
		var b Block
		var seen uint8
		r.Object(func(key []byte) {
			var bit uint8
			switch string(key) {
			case "numaAffinity":
				bit, b.NUMAAffinity = 1, readInts(r)
			case "type":
				bit, b.Type = 2, ResourceName(r.String())
			case "size":
				bit, b.Size = 4, r.Uint64()
			default:
				r.Fail()
			}
			once(r, &seen, bit)
		})
		bs = append(bs, b)
	})
	return bs
}

// readInts reads an []int; [] is an empty, non-nil slice, as encoding/json
// makes it.
func readInts(r *canonjson.Reader) []int {
	if r.IsNull() {
		return nil
	}
	s := []int{}
	r.Array(func() { s = append(s, readInt(r)) })
	return s
}

func readInt(r *canonjson.Reader) int {
	v := r.Int64()
	if int64(int(v)) != v {
		r.Fail()
		return 0
	}
	return int(v)
}

// canonInt parses a NUMA id map key written as Marshal writes an int key:
// an optional minus and decimal digits without leading zeros ("-0" is
// refused too, so that distinct keys are distinct ids).
func canonInt(b []byte) (int, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 18 || b[0] == '0' && (len(b) > 1 || neg) {
		return 0, false
	}
	var v int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	if neg {
		v = -v
	}
	if int64(int(v)) != v {
		return 0, false
	}
	return int(v), true
}
