package checksum

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// sink receives the text the printer produces. Two implementations exist: one
// that hashes as it goes (New: no text is ever materialised) and one that
// collects the text (Text).
type sink interface {
	writeString(s string)
	writeByte(b byte)
}

// printer writes the text that go-spew v1.1.1 produces for the verb "%#v".
//
// It is written from the observed behaviour of go-spew's Formatter and must
// match it byte for byte, including its quirks; the differential tests in
// this package compare both over many shapes. The rules, in order:
//
//  1. A value is written as "(" + reflect.Type.String() + ")" + body, except
//     where the type is suppressed: elements of slices and arrays, map keys
//     and map values, and the value a pointer points to.
//  2. A pointer is written as "(" + one "*" per followed pointer + the type
//     of the final element + ")" and then that element; a nil pointer writes
//     "<nil>". Where types are suppressed the pointer is written "<*>"
//     (one "*" per level) instead. A pointer already on the current path is a
//     cycle and writes "<shown>".
//  3. Interfaces are unwrapped, and unwrapping re-enables the type of the
//     value inside, even where types were suppressed.
//  4. A nil pointer or cycle met while types are suppressed leaves them
//     suppressed for the next value written: go-spew forgets to reset its
//     flag there, so the following struct field loses its "(T)" prefix.
//     This is reproduced because kubelet's checksums include it.
//  5. Maps are written "map[k:v k:v]" with keys sorted (when sortKeys):
//     booleans, numbers and strings natively, arrays element-wise, and
//     every other key kind by its default-config "%#v" text (SpewKeys).
//  6. Strings are written raw, without quotes or escaping; []byte and
//     arrays are written as decimal elements; floats with 'g' and the
//     shortest precision.
//
// In the default configuration (methods enabled, unsorted maps: what
// go-spew's package-level Sprintf uses to make SpewKeys sort strings), a
// value whose type or pointer type implements error or fmt.Stringer is
// written as its Error() or String() text after its type.
type printer struct {
	out      sink
	methods  bool // call Error/String methods (default config only)
	sortKeys bool
	depth    int
	// seen maps a pointer address to the depth at which it was followed,
	// for cycle detection, exactly as go-spew tracks it.
	seen       map[uintptr]int
	suppressed bool // go-spew's "ignoreNextType"
}

func (p *printer) top(v any) {
	if v == nil {
		p.out.writeString("(interface {})<nil>")
		return
	}
	p.value(reflect.ValueOf(v))
}

// unwrap follows an interface to its dynamic value and re-enables types.
func (p *printer) unwrap(v reflect.Value) reflect.Value {
	if v.Kind() == reflect.Interface {
		p.suppressed = false
		if !v.IsNil() {
			v = v.Elem()
		}
	}
	return v
}

func (p *printer) pointer(v reflect.Value) {
	if v.IsNil() && p.suppressed {
		p.out.writeString("<nil>")
		return
	}
	for addr, d := range p.seen {
		if d >= p.depth {
			delete(p.seen, addr)
		}
	}
	levels := 0
	isNil, cycle := false, false
	e := v
	for e.Kind() == reflect.Pointer {
		if e.IsNil() {
			isNil = true
			break
		}
		levels++
		addr := e.Pointer()
		if d, ok := p.seen[addr]; ok && d < p.depth {
			cycle = true
			levels--
			break
		}
		if p.seen == nil {
			p.seen = make(map[uintptr]int)
		}
		p.seen[addr] = p.depth
		e = e.Elem()
		if e.Kind() == reflect.Interface {
			if e.IsNil() {
				isNil = true
				break
			}
			e = e.Elem()
		}
	}
	if !p.suppressed {
		p.out.writeByte('(')
		p.stars(levels)
		p.out.writeString(e.Type().String())
		p.out.writeByte(')')
	} else {
		if isNil || cycle {
			levels += strings.Count(e.Type().String(), "*")
		}
		p.out.writeByte('<')
		p.stars(levels)
		p.out.writeByte('>')
	}
	switch {
	case isNil:
		p.out.writeString("<nil>")
	case cycle:
		p.out.writeString("<shown>")
	default:
		p.suppressed = true
		p.value(e)
	}
}

func (p *printer) stars(n int) {
	for range n {
		p.out.writeByte('*')
	}
}

func (p *printer) value(v reflect.Value) {
	k := v.Kind()
	if k == reflect.Invalid {
		p.out.writeString("<invalid>")
		return
	}
	if k == reflect.Pointer {
		p.pointer(v)
		return
	}
	if !p.suppressed {
		p.out.writeByte('(')
		p.out.writeString(v.Type().String())
		p.out.writeByte(')')
	}
	p.suppressed = false
	if p.methods && k != reflect.Interface && p.method(v) {
		return
	}
	switch k {
	case reflect.Bool:
		if v.Bool() {
			p.out.writeString("true")
		} else {
			p.out.writeString("false")
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		var buf [24]byte
		p.out.writeString(string(strconv.AppendInt(buf[:0], v.Int(), 10)))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		var buf [24]byte
		p.out.writeString(string(strconv.AppendUint(buf[:0], v.Uint(), 10)))
	case reflect.Float32:
		p.out.writeString(strconv.FormatFloat(v.Float(), 'g', -1, 32))
	case reflect.Float64:
		p.out.writeString(strconv.FormatFloat(v.Float(), 'g', -1, 64))
	case reflect.Complex64:
		p.complex(v.Complex(), 32)
	case reflect.Complex128:
		p.complex(v.Complex(), 64)
	case reflect.String:
		p.out.writeString(v.String())
	case reflect.Slice:
		if v.IsNil() {
			p.out.writeString("<nil>")
			return
		}
		p.list(v)
	case reflect.Array:
		p.list(v)
	case reflect.Interface:
		// Only a nil interface reaches here: unwrap resolved the others.
		if v.IsNil() {
			p.out.writeString("<nil>")
		}
	case reflect.Map:
		if v.IsNil() {
			p.out.writeString("<nil>")
			return
		}
		p.mapping(v)
	case reflect.Struct:
		p.out.writeByte('{')
		p.depth++
		t := v.Type()
		for i := range v.NumField() {
			if i > 0 {
				p.out.writeByte(' ')
			}
			p.out.writeString(t.Field(i).Name)
			p.out.writeByte(':')
			p.value(p.unwrap(v.Field(i)))
		}
		p.depth--
		p.out.writeByte('}')
	case reflect.Uintptr:
		p.hexPtr(uintptr(v.Uint()))
	case reflect.UnsafePointer, reflect.Chan, reflect.Func:
		p.hexPtr(v.Pointer())
	}
}

func (p *printer) list(v reflect.Value) {
	p.out.writeByte('[')
	p.depth++
	for i := range v.Len() {
		if i > 0 {
			p.out.writeByte(' ')
		}
		p.suppressed = true
		p.value(p.unwrap(v.Index(i)))
	}
	p.depth--
	p.out.writeByte(']')
}

func (p *printer) mapping(v reflect.Value) {
	p.out.writeString("map[")
	p.depth++
	keys := v.MapKeys()
	if p.sortKeys {
		sortKeys(keys)
	}
	for i, key := range keys {
		if i > 0 {
			p.out.writeByte(' ')
		}
		p.suppressed = true
		p.value(p.unwrap(key))
		p.out.writeByte(':')
		p.suppressed = true
		p.value(p.unwrap(v.MapIndex(key)))
	}
	p.depth--
	p.out.writeByte(']')
}

func (p *printer) complex(c complex128, bits int) {
	p.out.writeByte('(')
	p.out.writeString(strconv.FormatFloat(real(c), 'g', -1, bits))
	if imag(c) >= 0 {
		p.out.writeByte('+')
	}
	p.out.writeString(strconv.FormatFloat(imag(c), 'g', -1, bits))
	p.out.writeString("i)")
}

func (p *printer) hexPtr(u uintptr) {
	if u == 0 {
		p.out.writeString("<nil>")
		return
	}
	p.out.writeString("0x")
	p.out.writeString(strconv.FormatUint(uint64(u), 16))
}

var (
	errorType    = reflect.TypeFor[error]()
	stringerType = reflect.TypeFor[fmt.Stringer]()
)

// method writes v's Error() or String() text when its type or pointer type
// has one, and reports whether it did. Values reached through unexported
// fields cannot be converted to an interface without unsafe tricks; they are
// written structurally (a documented difference that only affects the sort
// order of map keys of such types).
func (p *printer) method(v reflect.Value) (handled bool) {
	if !v.CanInterface() {
		return false
	}
	t := v.Type()
	pt := reflect.PointerTo(t)
	if !t.Implements(errorType) && !t.Implements(stringerType) &&
		!pt.Implements(errorType) && !pt.Implements(stringerType) {
		return false
	}
	// go-spew makes the value addressable, so pointer-receiver methods apply.
	addr := reflect.New(t)
	addr.Elem().Set(v)
	defer func() {
		if r := recover(); r != nil {
			p.out.writeString("(PANIC=")
			p.out.writeString(fmt.Sprintf("%v", r))
			p.out.writeByte(')')
			handled = true
		}
	}()
	switch x := addr.Interface().(type) {
	case error:
		p.out.writeString(x.Error())
		return true
	case fmt.Stringer:
		p.out.writeString(x.String())
		return true
	}
	return false
}

// sortKeys orders map keys as go-spew does with SortKeys and SpewKeys.
func sortKeys(keys []reflect.Value) {
	if len(keys) < 2 {
		return
	}
	if simpleKind(keys[0].Kind()) {
		slices.SortFunc(keys, func(a, b reflect.Value) int {
			switch {
			case simpleLess(a, b):
				return -1
			case simpleLess(b, a):
				return 1
			}
			return 0
		})
		return
	}
	type keyed struct {
		text string
		v    reflect.Value
	}
	ks := make([]keyed, len(keys))
	for i, k := range keys {
		ks[i] = keyed{keyText(k), k}
	}
	slices.SortFunc(ks, func(a, b keyed) int { return strings.Compare(a.text, b.text) })
	for i := range ks {
		keys[i] = ks[i].v
	}
}

// keyText is the text go-spew sorts a non-simple key by: its "%#v" text in
// the default configuration (methods on, maps unsorted).
func keyText(k reflect.Value) string {
	var b textSink
	p := printer{out: &b, methods: true}
	if k.Kind() == reflect.Interface {
		if k.IsNil() {
			return "(interface {})<nil>"
		}
		k = k.Elem()
	}
	p.value(k)
	return b.String()
}

func simpleKind(k reflect.Kind) bool {
	switch k {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.String, reflect.Array:
		return true
	}
	return false
}

func simpleLess(a, b reflect.Value) bool {
	switch a.Kind() {
	case reflect.Bool:
		return !a.Bool() && b.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return a.Int() < b.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return a.Uint() < b.Uint()
	case reflect.Float32, reflect.Float64:
		return a.Float() < b.Float()
	case reflect.String:
		return a.String() < b.String()
	case reflect.Array:
		for i := range a.Len() {
			x, y := a.Index(i), b.Index(i)
			if equalElems(x, y) {
				continue
			}
			return simpleLess(x, y)
		}
	}
	// go-spew falls back to comparing reflect.Value.String(), which for a
	// non-string value is "<T Value>" for both sides: never less.
	return false
}

func equalElems(x, y reflect.Value) bool {
	if x.CanInterface() && y.CanInterface() {
		return x.Interface() == y.Interface()
	}
	return x.Equal(y)
}
