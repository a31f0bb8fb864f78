package checksum

import (
	"cmp"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unsafe"
)

// This file is New's fast path: it hashes the text the printer (printer.go)
// would write, without writing it and without reflect.Value. For each Go type
// it compiles, once, a plan: the constant parts of the text with their hash
// tables (fnv.go), field offsets, and a function per kind that reads the
// value through unsafe.Pointer. Plans are cached per reflect.Type.
//
// The fast path covers the kinds kubelet's checkpoint types use: booleans,
// numbers, strings, slices, arrays, structs, maps whose keys are strings or
// integers, and pointers to any of these. A type that contains anything else
// (interfaces, pointers to pointers or interfaces, channels, functions, maps
// with other keys or with values of unusual layout) has no plan, and New
// uses the printer for the whole value. Both are compared with go-spew by the
// differential tests; printer.go documents the rules they follow.

// hasher is the state of one fast hash: the running FNV-1a sum and the
// printer state go-spew keeps.
type hasher struct {
	h          uint32
	suppressed bool // go-spew's ignoreNextType; see printer
	depth      int
	// path holds the pointers followed on the current path with the depth
	// at which each was followed, in non-decreasing depth: go-spew's
	// pointer map, which only ever holds such a path.
	path []pathPtr
	// word holds a pointer-shaped top-level value, so that the value can be
	// addressed like any other.
	word unsafe.Pointer
	// writing makes the hasher append the text to out instead of hashing.
	writing bool
	out     []byte
	// scratch[i] holds the buffers of map entries for maps nested i deep.
	scratch [][]any
	level   int
}

type pathPtr struct {
	addr  unsafe.Pointer
	depth int
}

var hashers = sync.Pool{New: func() any { return new(hasher) }}

// fastNew returns New(data) for a non-nil data whose type has a plan, and
// false otherwise. With a non-nil top, the text top replaces the type
// before the top-level value ("(T)" or "(*T)").
func fastNew(data any, top *string) (Checksum, bool) {
	h, ok := run(data, top, false)
	if !ok {
		return 0, false
	}
	sum := h.h
	hashers.Put(h)
	return Checksum(sum), true
}

// fastText returns Text(data) for a non-nil data whose type has a plan.
func fastText(data any) (string, bool) {
	h, ok := run(data, nil, true)
	if !ok {
		return "", false
	}
	out := h.out
	h.out, h.writing = nil, false
	hashers.Put(h)
	// out is handed over: nothing else refers to it.
	return unsafe.String(unsafe.SliceData(out), len(out)), true
}

// run hashes data (or writes its text) with a hasher from the pool, which
// the caller puts back.
func run(data any, top *string, writing bool) (*hasher, bool) {
	t := reflect.TypeOf(data)
	pl := planFor(t)
	if pl == nil {
		return nil, false
	}
	h := hashers.Get().(*hasher)
	h.h, h.suppressed, h.depth, h.writing = fnvOffset32, false, 0, writing
	// An interface holds a pointer-shaped value in its data word, and any
	// other value behind the pointer in its data word.
	word := (*[2]unsafe.Pointer)(unsafe.Pointer(&data))[1]
	p := word
	if pl.direct {
		h.word = word
		p = unsafe.Pointer(&h.word)
	}
	switch {
	case top == nil:
		h.value(pl, p)
	case pl.kind == reflect.Pointer:
		// As pointer, for the top level: nothing is on the path yet.
		h.str(*top)
		if ptr := *(*unsafe.Pointer)(p); ptr == nil {
			h.str("<nil>")
		} else {
			h.path = append(h.path, pathPtr{ptr, 0})
			pl.elem.body(h, ptr)
		}
	default:
		h.str(*top)
		pl.body(h, p)
	}
	h.word = nil
	clear(h.path)
	h.path = h.path[:0]
	return h, true
}

// topText returns the text New writes before the top-level value of type
// t, when t has a plan.
func topText(t reflect.Type) string {
	return "(" + t.String() + ")"
}

// plan is how to hash values of one type.
type plan struct {
	kind reflect.Kind
	// typed is "(" + type + ")", the text before a value whose type is not
	// suppressed (for a pointer, "(*elem)").
	typed seg
	// body hashes the value at p after its type (not for pointers).
	body func(h *hasher, p unsafe.Pointer)
	// elem is the pointed-to plan of a pointer.
	elem *plan
	// stars is the number of '*' in a pointer's type name, which go-spew
	// prints for a cycle met while types are suppressed.
	stars int
	// direct reports whether an interface holds the value itself rather
	// than a pointer to it.
	direct bool
	size   uintptr
}

// value hashes the value at p as printer.value does.
func (h *hasher) value(pl *plan, p unsafe.Pointer) {
	if pl.kind == reflect.Pointer {
		h.pointer(pl, p)
		return
	}
	if !h.suppressed {
		h.seg(&pl.typed)
	}
	h.suppressed = false
	pl.body(h, p)
}

// element hashes a value whose type is suppressed: an element of a slice,
// array or map.
func (h *hasher) element(pl *plan, p unsafe.Pointer) {
	if pl.kind == reflect.Pointer {
		h.suppressed = true
		h.pointer(pl, p)
		return
	}
	h.suppressed = false
	pl.body(h, p)
}

// pointer hashes the pointer at p as printer.pointer does for one level of
// pointer to a non-pointer, non-interface type.
func (h *hasher) pointer(pl *plan, p unsafe.Pointer) {
	ptr := *(*unsafe.Pointer)(p)
	if ptr == nil && h.suppressed {
		h.str("<nil>")
		return
	}
	n := len(h.path)
	for n > 0 && h.path[n-1].depth >= h.depth {
		n--
	}
	h.path = h.path[:n]
	if ptr == nil {
		h.seg(&pl.typed)
		h.str("<nil>")
		return
	}
	for _, e := range h.path {
		if e.addr == ptr {
			if h.suppressed {
				h.byte('<')
				for range pl.stars {
					h.byte('*')
				}
				h.byte('>')
			} else {
				h.seg(&pl.typed)
			}
			h.str("<shown>")
			return
		}
	}
	h.path = append(h.path, pathPtr{ptr, h.depth})
	if h.suppressed {
		h.str("<*>")
	} else {
		h.seg(&pl.typed)
	}
	// The pointed-to value's type is suppressed: it was just written.
	h.suppressed = false
	pl.elem.body(h, ptr)
}

// The hasher's output methods hash their text, or append it to out when
// the hasher is writing the text (Text). The check costs one predictable
// branch per call; the loops over long text are inside the calls.

func (h *hasher) str(s string) {
	if h.writing {
		h.out = append(h.out, s...)
		return
	}
	h.h = fnvString(h.h, s)
}

func (h *hasher) bytes(b []byte) {
	if h.writing {
		h.out = append(h.out, b...)
		return
	}
	h.h = fnvBytes(h.h, b)
}

func (h *hasher) byte(c byte) {
	if h.writing {
		h.out = append(h.out, c)
		return
	}
	h.h = (h.h ^ uint32(c)) * fnvPrime32
}

func (h *hasher) seg(s *seg) {
	if h.writing {
		h.out = append(h.out, s.s...)
		return
	}
	h.h = s.apply(h.h)
}

func (h *hasher) int(v int64) {
	if h.writing {
		h.out = strconv.AppendInt(h.out, v, 10)
		return
	}
	h.h = fnvInt(h.h, v)
}

func (h *hasher) uint(v uint64) {
	if h.writing {
		h.out = strconv.AppendUint(h.out, v, 10)
		return
	}
	h.h = fnvUint(h.h, v)
}

// decimalBytes writes b as decimal numbers separated by spaces.
func (h *hasher) decimalBytes(b []byte) {
	if h.writing {
		for i, c := range b {
			if i > 0 {
				h.out = append(h.out, ' ')
			}
			h.out = strconv.AppendUint(h.out, uint64(c), 10)
		}
		return
	}
	h.h = fnvDecimalBytes(h.h, b)
}

var plans sync.Map // reflect.Type -> *plan; a nil *plan means "no plan"

// planFor returns the plan for t, or nil when t needs the printer.
func planFor(t reflect.Type) *plan {
	if v, ok := plans.Load(t); ok {
		return v.(*plan)
	}
	b := planBuilder{building: map[reflect.Type]*plan{}}
	pl := b.build(t)
	if b.failed {
		plans.Store(t, (*plan)(nil))
		return nil
	}
	for bt, bp := range b.building {
		plans.LoadOrStore(bt, bp)
	}
	v, _ := plans.LoadOrStore(t, pl)
	return v.(*plan)
}

// planBuilder builds the plans of a type and of every type it contains.
type planBuilder struct {
	building map[reflect.Type]*plan // plans of this build, for recursive types
	failed   bool
}

func (b *planBuilder) fail() *plan {
	b.failed = true
	return nil
}

func (b *planBuilder) build(t reflect.Type) *plan {
	if b.failed {
		return nil
	}
	if pl, ok := b.building[t]; ok {
		return pl
	}
	if v, ok := plans.Load(t); ok {
		if v.(*plan) == nil {
			return b.fail()
		}
		return v.(*plan)
	}
	pl := &plan{kind: t.Kind(), direct: directIface(t), size: t.Size()}
	b.building[t] = pl
	pl.typed = newSeg("(" + t.String() + ")")
	switch k := t.Kind(); k {
	case reflect.Bool:
		pl.body = func(h *hasher, p unsafe.Pointer) {
			if *(*bool)(p) {
				h.str("true")
			} else {
				h.str("false")
			}
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		pl.body = intBody(t.Size())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		pl.body = uintBody(t.Size())
	case reflect.Uintptr:
		pl.body = func(h *hasher, p unsafe.Pointer) {
			u := *(*uintptr)(p)
			if u == 0 {
				h.str("<nil>")
				return
			}
			h.str("0x")
			var buf [16]byte
			h.bytes(strconv.AppendUint(buf[:0], uint64(u), 16))
		}
	case reflect.Float32:
		pl.body = func(h *hasher, p unsafe.Pointer) {
			var buf [32]byte
			h.bytes(strconv.AppendFloat(buf[:0], float64(*(*float32)(p)), 'g', -1, 32))
		}
	case reflect.Float64:
		pl.body = func(h *hasher, p unsafe.Pointer) {
			var buf [32]byte
			h.bytes(strconv.AppendFloat(buf[:0], *(*float64)(p), 'g', -1, 64))
		}
	case reflect.String:
		pl.body = func(h *hasher, p unsafe.Pointer) { h.str(*(*string)(p)) }
	case reflect.Pointer:
		e := t.Elem()
		if e.Kind() == reflect.Pointer || e.Kind() == reflect.Interface {
			return b.fail()
		}
		pl.elem = b.build(e)
		pl.stars = strings.Count(t.String(), "*")
	case reflect.Slice:
		b.list(pl, t)
	case reflect.Array:
		b.list(pl, t)
	case reflect.Struct:
		b.structure(pl, t)
	case reflect.Map:
		b.mapping(pl, t)
	default:
		// Interfaces (types inside need the printer's unwrapping), complex
		// numbers, channels, functions and unsafe pointers: rare enough in
		// checkpoints to leave to the printer.
		return b.fail()
	}
	if b.failed {
		return nil
	}
	return pl
}

// directIface reports whether an interface stores a value of type t in its
// data word (the Go compiler's rule: pointer-shaped types, and arrays of
// one and structs of one field of such a type).
func directIface(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Chan, reflect.Func, reflect.UnsafePointer:
		return true
	case reflect.Array:
		return t.Len() == 1 && directIface(t.Elem())
	case reflect.Struct:
		return t.NumField() == 1 && directIface(t.Field(0).Type)
	}
	return false
}

func intBody(size uintptr) func(h *hasher, p unsafe.Pointer) {
	switch size {
	case 1:
		return func(h *hasher, p unsafe.Pointer) { h.int(int64(*(*int8)(p))) }
	case 2:
		return func(h *hasher, p unsafe.Pointer) { h.int(int64(*(*int16)(p))) }
	case 4:
		return func(h *hasher, p unsafe.Pointer) { h.int(int64(*(*int32)(p))) }
	}
	return func(h *hasher, p unsafe.Pointer) { h.int(*(*int64)(p)) }
}

func uintBody(size uintptr) func(h *hasher, p unsafe.Pointer) {
	switch size {
	case 1:
		return func(h *hasher, p unsafe.Pointer) { h.uint(uint64(*(*uint8)(p))) }
	case 2:
		return func(h *hasher, p unsafe.Pointer) { h.uint(uint64(*(*uint16)(p))) }
	case 4:
		return func(h *hasher, p unsafe.Pointer) { h.uint(uint64(*(*uint32)(p))) }
	}
	return func(h *hasher, p unsafe.Pointer) { h.uint(*(*uint64)(p)) }
}

// sliceHeader is the layout of a slice.
type sliceHeader struct {
	data     unsafe.Pointer
	len, cap int
}

// list builds the body of a slice or array: "[e1 e2 ...]", or "<nil>" for
// a nil slice. Byte and string elements, the bulk of kubelet's checksum
// texts, get loops of their own.
func (b *planBuilder) list(pl *plan, t reflect.Type) {
	et := t.Elem()
	ep := b.build(et)
	if b.failed {
		return
	}
	isSlice := t.Kind() == reflect.Slice
	arrayLen := 0
	if !isSlice {
		arrayLen = t.Len()
	}
	elems := func(p unsafe.Pointer) (unsafe.Pointer, int, bool) {
		if isSlice {
			s := (*sliceHeader)(p)
			return s.data, s.len, s.data != nil
		}
		return p, arrayLen, true
	}
	switch {
	case et.Kind() == reflect.Uint8:
		// Byte and string elements skip element() and the depth count:
		// they are never pointers, so neither changes the text.
		pl.body = func(h *hasher, p unsafe.Pointer) {
			data, n, ok := elems(p)
			if !ok {
				h.str("<nil>")
				return
			}
			h.byte('[')
			h.decimalBytes(unsafe.Slice((*byte)(data), n))
			h.byte(']')
		}
	case et.Kind() == reflect.String:
		pl.body = func(h *hasher, p unsafe.Pointer) {
			data, n, ok := elems(p)
			if !ok {
				h.str("<nil>")
				return
			}
			h.byte('[')
			for i, s := range unsafe.Slice((*string)(data), n) {
				if i > 0 {
					h.byte(' ')
				}
				h.str(s)
			}
			h.byte(']')
		}
	default:
		size := et.Size()
		pl.body = func(h *hasher, p unsafe.Pointer) {
			data, n, ok := elems(p)
			if !ok {
				h.str("<nil>")
				return
			}
			h.byte('[')
			h.depth++
			for i := range n {
				if i > 0 {
					h.byte(' ')
				}
				h.element(ep, unsafe.Add(data, uintptr(i)*size))
			}
			h.depth--
			h.byte(']')
		}
	}
}

// field is one struct field in a plan.
type field struct {
	off  uintptr
	pl   *plan
	bare seg // separator + name + ":"
	// typed is bare + "(" + type + ")" for a non-pointer field.
	typed seg
}

// structure builds the body of a struct: "{A:(T)v B:(U)w}".
func (b *planBuilder) structure(pl *plan, t reflect.Type) {
	n := t.NumField()
	fields := make([]field, n)
	for i := range n {
		sf := t.Field(i)
		fp := b.build(sf.Type)
		if b.failed {
			return
		}
		sep := " "
		if i == 0 {
			sep = "{"
		}
		fields[i] = field{off: sf.Offset, pl: fp, bare: newSeg(sep + sf.Name + ":")}
		if sf.Type.Kind() != reflect.Pointer {
			fields[i].typed = newSeg(sep + sf.Name + ":(" + sf.Type.String() + ")")
		}
	}
	if n == 0 {
		pl.body = func(h *hasher, _ unsafe.Pointer) { h.str("{}") }
		return
	}
	pl.body = func(h *hasher, p unsafe.Pointer) {
		h.depth++
		for i := range fields {
			f := &fields[i]
			fp := unsafe.Add(p, f.off)
			switch {
			case f.pl.kind == reflect.Pointer:
				h.seg(&f.bare)
				h.pointer(f.pl, fp)
				continue
			case h.suppressed:
				// A nil pointer earlier left types suppressed (printer
				// rule 4): this field's type is not written.
				h.seg(&f.bare)
				h.suppressed = false
			default:
				h.seg(&f.typed)
			}
			f.pl.body(h, fp)
		}
		h.depth--
		h.byte('}')
	}
}

// mapping builds the body of a map: "map[k1:v1 k2:v2]" with keys in order,
// or "<nil>". Maps are read by converting them to a map type of the same
// memory layout (same key type, a value type of the same size, alignment and
// pointer layout), which the runtime iterates identically; maps of other
// shapes have no plan.
func (b *planBuilder) mapping(pl *plan, t reflect.Type) {
	vp := b.build(t.Elem())
	if b.failed {
		return
	}
	var body func(h *hasher, p unsafe.Pointer)
	kt := t.Key()
	switch kind, size := kt.Kind(), kt.Size(); {
	case kind == reflect.String:
		body = mapBody[string](t.Elem(), vp)
	case isSigned(kind) && size == 8:
		body = mapBody[int64](t.Elem(), vp)
	case isSigned(kind) && size == 4:
		body = mapBody[int32](t.Elem(), vp)
	case isUnsigned(kind) && size == 8:
		body = mapBody[uint64](t.Elem(), vp)
	case isUnsigned(kind) && size == 4:
		body = mapBody[uint32](t.Elem(), vp)
	}
	if body == nil {
		b.fail()
		return
	}
	pl.body = func(h *hasher, p unsafe.Pointer) {
		if *(*unsafe.Pointer)(p) == nil {
			h.str("<nil>")
			return
		}
		h.str("map[")
		h.depth++
		body(h, p)
		h.depth--
		h.byte(']')
	}
}

// empty is the value shape of zero-size values (struct{}).
type empty struct{}

// word is the value shape of single-pointer values (maps, pointers).
type word = unsafe.Pointer

// mapBody returns the entries printer of a map with keys of shape K, or nil
// when its values have no shape here.
func mapBody[K cmp.Ordered](vt reflect.Type, vp *plan) func(*hasher, unsafe.Pointer) {
	// The shape must match size and alignment: they place the value in the
	// map's slots.
	switch {
	case vt.Size() == 0 && vt.Align() == 1:
		return entries[K, empty](vp)
	case vt.Kind() == reflect.String:
		return stringEntries[K]()
	case vt.Kind() == reflect.Slice:
		return entries[K, []byte](vp)
	case vt.Size() == unsafe.Sizeof(word(nil)) && directIface(vt):
		return entries[K, word](vp)
	case vt.Size() == 8 && vt.Align() == 8 && isScalar(vt):
		return entries[K, uint64](vp)
	}
	return nil
}

func isSigned(k reflect.Kind) bool {
	return k == reflect.Int || k == reflect.Int8 || k == reflect.Int16 || k == reflect.Int32 || k == reflect.Int64
}

func isUnsigned(k reflect.Kind) bool {
	return k == reflect.Uint || k == reflect.Uint8 || k == reflect.Uint16 || k == reflect.Uint32 || k == reflect.Uint64
}

// isScalar reports whether t holds no pointers.
func isScalar(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		return true
	case reflect.Array:
		return t.Len() == 0 || isScalar(t.Elem())
	case reflect.Struct:
		for i := range t.NumField() {
			if !isScalar(t.Field(i).Type) {
				return false
			}
		}
		return true
	}
	return false
}

type entry[K cmp.Ordered, V any] struct {
	k K
	v V
}

// sortedEntries copies m's entries into the hasher's scratch buffer for the
// current nesting level and puts them in the order to print them in: by
// key, as go-spew orders keys of these kinds (natively: numbers
// numerically, strings bytewise). Small maps are sorted in place; larger
// ones get an order of indexes (sorting indexes moves less).
func sortedEntries[K cmp.Ordered, V any](h *hasher, m map[K]V) (*entryScratch[K, V], []uint64) {
	for len(h.scratch) <= h.level {
		h.scratch = append(h.scratch, nil)
	}
	// A level holds one buffer per map shape met at that depth (a struct
	// may hold maps of several shapes side by side).
	var s *entryScratch[K, V]
	for _, b := range h.scratch[h.level] {
		if s, _ = b.(*entryScratch[K, V]); s != nil {
			break
		}
	}
	if s == nil {
		s = new(entryScratch[K, V])
		h.scratch[h.level] = append(h.scratch[h.level], s)
	}
	es := s.entries[:0]
	for k, v := range m {
		es = append(es, entry[K, V]{k, v})
	}
	s.entries = es
	if len(es) <= smallMap {
		for i := 1; i < len(es); i++ {
			for j := i; j > 0 && es[j].k < es[j-1].k; j-- {
				es[j], es[j-1] = es[j-1], es[j]
			}
		}
		return s, nil
	}
	s.order = orderOf(s, s.order[:0])
	return s, s.order
}

// smallMap is the size up to which a map's entries are insertion-sorted.
const smallMap = 12

// entryScratch is a reusable buffer for one map nesting level.
type entryScratch[K cmp.Ordered, V any] struct {
	entries []entry[K, V]
	order   []uint64
	tmp     []uint64 // for sortWords
}

// release clears the entries so that the pooled hasher keeps no
// references to the hashed value.
func (s *entryScratch[K, V]) release() {
	clear(s.entries)
	s.entries = s.entries[:0]
}

// at returns the i-th entry in print order.
func (s *entryScratch[K, V]) at(order []uint64, i int) *entry[K, V] {
	if order == nil {
		return &s.entries[i]
	}
	return &s.entries[order[i]]
}

// orderBits is the number of low bits of an order word holding the entry
// index; the high bits hold a prefix of the key, so that sorting the words
// sorts the entries by that prefix with the standard library's fastest sort
// (on plain integers, no comparison function).
const orderBits = 16

// orderOf returns the indexes of s's entries in key order.
func orderOf[K cmp.Ordered, V any](s *entryScratch[K, V], order []uint64) []uint64 {
	es := s.entries
	for i := range es {
		order = append(order, uint64(i))
	}
	if strs, ok := any(s).(*entryScratch[string, V]); ok && len(es) < 1<<orderBits {
		if cap(s.tmp) < len(order) {
			s.tmp = make([]uint64, len(order))
		}
		sortByPrefix(strs.entries, order, s.tmp[:len(order)])
		return order
	}
	slices.SortFunc(order, func(a, b uint64) int { return cmp.Compare(es[a].k, es[b].k) })
	return order
}

// sortByPrefix sorts order (indexes of es) by the string keys of es: by
// their first 6 bytes packed above the index, then, within runs of equal
// prefixes, by the whole key.
func sortByPrefix[V any](es []entry[string, V], order, tmp []uint64) {
	const prefixBytes = (64 - orderBits) / 8
	for i := range order {
		var p uint64
		k := es[i].k
		for j := range prefixBytes {
			p <<= 8
			if j < len(k) {
				p |= uint64(k[j])
			}
		}
		order[i] = p<<orderBits | uint64(i)
	}
	sortWords(order, tmp)
	const idx = 1<<orderBits - 1
	for i := 0; i < len(order); {
		j := i + 1
		for j < len(order) && order[j]>>orderBits == order[i]>>orderBits {
			j++
		}
		if j-i > 1 {
			run := order[i:j]
			slices.SortFunc(run, func(a, b uint64) int { return strings.Compare(es[a&idx].k, es[b&idx].k) })
		}
		i = j
	}
	for i := range order {
		order[i] &= idx
	}
}

// sortWords sorts ws, using tmp (as long as ws) as scratch. Above a few
// dozen words it distributes them by their top byte first (one counting
// pass), then insertion-sorts each bucket: for the keys of kubelet's maps
// (UUIDs, names), whose first bytes spread them over many buckets, that is
// about twice as fast as a comparison sort.
func sortWords(ws, tmp []uint64) {
	if len(ws) < 48 {
		slices.Sort(ws)
		return
	}
	var count [257]int
	for _, w := range ws {
		count[w>>56+1]++
	}
	for i := 1; i < len(count); i++ {
		count[i] += count[i-1]
	}
	starts := count
	for _, w := range ws {
		b := w >> 56
		tmp[count[b]] = w
		count[b]++
	}
	for b := range 256 {
		bucket := tmp[starts[b]:starts[b+1]]
		if len(bucket) > 32 {
			slices.Sort(bucket)
			continue
		}
		for i := 1; i < len(bucket); i++ {
			for j := i; j > 0 && bucket[j] < bucket[j-1]; j-- {
				bucket[j], bucket[j-1] = bucket[j-1], bucket[j]
			}
		}
	}
	copy(ws, tmp)
}

// hashKey hashes a map key of one of the key shapes.
func hashKey[K cmp.Ordered](h *hasher, k *K) {
	switch k := any(k).(type) {
	case *string:
		h.str(*k)
	case *int64:
		h.int(*k)
	case *int32:
		h.int(int64(*k))
	case *uint64:
		h.uint(*k)
	case *uint32:
		h.uint(uint64(*k))
	}
}

func entries[K cmp.Ordered, V any](vp *plan) func(*hasher, unsafe.Pointer) {
	return func(h *hasher, p unsafe.Pointer) {
		s, order := sortedEntries(h, *(*map[K]V)(p))
		h.level++
		for i := range s.entries {
			e := s.at(order, i)
			if i > 0 {
				h.byte(' ')
			}
			hashKey(h, &e.k)
			h.byte(':')
			h.element(vp, unsafe.Pointer(&e.v))
		}
		h.level--
		s.release()
	}
}

func stringEntries[K cmp.Ordered]() func(*hasher, unsafe.Pointer) {
	return func(h *hasher, p unsafe.Pointer) {
		s, order := sortedEntries(h, *(*map[K]string)(p))
		for i := range s.entries {
			e := s.at(order, i)
			if i > 0 {
				h.byte(' ')
			}
			hashKey(h, &e.k)
			h.byte(':')
			h.str(e.v)
		}
		h.suppressed = false
		s.release()
	}
}
