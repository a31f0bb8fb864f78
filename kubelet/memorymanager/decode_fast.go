package memorymanager

import (
	"bytes"
	"sync"
	"unicode/utf8"
	"unsafe"

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

// dataBufs holds the buffers the data string is unescaped into; nothing
// decoded refers to them (strings are copied), so they are reused.
var dataBufs = sync.Pool{New: func() any { b := make([]byte, 0, 32<<10); return &b }}

// maxPooledBuf bounds the buffers kept for reuse.
const maxPooledBuf = 1 << 20

// decodeFast returns the State of a v3 file that Examine finds valid, and
// false when it is not certain of that (see above).
func decodeFast(data []byte) (*State, bool) {
	var raw struct {
		policy, machine, entries, sum, data, dataSum []byte
	}
	var seen uint8
	ok := splitObject(data, func(key, val []byte) bool {
		var bit uint8
		var dst *[]byte
		switch string(key) {
		case "policyName":
			bit, dst = 1, &raw.policy
		case "machineState":
			bit, dst = 2, &raw.machine
		case "entries":
			bit, dst = 4, &raw.entries
		case "checksum":
			bit, dst = 8, &raw.sum
		case "data":
			bit, dst = 16, &raw.data
		case "dataChecksum":
			bit, dst = 32, &raw.dataSum
		default:
			return false
		}
		if seen&bit != 0 {
			return false
		}
		seen |= bit
		*dst = val
		return true
	})
	// data and both checksums are required: without them the file is not
	// v3 as 1.37 writes it, or a checksum is missing (0), which never
	// verifies here.
	if !ok || seen&(8|16|32) != 8|16|32 {
		return nil, false
	}
	d := &fastDecoder{}

	// The embedded V1 block, as Examine decodes it into kubelet's
	// constructor-made struct: absent maps are made, not nil.
	legacy := state.MemoryManagerCheckpointV1{}
	if raw.policy != nil {
		r := canonjson.NewReader(raw.policy)
		legacy.PolicyName = r.String()
		if !r.End() {
			return nil, false
		}
	}
	if raw.machine != nil {
		r := canonjson.NewReader(raw.machine)
		legacy.MachineState = d.numaNodeMap(r)
		if !r.End() {
			return nil, false
		}
	} else {
		legacy.MachineState = make(NUMANodeMap)
	}
	if raw.entries != nil {
		r := canonjson.NewReader(raw.entries)
		legacy.Entries = d.entries(r)
		if !r.End() {
			return nil, false
		}
	} else {
		legacy.Entries = make(ContainerMemoryAssignments)
	}
	stored, ok := readUint(raw.sum)
	if !ok || stored == 0 {
		return nil, false
	}
	storedData, ok := readUint(raw.dataSum)
	if !ok || storedData == 0 {
		return nil, false
	}

	bufp := dataBufs.Get().(*[]byte)
	defer func() {
		if cap(*bufp) <= maxPooledBuf {
			dataBufs.Put(bufp)
		}
	}()
	str, ok := unquote(raw.data, (*bufp)[:0])
	if !ok || len(str) == 0 {
		return nil, false
	}
	*bufp = str[:0]
	if uint64(checksum.OfString(unsafe.String(&str[0], len(str)))) != storedData {
		return nil, false
	}
	if uint64(checksum.NewReplaced(&legacy, v1TypeName, state.LegacyName)) != stored {
		return nil, false
	}

	s, ok := d.shared(str, &raw.policy, raw.machine, raw.entries, &legacy)
	if !ok {
		s = &State{}
		r := canonjson.NewReader(str)
		d.data(r, s)
		if !r.End() {
			return nil, false
		}
	}
	return s, true
}

// shared decodes the data string when it repeats the embedded block byte
// for byte, as kubelet writes it: {"policyName":P,"machineState":M,
// "entries":E, then "podEntries" or the end, with P, M and E the block's
// bytes. The same bytes decode to the same values, so the block's are
// reused and only the pod entries are read. It reports false when the data
// string has another shape; the caller then reads it in full.
func (d *fastDecoder) shared(str []byte, policy *[]byte, machine, entries []byte, legacy *state.MemoryManagerCheckpointV1) (*State, bool) {
	if *policy == nil || machine == nil {
		return nil, false
	}
	rest, ok := cutPrefix(str, `{"policyName":`, *policy)
	if ok {
		rest, ok = cutPrefix(rest, `,"machineState":`, machine)
	}
	if ok && entries != nil {
		rest, ok = cutPrefix(rest, `,"entries":`, entries)
	}
	if !ok {
		return nil, false
	}
	s := &State{PolicyName: legacy.PolicyName, MachineState: legacy.MachineState}
	if entries != nil {
		s.Entries = legacy.Entries
	}
	if len(rest) == 1 && rest[0] == '}' {
		return s, true
	}
	pods, ok := bytes.CutPrefix(rest, []byte(`,"podEntries":`))
	if !ok || len(pods) < 2 || pods[len(pods)-1] != '}' {
		return nil, false
	}
	r := canonjson.NewReader(pods[:len(pods)-1])
	s.PodEntries = d.podEntries(r)
	if !r.End() {
		return nil, false
	}
	return s, true
}

// cutPrefix cuts key and then val off the front of b.
func cutPrefix(b []byte, key string, val []byte) ([]byte, bool) {
	if len(b) < len(key)+len(val) || string(b[:len(key)]) != key || !bytes.Equal(b[len(key):len(key)+len(val)], val) {
		return nil, false
	}
	return b[len(key)+len(val):], true
}

func readUint(b []byte) (uint64, bool) {
	r := canonjson.NewReader(b)
	v := r.Uint64()
	return v, r.End()
}

// splitObject splits a top-level JSON object into its members, calling
// member with each key (which must need no unescaping) and the raw bytes
// of its value, until member returns false. It only finds the boundaries:
// each value must be checked by reading it in full (with End). It reports
// whether the whole of b is one object, with only white space after it.
func splitObject(b []byte, member func(key, val []byte) bool) bool {
	i := skipWS(b, 0)
	if i >= len(b) || b[i] != '{' {
		return false
	}
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == '}' {
		return skipWS(b, i+1) == len(b)
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return false
		}
		start := i + 1
		for i = start; i < len(b) && b[i] != '"'; i++ {
			if c := b[i]; c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
				return false
			}
		}
		if i >= len(b) {
			return false
		}
		key := b[start:i]
		i = skipWS(b, i+1)
		if i >= len(b) || b[i] != ':' {
			return false
		}
		i = skipWS(b, i+1)
		end := skipValue(b, i)
		if end < 0 || !member(key, b[i:end]) {
			return false
		}
		i = skipWS(b, end)
		if i >= len(b) {
			return false
		}
		switch b[i] {
		case ',':
			i = skipWS(b, i+1)
		case '}':
			return skipWS(b, i+1) == len(b)
		default:
			return false
		}
	}
}

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipValue returns the end of the value starting at b[i], or -1. It does
// not validate the value; it only finds where it ends.
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				if i = skipString(b, i); i < 0 {
					return -1
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return -1
	}
	start := i
	for i < len(b) {
		switch b[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			if i == start {
				return -1
			}
			return i
		}
		i++
	}
	if i == start {
		return -1
	}
	return i
}

// skipString returns the end of the string starting at b[i] (a quote).
func skipString(b []byte, i int) int {
	for i++; i < len(b); {
		q := bytes.IndexByte(b[i:], '"')
		if q < 0 {
			return -1
		}
		i += q
		// The quote ends the string unless an odd number of backslashes
		// escapes it.
		n := 0
		for j := i - 1; j >= 0 && b[j] == '\\'; j-- {
			n++
		}
		if n%2 == 0 {
			return i + 1
		}
		i++
	}
	return -1
}

// unquote appends to dst the value of the JSON string that is the whole of
// raw, as encoding/json reads it. It reports false for anything
// encoding/json would read differently or reject (invalid UTF-8, which it
// replaces; surrogate escapes; control characters) and for bytes after the
// closing quote.
func unquote(raw, dst []byte) ([]byte, bool) {
	if len(raw) < 2 || raw[0] != '"' {
		return nil, false
	}
	i := 1
	for i < len(raw) {
		c := raw[i]
		switch {
		case c == '"':
			if i != len(raw)-1 || !utf8.Valid(dst) {
				return nil, false
			}
			return dst, true
		case c == '\\':
			if i+1 >= len(raw) {
				return nil, false
			}
			e := raw[i+1]
			i += 2
			switch e {
			case '"', '\\', '/':
				dst = append(dst, e)
			case 'b':
				dst = append(dst, '\b')
			case 'f':
				dst = append(dst, '\f')
			case 'n':
				dst = append(dst, '\n')
			case 'r':
				dst = append(dst, '\r')
			case 't':
				dst = append(dst, '\t')
			case 'u':
				v, ok := hex4(raw[i:])
				if !ok || v >= 0xD800 && v < 0xE000 {
					return nil, false
				}
				i += 4
				dst = utf8.AppendRune(dst, rune(v))
			default:
				return nil, false
			}
		case c < 0x20:
			return nil, false
		default:
			j := i + 1
			for j < len(raw) && raw[j] != '"' && raw[j] != '\\' && raw[j] >= 0x20 {
				j++
			}
			dst = append(dst, raw[i:j]...)
			i = j
		}
	}
	return nil, false
}

func hex4(b []byte) (uint32, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var v uint32
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		v = v<<4 | uint32(c)
	}
	return v, true
}

// fastDecoder reads the state's values with a canonjson.Reader, as
// encoding/json decodes them into fresh values: an object into a made map
// or a new struct, an array into a non-nil slice, null into a nil map,
// slice or pointer. It fails the reader on what it does not handle exactly
// (unknown or duplicate keys, null for a scalar or struct, integers out of
// range, NUMA ids not in canonical decimal).
type fastDecoder struct {
	// names holds short strings seen before (container and resource
	// names), shared instead of allocated again; strings are immutable.
	names [16]string
	n     int
}

func (d *fastDecoder) name(b []byte) string {
	if len(b) > 24 {
		return string(b)
	}
	for _, s := range d.names[:d.n] {
		if s == string(b) {
			return s
		}
	}
	s := string(b)
	if d.n < len(d.names) {
		d.names[d.n] = s
		d.n++
	}
	return s
}

// data reads the data string's object into s.
func (d *fastDecoder) data(r *canonjson.Reader, s *State) {
	var seen uint8
	r.Object(func(key []byte) {
		var bit uint8
		switch string(key) {
		case "policyName":
			bit = 1
			s.PolicyName = r.String()
		case "machineState":
			bit = 2
			s.MachineState = d.numaNodeMap(r)
		case "entries":
			bit = 4
			s.Entries = d.entries(r)
		case "podEntries":
			bit = 8
			s.PodEntries = d.podEntries(r)
		default:
			r.Fail()
		}
		if seen&bit != 0 {
			r.Fail()
		}
		seen |= bit
	})
}

func (d *fastDecoder) numaNodeMap(r *canonjson.Reader) NUMANodeMap {
	if r.IsNull() {
		return nil
	}
	m := make(NUMANodeMap)
	r.Object(func(key []byte) {
		id, ok := canonInt(key)
		if !ok {
			r.Fail()
			return
		}
		if _, dup := m[id]; dup {
			r.Fail()
			return
		}
		if r.IsNull() {
			m[id] = nil
			return
		}
		m[id] = d.numaNodeState(r)
	})
	return m
}

func (d *fastDecoder) numaNodeState(r *canonjson.Reader) *NUMANodeState {
	ns := &NUMANodeState{}
	var seen uint8
	r.Object(func(key []byte) {
		var bit uint8
		switch string(key) {
		case "numberOfAssignments":
			bit = 1
			ns.NumberOfAssignments = readInt(r)
		case "memoryMap":
			bit = 2
			ns.MemoryMap = d.memoryMap(r)
		case "cells":
			bit = 4
			ns.Cells = readInts(r)
		default:
			r.Fail()
		}
		if seen&bit != 0 {
			r.Fail()
		}
		seen |= bit
	})
	return ns
}

func (d *fastDecoder) memoryMap(r *canonjson.Reader) map[ResourceName]*MemoryTable {
	if r.IsNull() {
		return nil
	}
	m := make(map[ResourceName]*MemoryTable)
	r.Object(func(key []byte) {
		if _, dup := m[ResourceName(key)]; dup {
			r.Fail()
			return
		}
		res := ResourceName(d.name(key))
		if r.IsNull() {
			m[res] = nil
			return
		}
		m[res] = memoryTable(r)
	})
	return m
}

func memoryTable(r *canonjson.Reader) *MemoryTable {
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
		if seen&bit != 0 {
			r.Fail()
			return
		}
		seen |= bit
		*dst = r.Uint64()
	})
	return t
}

func (d *fastDecoder) entries(r *canonjson.Reader) ContainerMemoryAssignments {
	if r.IsNull() {
		return nil
	}
	m := make(ContainerMemoryAssignments)
	r.Object(func(key []byte) {
		if _, dup := m[string(key)]; dup {
			r.Fail()
			return
		}
		pod := string(key)
		if r.IsNull() {
			m[pod] = nil
			return
		}
		ctrs := make(map[string][]Block)
		r.Object(func(key []byte) {
			if _, dup := ctrs[string(key)]; dup {
				r.Fail()
				return
			}
			ctrs[d.name(key)] = d.blocks(r)
		})
		m[pod] = ctrs
	})
	return m
}

func (d *fastDecoder) podEntries(r *canonjson.Reader) PodMemoryAssignments {
	if r.IsNull() {
		return nil
	}
	m := make(PodMemoryAssignments)
	r.Object(func(key []byte) {
		if _, dup := m[string(key)]; dup {
			r.Fail()
			return
		}
		pod := string(key)
		var e PodEntry
		var seen bool
		r.Object(func(key []byte) {
			if string(key) != "memoryBlocks" || seen {
				r.Fail()
				return
			}
			seen = true
			e.MemoryBlocks = d.blocks(r)
		})
		m[pod] = e
	})
	return m
}

func (d *fastDecoder) blocks(r *canonjson.Reader) []Block {
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
				bit = 1
				b.NUMAAffinity = readInts(r)
			case "type":
				bit = 2
				b.Type = ResourceName(d.name(r.StringBytes()))
			case "size":
				bit = 4
				b.Size = r.Uint64()
			default:
				r.Fail()
			}
			if seen&bit != 0 {
				r.Fail()
			}
			seen |= bit
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
