package devicemanager

// The fast paths of Decode and Encode, for the v2 layout only.
//
// decodeFast reads the canonical JSON that kubelet (encoding/json.Marshal)
// writes with the reflection-free canonjson.Reader, verifies the checksum
// as decodeSlow does (checksum.New over kubelet's checkpointData) and the
// base64 of every AllocResp. It may only decline, never disagree: whenever
// it is not certain to produce exactly what decodeSlow produces (any byte
// the reader refuses, a key it does not expect or in another letter case,
// a duplicate key, a null other than a nil AllocResp, a missing member, a
// NUMA node not in canonical decimal, base64 that is not in canonical
// shape, a zero or mismatched checksum, the pre-1.20 layout), it reports
// false and Decode runs decodeSlow, which gives the result and the exact
// error. TestDecodeFastAgrees and FuzzDecodeFast hold it to that.
//
// To allocate little, it reads the document twice. The first pass checks
// the syntax and counts: entries, device IDs, resources, and the bytes of
// every string and every decoded AllocResp. The second pass fills memory
// sized exactly from those counts: one buffer holds the bytes of all the
// strings (each written once, then viewed with unsafe.String) and of all
// the AllocResp slices (disjoint, capacity-limited sub-slices, so that a
// caller writing or appending to one cannot reach another or a string), one
// []string holds every device ID list, one []PodDevicesEntry every entry.
// The second pass reads RegisteredDevices first, and an entry's device ID
// (kubelet allocates from the registered devices) shares the registered
// string with the same bytes, found by binary search; the few that match
// none are copied into a second buffer at the end.
//
// encodeFast writes the bytes json.Marshal writes for the same value, by
// hand, into one buffer sized beforehand.

import (
	"bytes"
	"encoding/base64"
	"slices"
	"strconv"
	"strings"
	"unsafe"

	"github.com/ckptkit/ckpt/kubelet/devicemanager/internal/checkpoint"
	"github.com/ckptkit/ckpt/kubelet/internal/canonjson"
)

// fastDecoder holds the state of one pass over the document.
type fastDecoder struct {
	r    *canonjson.Reader
	fill bool // false: the counting pass; true: the filling pass

	// Counted by the first pass; the second pass fills memory of these
	// sizes and fails if it would need more. nBytes counts every string
	// and AllocResp byte except the device IDs of entries.
	nEntries, nRegIDs, nEntryIDs, nResources, nBytes int
	// Where RegisteredDevices lies, which the second pass reads first.
	regStart, regEnd int

	// The second pass's memory and how much of it is used. ids holds the
	// registered device IDs, then those of the entries.
	buf     []byte
	bufUsed int
	ids     []string
	idsUsed int
	entries []PodDevicesEntry
	devices map[string][]string
	// byID lists the registered IDs (indices into ids) in ascending order,
	// to find the string an entry's device ID can share; pending counts
	// the bytes of the entries' IDs that share none, which still point into
	// the input.
	byID    []int32
	pending int

	// The previous entry's ContainerName and ResourceName, as read and as
	// stored, so that repeated names share one string (both passes make
	// the same decision from the same bytes).
	prevCtr, prevRes   []byte
	prevCtrS, prevResS string

	stored uint64
}

// decodeFast decodes and verifies a canonical v2 file. It returns false
// when it cannot be sure to agree with decodeSlow.
func decodeFast(data []byte) (*Checkpoint, bool) {
	d := fastDecoder{r: canonjson.NewReader(data)}
	if !d.document() || d.stored == 0 || d.stored > 1<<32-1 {
		// A computed checksum fits in 32 bits: a larger one never matches.
		return nil, false
	}
	d.buf = make([]byte, d.nBytes)
	d.ids = make([]string, d.nRegIDs+d.nEntryIDs)
	d.entries = make([]PodDevicesEntry, d.nEntries)
	d.devices = make(map[string][]string, d.nResources)
	d.fill = true

	// The registered devices first, so that the entries' device IDs, which
	// kubelet allocates from them, can share their strings.
	d.r = canonjson.NewReader(data[d.regStart:d.regEnd])
	d.registered()
	if !d.r.End() || d.idsUsed != d.nRegIDs {
		return nil, false
	}
	if d.nRegIDs > 0 {
		d.byID = make([]int32, d.nRegIDs)
		for i := range d.byID {
			d.byID[i] = int32(i)
		}
		slices.SortFunc(d.byID, func(a, b int32) int { return strings.Compare(d.ids[a], d.ids[b]) })
	}

	d.r = canonjson.NewReader(data)
	d.prevCtr, d.prevRes = nil, nil
	if !d.document() || d.bufUsed != len(d.buf) || d.idsUsed != len(d.ids) {
		return nil, false
	}
	d.ownEntryIDs()
	if uint64(checkpoint.New(d.entries, d.devices).Computed()) != d.stored {
		return nil, false
	}
	return &Checkpoint{PodDeviceEntries: d.entries, RegisteredDevices: d.devices}, true
}

// ownEntryIDs copies the entries' device IDs that share no registered
// string (they point into the input) into one buffer of their own.
func (d *fastDecoder) ownEntryIDs() {
	if d.pending == 0 {
		return
	}
	own := make([]byte, d.pending)
	used := 0
	for i := d.nRegIDs; i < len(d.ids); i++ {
		s := d.ids[i]
		if len(s) == 0 || d.inBuf(s) {
			continue
		}
		n := copy(own[used:], s)
		// own[used:used+n] is written once, here.
		d.ids[i] = unsafe.String(&own[used], n)
		used += n
	}
}

// inBuf reports whether s lies in d.buf.
func (d *fastDecoder) inBuf(s string) bool {
	if len(d.buf) == 0 {
		return false
	}
	off := uintptr(unsafe.Pointer(unsafe.StringData(s))) - uintptr(unsafe.Pointer(&d.buf[0]))
	return off < uintptr(len(d.buf))
}

// document reads {"Data":{...},"Checksum":N}, both members required.
func (d *fastDecoder) document() bool {
	r := d.r
	var seen uint8
	r.Object(func(key []byte) {
		var bit uint8
		switch string(key) {
		case "Data":
			bit = 1
			d.data()
		case "Checksum":
			bit = 2
			d.stored = r.Uint64()
		default:
			r.Fail()
		}
		once(r, &seen, bit)
	})
	return r.End() && seen == 3
}

// once marks bit in *seen, failing r if it was already set: a duplicate
// key, which encoding/json reads as the last one.
func once(r *canonjson.Reader, seen *uint8, bit uint8) {
	if *seen&bit != 0 {
		r.Fail()
	}
	*seen |= bit
}

// data reads {"PodDeviceEntries":[...],"RegisteredDevices":{...}}, both
// members required (decodeSlow keeps an absent one empty; kubelet writes
// both).
func (d *fastDecoder) data() {
	r := d.r
	var seen uint8
	r.Object(func(key []byte) {
		var bit uint8
		switch string(key) {
		case "PodDeviceEntries":
			bit = 1
			n := 0
			r.Array(func() {
				if !d.fill {
					d.nEntries++
					d.entry(nil)
					return
				}
				if n >= len(d.entries) {
					r.Fail()
					return
				}
				d.entry(&d.entries[n])
				n++
			})
			if d.fill && n != len(d.entries) {
				r.Fail()
			}
		case "RegisteredDevices":
			bit = 2
			if d.fill {
				r.Skip() // read first, from its span
				break
			}
			d.regStart = r.Offset()
			d.registered()
			d.regEnd = r.Offset()
		default:
			r.Fail()
		}
		once(r, &seen, bit)
	})
	if seen != 3 {
		r.Fail()
	}
}

// entry reads one PodDevicesEntry into e (nil in the counting pass), every
// member required.
func (d *fastDecoder) entry(e *PodDevicesEntry) {
	r := d.r
	var seen uint8
	var scratch PodDevicesEntry
	if e == nil {
		e = &scratch
	}
	r.Object(func(key []byte) {
		var bit uint8
		switch string(key) {
		case "PodUID":
			bit = 1
			e.PodUID = d.str(r.StringBytes())
		case "ContainerName":
			bit = 2
			e.ContainerName = d.repeated(r.StringBytes(), &d.prevCtr, &d.prevCtrS)
		case "ResourceName":
			bit = 4
			e.ResourceName = d.repeated(r.StringBytes(), &d.prevRes, &d.prevResS)
		case "DeviceIDs":
			bit = 8
			e.DeviceIDs = d.numaDevices()
		case "AllocResp":
			bit = 16
			e.AllocResp = d.allocResp()
		default:
			r.Fail()
		}
		once(r, &seen, bit)
	})
	if seen != 31 {
		r.Fail()
	}
}

// numaDevices reads DeviceIDs: an object of NUMA node to device IDs.
func (d *fastDecoder) numaDevices() DevicesPerNUMA {
	r := d.r
	var m DevicesPerNUMA
	if d.fill {
		m = make(DevicesPerNUMA)
	}
	r.Object(func(key []byte) {
		node, ok := canonInt64(key)
		if !ok {
			r.Fail()
			return
		}
		if d.fill {
			if _, dup := m[node]; dup {
				r.Fail()
				return
			}
		}
		ids := d.list(true)
		if d.fill {
			m[node] = ids
		}
	})
	return m
}

// list reads an array of strings ([] as an empty, non-nil slice, as
// encoding/json reads it; null fails) into d.ids: an entry's device IDs
// (shared with the registered ones where they can be) or registered ones.
func (d *fastDecoder) list(entry bool) []string {
	r := d.r
	start := d.idsUsed
	r.Array(func() {
		b := r.StringBytes()
		switch {
		case !d.fill && entry:
			d.nEntryIDs++
		case !d.fill:
			d.nRegIDs++
			d.nBytes += len(b)
		case d.idsUsed >= len(d.ids):
			r.Fail()
		case entry:
			d.ids[d.idsUsed] = d.deviceID(b)
			d.idsUsed++
		default:
			d.ids[d.idsUsed] = d.str(b)
			d.idsUsed++
		}
	})
	if !d.fill || !r.Ok() {
		return nil
	}
	return d.ids[start:d.idsUsed:d.idsUsed]
}

// deviceID returns an entry's device ID b: the registered string with the
// same bytes, or else a string over b itself (the input, or the reader's
// copy of an escaped string), which ownEntryIDs later copies.
func (d *fastDecoder) deviceID(b []byte) string {
	if len(b) == 0 || !d.r.Ok() {
		return ""
	}
	i, found := slices.BinarySearchFunc(d.byID, b, func(id int32, b []byte) int {
		return strings.Compare(d.ids[id], unsafe.String(&b[0], len(b)))
	})
	if found {
		return d.ids[d.byID[i]]
	}
	d.pending += len(b)
	return unsafe.String(&b[0], len(b))
}

// registered reads RegisteredDevices.
func (d *fastDecoder) registered() {
	r := d.r
	r.Object(func(key []byte) {
		if !d.fill {
			d.nResources++
		} else if _, dup := d.devices[string(key)]; dup {
			r.Fail()
			return
		}
		name := d.str(key)
		ids := d.list(false)
		if d.fill {
			d.devices[name] = ids
		}
	})
}

// allocResp reads AllocResp: base64 as encoding/json decodes a []byte,
// null as nil. It accepts only base64 in canonical shape (a multiple of 4
// bytes of the standard alphabet, at most two '=' at the end, which
// base64.StdEncoding decodes to exactly n/4*3-pad bytes); anything else
// (line breaks encoding/json would skip, bad padding) fails.
func (d *fastDecoder) allocResp() []byte {
	r := d.r
	if r.IsNull() {
		return nil
	}
	b := r.StringBytes()
	if !r.Ok() {
		return nil
	}
	if !d.fill {
		// Checked once, here; the filling pass reads the same bytes.
		n, ok := decodedLen(b)
		if !ok {
			r.Fail()
		}
		d.nBytes += n
		return nil
	}
	n := len(b) / 4 * 3
	if len(b) > 0 && b[len(b)-1] == '=' {
		n--
		if b[len(b)-2] == '=' {
			n--
		}
	}
	dst := d.take(n)
	if dst == nil {
		return nil
	}
	if got, err := base64.StdEncoding.Decode(dst, b); err != nil || got != n {
		r.Fail()
		return nil
	}
	return dst
}

// decodedLen returns the length of the bytes b decodes to, if b is base64
// in canonical shape.
func decodedLen(b []byte) (int, bool) {
	if len(b)%4 != 0 {
		return 0, false
	}
	pad := 0
	if len(b) > 0 && b[len(b)-1] == '=' {
		pad++
		if b[len(b)-2] == '=' {
			pad++
		}
	}
	bad := uint8(0)
	for _, c := range b[:len(b)-pad] {
		bad |= notBase64[c]
	}
	return len(b)/4*3 - pad, bad == 0
}

// notBase64 is 1 for the bytes outside the standard base64 alphabet.
var notBase64 = func() (t [256]uint8) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for i := range t {
		t[i] = 1
	}
	for i := range len(alphabet) {
		t[alphabet[i]] = 0
	}
	return t
}()

// take returns the next n bytes of d.buf, capacity-limited (non-nil even
// when n is 0, as encoding/json makes an empty []byte), or fails.
func (d *fastDecoder) take(n int) []byte {
	if n > len(d.buf)-d.bufUsed {
		d.r.Fail()
		return nil
	}
	if n == 0 {
		return []byte{}
	}
	b := d.buf[d.bufUsed : d.bufUsed+n : d.bufUsed+n]
	d.bufUsed += n
	return b
}

// str returns b as a string in d.buf (the filling pass), or counts its
// bytes (the counting pass).
func (d *fastDecoder) str(b []byte) string {
	if !d.fill {
		d.nBytes += len(b)
		return ""
	}
	dst := d.take(len(b))
	if len(dst) == 0 {
		return ""
	}
	copy(dst, b)
	// dst is written once, here, and handed out only as this string.
	return unsafe.String(&dst[0], len(dst))
}

// repeated is str for a value that often repeats the previous entry's
// (*prev as read, *prevS as stored).
func (d *fastDecoder) repeated(b []byte, prev *[]byte, prevS *string) string {
	if !d.r.Ok() {
		return ""
	}
	if *prev != nil && bytes.Equal(b, *prev) {
		return *prevS
	}
	s := d.str(b)
	*prev, *prevS = b, s
	if *prev == nil {
		*prev = []byte{}
	}
	return s
}

// canonInt64 parses a NUMA node map key written as Marshal writes an int64
// key: an optional minus and decimal digits without leading zeros ("-0" is
// refused too, so that distinct keys are distinct nodes). encoding/json
// accepts more ("+1", "01"); those are left to it.
func canonInt64(b []byte) (int64, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 19 || b[0] == '0' && (len(b) > 1 || neg) {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + uint64(c-'0')
	}
	switch {
	case neg && v <= 1<<63:
		return int64(-v), true
	case !neg && v < 1<<63:
		return int64(v), true
	}
	return 0, false
}

// encodeFast returns what json.Marshal writes for the checkpoint kubelet
// builds from cp, with the checksum sum.
func encodeFast(cp *Checkpoint, sum uint64) []byte {
	var scratch [8]int64
	out := make([]byte, 0, encodedLen(cp, &scratch))
	out = append(out, `{"Data":{"PodDeviceEntries":`...)
	if cp.PodDeviceEntries == nil {
		out = append(out, "null"...)
	} else {
		out = append(out, '[')
		for i := range cp.PodDeviceEntries {
			if i > 0 {
				out = append(out, ',')
			}
			out = appendEntry(out, &cp.PodDeviceEntries[i], &scratch)
		}
		out = append(out, ']')
	}
	out = append(out, `,"RegisteredDevices":`...)
	if cp.RegisteredDevices == nil {
		out = append(out, "null"...)
	} else {
		out = append(out, '{')
		for i, name := range canonjson.SortedKeys(cp.RegisteredDevices) {
			if i > 0 {
				out = append(out, ',')
			}
			out = canonjson.AppendString(out, name)
			out = append(out, ':')
			out = appendList(out, cp.RegisteredDevices[name])
		}
		out = append(out, '}')
	}
	out = append(out, `},"Checksum":`...)
	out = canonjson.AppendUint(out, sum)
	return append(out, '}')
}

// The constant text around an entry's values.
const (
	entryPodUID    = `{"PodUID":`
	entryContainer = `,"ContainerName":`
	entryResource  = `,"ResourceName":`
	entryDevices   = `,"DeviceIDs":`
	entryAllocResp = `,"AllocResp":`
)

func appendEntry(out []byte, e *PodDevicesEntry, scratch *[8]int64) []byte {
	out = append(out, entryPodUID...)
	out = canonjson.AppendString(out, e.PodUID)
	out = append(out, entryContainer...)
	out = canonjson.AppendString(out, e.ContainerName)
	out = append(out, entryResource...)
	out = canonjson.AppendString(out, e.ResourceName)
	out = append(out, entryDevices...)
	if e.DeviceIDs == nil {
		out = append(out, "null"...)
	} else {
		out = append(out, '{')
		for i, node := range sortedNodes(e.DeviceIDs, scratch) {
			if i > 0 {
				out = append(out, ',')
			}
			out = append(out, '"')
			out = strconv.AppendInt(out, node, 10)
			out = append(out, '"', ':')
			out = appendList(out, e.DeviceIDs[node])
		}
		out = append(out, '}')
	}
	out = append(out, entryAllocResp...)
	if e.AllocResp == nil {
		out = append(out, "null"...)
	} else {
		out = append(out, '"')
		out = base64.StdEncoding.AppendEncode(out, e.AllocResp)
		out = append(out, '"')
	}
	return append(out, '}')
}

// appendList writes a []string as Marshal does (nil as null).
func appendList(out []byte, ids []string) []byte {
	if ids == nil {
		return append(out, "null"...)
	}
	out = append(out, '[')
	for i, id := range ids {
		if i > 0 {
			out = append(out, ',')
		}
		out = canonjson.AppendString(out, id)
	}
	return append(out, ']')
}

// sortedNodes returns the NUMA nodes of m in Marshal's order, which sorts
// the keys' decimal text ("-1" < "0" < "10" < "2"), in scratch when they
// fit. The result is valid until the next call.
func sortedNodes(m DevicesPerNUMA, scratch *[8]int64) []int64 {
	nodes := scratch[:0]
	if len(m) > len(scratch) {
		nodes = make([]int64, 0, len(m))
	}
	for n := range m {
		nodes = append(nodes, n)
	}
	if len(nodes) > 1 {
		slices.SortFunc(nodes, compareDecimal)
	}
	return nodes
}

// compareDecimal compares the decimal text of a and b.
func compareDecimal(a, b int64) int {
	var ba, bb [20]byte
	return bytes.Compare(strconv.AppendInt(ba[:0], a, 10), strconv.AppendInt(bb[:0], b, 10))
}

// encodedLen returns the length encodeFast writes for cp when its strings
// are printable ASCII (a lower bound otherwise, and the buffer grows).
func encodedLen(cp *Checkpoint, scratch *[8]int64) int {
	// With room for null in place of [] and {}.
	n := len(`{"Data":{"PodDeviceEntries":null,"RegisteredDevices":null},"Checksum":18446744073709551615}`)
	var digits [20]byte
	for i := range cp.PodDeviceEntries {
		e := &cp.PodDeviceEntries[i]
		n += len(entryPodUID) + len(entryContainer) + len(entryResource) + len(entryDevices) + len(entryAllocResp) + 3 +
			quotedLen(e.PodUID) + quotedLen(e.ContainerName) + quotedLen(e.ResourceName)
		if e.AllocResp == nil {
			n += len("null")
		} else {
			n += 2 + base64.StdEncoding.EncodedLen(len(e.AllocResp))
		}
		n += 2
		if e.DeviceIDs == nil {
			n += 2
		}
		for node, ids := range e.DeviceIDs {
			n += 4 + len(strconv.AppendInt(digits[:0], node, 10)) + listLen(ids)
		}
	}
	for name, ids := range cp.RegisteredDevices {
		n += 2 + quotedLen(name) + listLen(ids)
	}
	return n
}

func listLen(ids []string) int {
	n := 2
	if ids == nil {
		n = len("null")
	}
	for _, id := range ids {
		n += 1 + quotedLen(id)
	}
	return n
}

// quotedLen returns the length canonjson.AppendString writes for s when s
// is ASCII (a lower bound otherwise): one table look-up a byte, cheaper
// than canonjson.QuotedLen's five counts for the short strings of this
// format.
func quotedLen(s string) int {
	n := len(s) + 2
	for i := 0; i < len(s); i++ {
		n += int(escapeExtra[s[i]])
	}
	return n
}

// escapeExtra is what Marshal's escape of each ASCII byte adds to its
// length: 1 for \" \\ \b \f \n \r \t, 5 for \u00XX (other control
// bytes and the HTML characters < > &), 0 otherwise.
var escapeExtra = func() (t [256]uint8) {
	for c := range 0x20 {
		t[c] = 5
	}
	for _, c := range "\"\\\b\f\n\r\t" {
		t[c] = 1
	}
	for _, c := range "<>&" {
		t[c] = 5
	}
	return t
}()
