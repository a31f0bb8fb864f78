package allocation

// The fast paths of Decode and Encode, for the current format only.
//
// Decode runs on every kubelet-compatible read of allocated_pods_state and
// actuated_pods_state, and encoding/json's reflection made it several
// times slower than kubelet's own reader. decodeFast reads the canonical
// JSON that kubelet (encoding/json.Marshal) writes with the reflection-free
// canonjson.Reader, verifies the checksum and checks every quantity as the
// slow path does. It may only decline, never disagree: whenever it is not
// certain to produce exactly what the slow path produces (any byte the
// reader refuses, a key it does not expect or in another letter case, a
// duplicate key, a null where kubelet never writes one, an escaped or
// unparsable quantity, a checksum mismatch), it reports "not handled" and
// Decode runs the slow path, which gives the result and the exact error.
// TestDecodeFastAgrees and FuzzDecodeFast hold it to that.
//
// encodeFast writes the bytes json.Marshal writes for the same value, by
// hand, and declines (Encode then uses json.Marshal) for a quantity whose
// text Marshal would validate or rewrite.

import (
	"bytes"
	"strings"
	"sync"
	"unsafe"

	"github.com/ckptkit/ckpt/checkpointmanager/checksum"
	"github.com/ckptkit/ckpt/kubelet/internal/canonjson"
	"github.com/ckptkit/ckpt/kubelet/internal/k8s/resource"
)

// decodeFast decodes and verifies a canonical 1.33+ file. It returns false
// when it cannot be sure to agree with the slow path; the caller then runs
// the slow path.
func decodeFast(data []byte) (*PodResourceCheckpointInfo, bool) {
	raw, stored, ok := envelope(data)
	if !ok {
		return nil, false
	}
	// The decoded strings share one backing string, text, over the
	// unescaped data string, which nothing else holds or writes.
	text := unsafe.String(unsafe.SliceData(raw), len(raw))
	if checksum.OfString(text) != checksum.Checksum(stored) {
		return nil, false
	}

	d := fastDecoder{r: canonjson.NewReader(raw), buf: raw, text: text}
	info := &PodResourceCheckpointInfo{}
	seen := false
	d.r.Object(func(key []byte) {
		if string(key) != "entries" || seen {
			d.r.Fail()
			return
		}
		seen = true
		info.Entries = d.entries()
	})
	if !d.r.End() {
		return nil, false
	}
	return info, true
}

// envelope reads the file {"data":"<string>","checksum":N} (each key once,
// spelled exactly so) and returns the unescaped data string, in memory of
// its own sized once (canonjson's StringOwned), and N.
func envelope(data []byte) (raw []byte, stored uint64, ok bool) {
	var haveData, haveSum bool
	var text string
	r := canonjson.NewReader(data)
	r.Object(func(key []byte) {
		switch string(key) {
		case "data":
			if haveData {
				r.Fail()
				return
			}
			text, haveData = r.StringOwned(), true
		case "checksum":
			if haveSum {
				r.Fail()
				return
			}
			stored, haveSum = r.Uint64(), true
		default:
			r.Fail()
		}
	})
	if !r.End() || !haveData || !haveSum {
		return nil, 0, false
	}
	// Read only from here on: the decoder's strings share it.
	return unsafe.Slice(unsafe.StringData(text), len(text)), stored, true
}

// fastDecoder reads the data string. Every string it returns is a
// substring of text, which holds the same bytes as buf.
type fastDecoder struct {
	r    *canonjson.Reader
	buf  []byte
	text string
}

// aliases reports whether b is a non-empty sub-slice of buf.
func aliases(buf, b []byte) bool {
	off := cap(buf) - cap(b)
	return len(b) > 0 && off >= 0 && off <= len(buf)-len(b) && &buf[off] == &b[0]
}

// sub returns the string for b, a slice the reader returned, if b is part
// of buf (the reader returns a new slice for a string with escapes).
func (d *fastDecoder) sub(b []byte) (string, bool) {
	if len(b) == 0 {
		return "", true
	}
	if !aliases(d.buf, b) {
		return "", false
	}
	off := cap(d.buf) - cap(b)
	return d.text[off : off+len(b)], true
}

// key returns an object key as a string (keys never have escapes: the
// reader refuses them).
func (d *fastDecoder) key(b []byte) string {
	s, ok := d.sub(b)
	if !ok {
		d.r.Fail()
	}
	return s
}

// str reads a string value, unescaped.
func (d *fastDecoder) str() string {
	b := d.r.StringBytes()
	if s, ok := d.sub(b); ok {
		return s
	}
	return string(b)
}

// quantity reads a quantity as Quantity.UnmarshalJSON does: the text
// between the quotes as written, which must parse. A quantity with an
// escape fails (UnmarshalJSON does not unescape), as does a bare number
// (the slow path reads those).
func (d *fastDecoder) quantity() Quantity {
	b := d.r.StringBytes()
	if !d.r.Ok() {
		return ""
	}
	s, ok := d.sub(b)
	if !ok {
		d.r.Fail()
		return ""
	}
	if !canonicalQuantity(s) {
		if _, err := resource.ParseQuantity(strings.TrimSpace(s)); err != nil {
			d.r.Fail()
			return ""
		}
	}
	return Quantity(s)
}

// canonicalQuantity reports whether s is in a form kubelet writes that
// resource.ParseQuantity surely accepts: "0", or 1 to 18 digits without a
// leading zero followed by no suffix or one of the SI and binary suffixes.
// Anything else goes to the parser.
func canonicalQuantity(s string) bool {
	i := 0
	for i < len(s) && '0' <= s[i] && s[i] <= '9' {
		i++
	}
	if i == 0 || i > 18 || s[0] == '0' && (i > 1 || len(s) > 1) {
		return false
	}
	switch s[i:] {
	case "", "n", "u", "m", "k", "M", "G", "T", "P", "E", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei":
		return true
	}
	return false
}

// entries reads the map of pod UID to PodResourceInfo.
func (d *fastDecoder) entries() map[string]PodResourceInfo {
	// A hint only; a wrong count costs a map growth, nothing else.
	m := make(map[string]PodResourceInfo, bytes.Count(d.buf, []byte(`"ContainerResources"`)))
	d.r.Object(func(key []byte) {
		uid := d.key(key)
		if _, dup := m[uid]; dup {
			d.r.Fail()
			return
		}
		m[uid] = d.pod()
	})
	return m
}

// pod reads one PodResourceInfo. Kubelet writes null for each nil field;
// encoding/json reads a null into a nil map or pointer, which is what a
// field never written holds too.
func (d *fastDecoder) pod() PodResourceInfo {
	var p PodResourceInfo
	var seen [3]bool
	d.r.Object(func(key []byte) {
		var f int
		switch string(key) {
		case "ContainerResources":
			f = 0
		case "PodLevelResources":
			f = 1
		case "EmptyDirVolumeLimits":
			f = 2
		default:
			d.r.Fail()
			return
		}
		if seen[f] {
			d.r.Fail()
			return
		}
		seen[f] = true
		if d.r.IsNull() {
			return
		}
		switch f {
		case 0:
			p.ContainerResources = d.containers()
		case 1:
			rr := d.requirements()
			p.PodLevelResources = &rr
		case 2:
			p.EmptyDirVolumeLimits = d.emptyDirs()
		}
	})
	return p
}

// containers reads a map of container name to ResourceRequirements.
func (d *fastDecoder) containers() map[string]ResourceRequirements {
	m := make(map[string]ResourceRequirements)
	d.r.Object(func(key []byte) {
		name := d.key(key)
		if _, dup := m[name]; dup {
			d.r.Fail()
			return
		}
		m[name] = d.requirements()
	})
	return m
}

// requirements reads a ResourceRequirements; a null member (kubelet omits
// empty ones) fails.
func (d *fastDecoder) requirements() ResourceRequirements {
	var rr ResourceRequirements
	var seen [3]bool
	d.r.Object(func(key []byte) {
		var f int
		switch string(key) {
		case "limits":
			f = 0
		case "requests":
			f = 1
		case "claims":
			f = 2
		default:
			d.r.Fail()
			return
		}
		if seen[f] {
			d.r.Fail()
			return
		}
		seen[f] = true
		switch f {
		case 0:
			rr.Limits = d.list()
		case 1:
			rr.Requests = d.list()
		case 2:
			rr.Claims = d.claims()
		}
	})
	return rr
}

// list reads a ResourceList (an object, never null: null fails).
func (d *fastDecoder) list() ResourceList {
	l := make(ResourceList)
	d.r.Object(func(key []byte) {
		name := d.key(key)
		if _, dup := l[name]; dup {
			d.r.Fail()
			return
		}
		l[name] = d.quantity()
	})
	return l
}

// emptyDirs reads EmptyDirVolumeLimits: a null value is a volume without
// a limit (a nil *Quantity, as encoding/json reads it).
func (d *fastDecoder) emptyDirs() map[string]*Quantity {
	m := make(map[string]*Quantity)
	d.r.Object(func(key []byte) {
		name := d.key(key)
		if _, dup := m[name]; dup {
			d.r.Fail()
			return
		}
		if d.r.IsNull() {
			m[name] = nil
			return
		}
		q := d.quantity()
		m[name] = &q
	})
	return m
}

// claims reads the claims array ([] reads as an empty, non-nil slice, as
// encoding/json reads it).
func (d *fastDecoder) claims() []ResourceClaim {
	cs := []ResourceClaim{}
	d.r.Array(func() {
		var c ResourceClaim
		var seen [2]bool
		d.r.Object(func(key []byte) {
			var f int
			switch string(key) {
			case "name":
				f = 0
			case "request":
				f = 1
			default:
				d.r.Fail()
				return
			}
			if seen[f] {
				d.r.Fail()
				return
			}
			seen[f] = true
			if f == 0 {
				c.Name = d.str()
			} else {
				c.Request = d.str()
			}
		})
		cs = append(cs, c)
	})
	return cs
}

// encodeFast writes what Encode's json.Marshal path writes. It returns
// false, having written nothing useful, for a quantity that Marshal would
// validate as JSON or rewrite (quotes, backslashes, control and non-ASCII
// bytes, and the HTML characters Marshal escapes).
func encodeFast(info *PodResourceCheckpointInfo) ([]byte, bool) {
	bp := innerPool.Get().(*[]byte)
	defer func() {
		if cap(*bp) <= maxPooled {
			innerPool.Put(bp)
		}
	}()
	e := fastEncoder{buf: (*bp)[:0]}
	defer func() { *bp = e.buf[:0] }()
	e.buf = append(e.buf, '{')
	if len(info.Entries) > 0 {
		e.buf = append(e.buf, `"entries":{`...)
		for i, uid := range canonjson.SortedKeys(info.Entries) {
			if i > 0 {
				e.buf = append(e.buf, ',')
			}
			e.buf = canonjson.AppendString(e.buf, uid)
			e.buf = append(e.buf, ':')
			e.pod(info.Entries[uid])
		}
		e.buf = append(e.buf, '}')
	}
	e.buf = append(e.buf, '}')
	if e.bad {
		return nil, false
	}
	inner := e.buf
	// inner is not written while it is hashed.
	sum := checksum.OfString(unsafe.String(unsafe.SliceData(inner), len(inner)))
	out := make([]byte, 0, len(inner)+len(inner)/4+48)
	out = append(out, `{"data":`...)
	out = canonjson.AppendString(out, inner)
	out = append(out, `,"checksum":`...)
	out = canonjson.AppendUint(out, uint64(sum))
	return append(out, '}'), true
}

// innerPool holds the buffers encodeFast writes the data string's JSON
// into before it is quoted into the output; buffers over maxPooled bytes
// are left to the garbage collector.
var innerPool = sync.Pool{New: func() any { return new([]byte) }}

const maxPooled = 4 << 20

// fastEncoder appends the data string's JSON to buf.
type fastEncoder struct {
	buf  []byte
	keys [8]string // scratch for the sorted keys of small maps
	bad  bool
}

// sorted returns the keys of m in Marshal's order, in e.keys when they
// fit. The result is valid until the next call.
func sorted[V any](e *fastEncoder, m map[string]V) []string {
	if len(m) > len(e.keys) {
		return canonjson.SortedKeys(m)
	}
	ks := e.keys[:0]
	for k := range m {
		ks = append(ks, k)
	}
	// Insertion sort: at most 8 keys.
	for i := 1; i < len(ks); i++ {
		for j := i; j > 0 && ks[j] < ks[j-1]; j-- {
			ks[j], ks[j-1] = ks[j-1], ks[j]
		}
	}
	return ks
}

func (e *fastEncoder) pod(p PodResourceInfo) {
	e.buf = append(e.buf, `{"ContainerResources":`...)
	if p.ContainerResources == nil {
		e.buf = append(e.buf, "null"...)
	} else {
		e.buf = append(e.buf, '{')
		// Names are copied out of e.keys: requirements sorts again.
		names := sorted(e, p.ContainerResources)
		var small [8]string
		if len(names) <= len(small) {
			names = small[:copy(small[:], names)]
		}
		for i, name := range names {
			if i > 0 {
				e.buf = append(e.buf, ',')
			}
			e.buf = canonjson.AppendString(e.buf, name)
			e.buf = append(e.buf, ':')
			e.requirements(p.ContainerResources[name])
		}
		e.buf = append(e.buf, '}')
	}
	e.buf = append(e.buf, `,"PodLevelResources":`...)
	if p.PodLevelResources == nil {
		e.buf = append(e.buf, "null"...)
	} else {
		e.requirements(*p.PodLevelResources)
	}
	e.buf = append(e.buf, `,"EmptyDirVolumeLimits":`...)
	if p.EmptyDirVolumeLimits == nil {
		e.buf = append(e.buf, "null"...)
	} else {
		e.buf = append(e.buf, '{')
		for i, name := range sorted(e, p.EmptyDirVolumeLimits) {
			if i > 0 {
				e.buf = append(e.buf, ',')
			}
			e.buf = canonjson.AppendString(e.buf, name)
			e.buf = append(e.buf, ':')
			if q := p.EmptyDirVolumeLimits[name]; q == nil {
				e.buf = append(e.buf, "null"...)
			} else {
				e.quantity(*q)
			}
		}
		e.buf = append(e.buf, '}')
	}
	e.buf = append(e.buf, '}')
}

// requirements writes a ResourceRequirements with its omitempty fields.
func (e *fastEncoder) requirements(rr ResourceRequirements) {
	e.buf = append(e.buf, '{')
	comma := false
	if len(rr.Limits) > 0 {
		e.buf = append(e.buf, `"limits":`...)
		e.list(rr.Limits)
		comma = true
	}
	if len(rr.Requests) > 0 {
		if comma {
			e.buf = append(e.buf, ',')
		}
		e.buf = append(e.buf, `"requests":`...)
		e.list(rr.Requests)
		comma = true
	}
	if len(rr.Claims) > 0 {
		if comma {
			e.buf = append(e.buf, ',')
		}
		e.buf = append(e.buf, `"claims":[`...)
		for i, c := range rr.Claims {
			if i > 0 {
				e.buf = append(e.buf, ',')
			}
			e.buf = append(e.buf, `{"name":`...)
			e.buf = canonjson.AppendString(e.buf, c.Name)
			if c.Request != "" {
				e.buf = append(e.buf, `,"request":`...)
				e.buf = canonjson.AppendString(e.buf, c.Request)
			}
			e.buf = append(e.buf, '}')
		}
		e.buf = append(e.buf, ']')
	}
	e.buf = append(e.buf, '}')
}

func (e *fastEncoder) list(l ResourceList) {
	e.buf = append(e.buf, '{')
	for i, name := range sorted(e, l) {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		e.buf = canonjson.AppendString(e.buf, name)
		e.buf = append(e.buf, ':')
		e.quantity(l[name])
	}
	e.buf = append(e.buf, '}')
}

// quantity writes q as MarshalJSON does, quoted as is; Marshal then
// compacts that output, which leaves it unchanged only for printable ASCII
// other than '"', '\\' and the HTML characters it escapes.
func (e *fastEncoder) quantity(q Quantity) {
	for i := 0; i < len(q); i++ {
		c := q[i]
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			e.bad = true
			return
		}
	}
	e.buf = append(e.buf, '"')
	e.buf = append(e.buf, q...)
	e.buf = append(e.buf, '"')
}
