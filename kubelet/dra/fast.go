package dra

import (
	"bytes"
	"hash/crc32"
	"math"
	"sync"
	"unsafe"

	"github.com/ckptkit/ckpt/kubelet/internal/canonjson"
)

// The fast path of Decode.
//
// Decode's slow path (encoding/json through check.DecodeJSON) spends most
// of its time and memory on reflection and on its two passes over the
// document (a syntax scan, then the decode), and it decodes the Data
// string twice (the outer document, then the inner one). A node agent
// restores the checkpoint on every start, so Decode first tries
// decodeFast: one pass over the canonical bytes encoding/json.Marshal
// writes, which is what kubelet and Encode produce.
//
// decodeFast may only decline, never disagree: it accepts a file only when
// it is sure the slow path gives the same value with a nil error, and
// returns ok=false for everything else (a syntax or type error, a key that
// is unknown or spelled in another case, a duplicate key, a null where a
// string or struct belongs, a checksum mismatch, anything non-canonical
// the reader refuses). Decode then runs the slow path unchanged, which
// produces the exact result and error. FuzzDecodeFast checks this.

// maxPooled is the largest Data buffer kept for reuse.
const maxPooled = 1 << 20

// dataBufs holds buffers for the unescaped Data string, which is only
// needed while decoding (every string of the result is copied out).
var dataBufs = sync.Pool{New: func() any { return new([]byte) }}

// decodeFast decodes and verifies data as the slow path of Decode would,
// or returns ok=false when it cannot be sure to give the same result.
func decodeFast(data []byte) (cd *CheckpointData, ok bool) {
	bp := dataBufs.Get().(*[]byte)
	buf, sum, ok := scanEnvelope(data, (*bp)[:0])
	if ok && crc32.ChecksumIEEE(buf) == sum {
		cd, ok = decodeDataFast(buf)
	} else {
		ok = false
	}
	if cap(buf) <= maxPooled {
		*bp = buf[:0]
		dataBufs.Put(bp)
	}
	if !ok {
		return nil, false
	}
	return cd, true
}

// scanEnvelope reads the outer document {"Data":"...","Checksum":N}: both
// keys spelled exactly so, once each, in any order, white space allowed
// where JSON allows it, nothing after. It appends the unescaped Data
// string to dst and returns it with the checksum.
func scanEnvelope(b, dst []byte) (_ []byte, sum uint32, ok bool) {
	var haveData, haveSum bool
	var stored uint64
	r := canonjson.NewReader(b)
	r.Object(func(key []byte) {
		switch string(key) {
		case "Data":
			if haveData {
				r.Fail()
				return
			}
			dst, haveData = r.AppendStringValue(dst), true
		case "Checksum":
			if haveSum {
				r.Fail()
				return
			}
			stored, haveSum = r.Uint64(), true
		default:
			r.Fail()
		}
	})
	// A checksum above 32 bits does not fit kubelet's uint32: encoding/json
	// fails, and so must the slow path.
	if !r.End() || !haveData || !haveSum || stored > math.MaxUint32 {
		return dst, 0, false
	}
	return dst, uint32(stored), true
}

// fastDecoder reads the Data JSON into a CheckpointData. The result must
// not reference the Data buffer (it is reused), so every string is copied
// into arena chunks, and slices of the result are cut from shared slabs
// (with their capacity capped, so an append never writes into a
// neighbour), which replaces hundreds of small allocations by a few.
type fastDecoder struct {
	r       *canonjson.Reader
	strs    arena
	devices slab[Device]
	lists   slab[string]
	shares  slab[string]
	// Scratch for the elements of the list being read.
	devScratch []Device
	strScratch []string
	// The last value of fields that repeat from claim to claim.
	lastNS, lastDriver, lastPool, lastReq string
}

// decodeDataFast decodes the Data JSON buf like decodeData, or returns
// ok=false when it cannot be sure to give the same result.
func decodeDataFast(buf []byte) (*CheckpointData, bool) {
	claims := bytes.Count(buf, []byte(`ClaimUID":`)) // a rare first byte keeps Count fast
	devices := bytes.Count(buf, []byte(`PoolName":`))
	d := fastDecoder{r: canonjson.NewReader(buf)}
	d.strs.chunk = max(256, len(buf)/8)
	d.devices.chunk = max(4, devices)
	d.lists.chunk = max(8, 2*devices)
	d.shares.chunk = 8
	cd := &CheckpointData{}
	var seen uint8
	d.r.Object(func(key []byte) {
		var bit uint8
		switch string(key) {
		case "kind":
			bit = 1
			cd.Kind = d.strConst(CheckpointKind)
		case "apiVersion":
			bit = 2
			cd.APIVersion = d.strConst(CheckpointAPIVersion)
		case "ClaimInfoStateList":
			bit = 4
			if d.r.IsNull() {
				break
			}
			list := make([]ClaimInfoState, 0, claims)
			d.r.Array(func() {
				var ci ClaimInfoState
				d.claim(&ci)
				list = append(list, ci)
			})
			cd.ClaimInfoStateList = list
		default:
			d.r.Fail()
		}
		if seen&bit != 0 {
			d.r.Fail()
		}
		seen |= bit
	})
	if !d.r.End() {
		return nil, false
	}
	return cd, true
}

func (d *fastDecoder) claim(ci *ClaimInfoState) {
	var seen uint8
	d.r.Object(func(key []byte) {
		var bit uint8
		switch string(key) {
		case "ClaimUID":
			bit = 1
			ci.ClaimUID = d.str(nil)
		case "ClaimName":
			bit = 2
			ci.ClaimName = d.str(nil)
		case "Namespace":
			bit = 4
			ci.Namespace = d.str(&d.lastNS)
		case "PodUIDs":
			bit = 8
			ci.PodUIDs = d.podUIDs()
		case "DriverState":
			bit = 16
			ci.DriverState = d.driverStates()
		default:
			d.r.Fail()
		}
		if seen&bit != 0 {
			d.r.Fail()
		}
		seen |= bit
	})
}

// podUIDs reads a sets.Set[string]: {"uid":{},...} or null.
func (d *fastDecoder) podUIDs() map[string]struct{} {
	if d.r.IsNull() {
		return nil
	}
	m := make(map[string]struct{})
	d.r.Object(func(key []byte) {
		n := len(m)
		m[d.strs.str(key)] = struct{}{}
		// The value must be {} (a null or members would still decode, but
		// are not what Marshal writes).
		d.r.Object(func([]byte) { d.r.Fail() })
		if len(m) == n {
			d.r.Fail() // duplicate
		}
	})
	return m
}

func (d *fastDecoder) driverStates() map[string]DriverState {
	if d.r.IsNull() {
		return nil
	}
	m := make(map[string]DriverState)
	d.r.Object(func(key []byte) {
		name := d.intern(key, &d.lastDriver)
		var ds DriverState
		var seen uint8
		d.r.Object(func(key []byte) {
			var bit uint8
			switch string(key) {
			case "Devices":
				bit = 1
				ds.Devices = d.deviceList()
			case "skipNodeOperations":
				bit = 2
				ds.SkipNodeOperations = d.strList(nil)
			default:
				d.r.Fail()
			}
			if seen&bit != 0 {
				d.r.Fail()
			}
			seen |= bit
		})
		n := len(m)
		m[name] = ds
		if len(m) == n {
			d.r.Fail() // duplicate
		}
	})
	return m
}

func (d *fastDecoder) deviceList() []Device {
	if d.r.IsNull() {
		return nil
	}
	start := len(d.devScratch)
	d.r.Array(func() {
		var dev Device
		d.device(&dev)
		d.devScratch = append(d.devScratch, dev)
	})
	out := d.devices.take(d.devScratch[start:])
	clear(d.devScratch[start:])
	d.devScratch = d.devScratch[:start]
	return out
}

func (d *fastDecoder) device(dev *Device) {
	var seen uint8
	d.r.Object(func(key []byte) {
		var bit uint8
		switch string(key) {
		case "PoolName":
			bit = 1
			dev.PoolName = d.str(&d.lastPool)
		case "DeviceName":
			bit = 2
			dev.DeviceName = d.str(nil)
		case "ShareID":
			bit = 4
			if !d.r.IsNull() {
				dev.ShareID = d.shares.one(d.str(nil))
			}
		case "RequestNames":
			bit = 8
			dev.RequestNames = d.strList(&d.lastReq)
		case "CDIDeviceIDs":
			bit = 16
			dev.CDIDeviceIDs = d.strList(nil)
		default:
			d.r.Fail()
		}
		if seen&bit != 0 {
			d.r.Fail()
		}
		seen |= bit
	})
}

// strList reads a []string: null gives nil and [] an empty non-nil slice,
// as encoding/json gives.
func (d *fastDecoder) strList(last *string) []string {
	if d.r.IsNull() {
		return nil
	}
	start := len(d.strScratch)
	d.r.Array(func() { d.strScratch = append(d.strScratch, d.str(last)) })
	out := d.lists.take(d.strScratch[start:])
	clear(d.strScratch[start:])
	d.strScratch = d.strScratch[:start]
	return out
}

// str reads a string value (a null fails the reader: for a string field
// encoding/json leaves the value as it was, which the fast path does not
// model). With last, a value equal to the previous one shares its memory.
func (d *fastDecoder) str(last *string) string {
	b := d.r.StringBytes()
	if !d.r.Ok() {
		return ""
	}
	if last == nil {
		return d.strs.str(b)
	}
	return d.intern(b, last)
}

// strConst reads a string value, returning c itself when they are equal.
func (d *fastDecoder) strConst(c string) string {
	b := d.r.StringBytes()
	if !d.r.Ok() || string(b) == c {
		return c
	}
	return d.strs.str(b)
}

func (d *fastDecoder) intern(b []byte, last *string) string {
	if string(b) == *last {
		return *last
	}
	*last = d.strs.str(b)
	return *last
}

// arena hands out strings copied into shared chunks. A chunk's bytes are
// written once, before the string over them is made, and never again (a
// full chunk is replaced, not grown), so the strings are immutable.
type arena struct {
	buf   []byte
	chunk int
}

func (a *arena) str(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if cap(a.buf)-len(a.buf) < len(b) {
		a.buf = make([]byte, 0, max(a.chunk, len(b)))
	}
	start := len(a.buf)
	a.buf = append(a.buf, b...)
	return unsafe.String(&a.buf[start], len(b))
}

// slab hands out slices cut from shared chunks, each with its capacity
// equal to its length.
type slab[T any] struct {
	buf   []T
	chunk int
}

// take returns a copy of src; a copy of an empty src is empty and non-nil.
func (s *slab[T]) take(src []T) []T {
	n := len(src)
	if n == 0 {
		return make([]T, 0)
	}
	if cap(s.buf)-len(s.buf) < n {
		s.buf = make([]T, 0, max(s.chunk, n))
	}
	start := len(s.buf)
	s.buf = append(s.buf, src...)
	return s.buf[start : start+n : start+n]
}

// one returns a pointer to a copy of v.
func (s *slab[T]) one(v T) *T {
	if len(s.buf) == cap(s.buf) {
		s.buf = make([]T, 0, s.chunk)
	}
	s.buf = append(s.buf, v)
	return &s.buf[len(s.buf)-1]
}
