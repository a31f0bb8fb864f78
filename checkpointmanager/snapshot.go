package checkpointmanager

import (
	"fmt"
	"reflect"
	"unsafe"
)

// snapshot records every memory location reachable from a checkpoint
// object (the pointees, map contents and slice backing arrays) with a
// shallow copy of its value, so that restore can put the object back
// exactly as it was: same values, and the same maps, slices and pointers,
// which callers may hold. Restoring shallow values location by location
// restores the whole graph, because each shallow value refers to the
// original maps and pointees, themselves restored.
//
// Why not decode into a copy and copy back on success: the success path
// would then hand the caller new maps and pointees, breaking checkpoint
// types that decode into memory they point to (a field *State filled by
// UnmarshalCheckpoint). With a snapshot the success path is kubelet's own,
// in place, and only a failure pays for the restore.
type snapshot struct {
	cells []cell
	seen  map[seenKey]bool
	// home is the package of the checkpoint type; see opaque.
	home string
}

// cell is one location and its saved value: loc.Set(saved) restores a
// pointee or a backing array; a map is cleared and refilled.
type cell struct {
	loc   reflect.Value
	saved reflect.Value
	isMap bool // a map's contents (keys, vals), not a location holding a map
	keys  []reflect.Value
	vals  []reflect.Value
}

type seenKey struct {
	ptr unsafe.Pointer
	typ reflect.Type
}

// takeSnapshot records what v (a Checkpoint) reaches. Channels and
// functions are not looked into (decoders do not change them), and values
// of packages sync and sync/atomic are left alone (see isSync). It never
// panics: an unexpected reflection failure is returned as an error.
func takeSnapshot(v any) (s *snapshot, err error) {
	defer func() {
		if r := recover(); r != nil {
			s, err = nil, fmt.Errorf("cannot snapshot %T: %v", v, r)
		}
	}()
	s = &snapshot{seen: map[seenKey]bool{}}
	t := reflect.TypeOf(v)
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t != nil {
		s.home = t.PkgPath()
	}
	s.walk(reflect.ValueOf(v))
	return s, nil
}

// restore puts every recorded location back, newest records first (a
// location recorded twice gets its oldest value last).
func (s *snapshot) restore() (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("cannot restore the checkpoint object: %v", r)
		}
	}()
	for i := len(s.cells) - 1; i >= 0; i-- {
		c := s.cells[i]
		if c.isMap {
			c.loc.Clear()
			for j, k := range c.keys {
				c.loc.SetMapIndex(k, c.vals[j])
			}
			continue
		}
		c.loc.Set(c.saved)
	}
	return nil
}

// writable returns a settable view of the memory at ptr, of type t. It is
// how locations reached through unexported fields become restorable: their
// reflect values are read-only.
func writable(t reflect.Type, ptr unsafe.Pointer) reflect.Value {
	return reflect.NewAt(t, ptr).Elem()
}

// walk records the locations reachable from v, which may be read-only or
// not addressable.
func (s *snapshot) walk(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return
		}
		t := v.Type().Elem()
		key := seenKey{v.UnsafePointer(), t}
		if s.seen[key] || t.Size() == 0 || s.opaque(t) {
			return
		}
		s.seen[key] = true
		loc := writable(t, v.UnsafePointer())
		if isSync(t) {
			return
		}
		if hasSync(t) {
			s.fields(loc)
			return
		}
		saved := reflect.New(t).Elem()
		saved.Set(loc)
		s.cells = append(s.cells, cell{loc: loc, saved: saved})
		s.walk(loc)
	case reflect.Map:
		if v.IsNil() {
			return
		}
		key := seenKey{v.UnsafePointer(), v.Type()}
		if s.seen[key] {
			return
		}
		s.seen[key] = true
		// A map value is one pointer word: view a copy of that word as a
		// settable map of the same type.
		word := v.UnsafePointer()
		m := writable(v.Type(), unsafe.Pointer(&word))
		c := cell{loc: m, isMap: true}
		for it := m.MapRange(); it.Next(); {
			c.keys = append(c.keys, it.Key())
			c.vals = append(c.vals, it.Value())
		}
		s.cells = append(s.cells, c)
		for j := range c.keys {
			s.walk(c.keys[j])
			s.walk(c.vals[j])
		}
	case reflect.Slice:
		if v.Cap() == 0 || v.Type().Elem().Size() == 0 {
			return
		}
		// The whole backing array, up to the capacity: a decoder reuses
		// it when it appends into the slice.
		arr := reflect.ArrayOf(v.Cap(), v.Type().Elem())
		key := seenKey{v.UnsafePointer(), arr}
		if s.seen[key] {
			return
		}
		s.seen[key] = true
		loc := writable(arr, v.UnsafePointer())
		saved := reflect.New(arr).Elem()
		saved.Set(loc)
		s.cells = append(s.cells, cell{loc: loc, saved: saved})
		for i := range loc.Len() {
			s.walk(loc.Index(i))
		}
	case reflect.Array:
		for i := range v.Len() {
			s.walk(v.Index(i))
		}
	case reflect.Struct:
		if isSync(v.Type()) || s.opaque(v.Type()) {
			return
		}
		for i := range v.NumField() {
			s.walk(v.Field(i))
		}
	case reflect.Interface:
		if !v.IsNil() {
			s.walk(v.Elem())
		}
	}
}

// opaque reports whether values of type t belong to their own package
// rather than to the checkpoint: a struct type of another package than the
// checkpoint's with unexported fields (time.Time, *os.File, bytes.Buffer,
// resource.Quantity, ...). Its invariants are that package's business and
// its pointers may lead to memory shared with the rest of the program
// (time.Time's *Location is time.Local; an *os.File is shared with every
// goroutine that writes to it), so the snapshot never follows them: an
// opaque value held inline is restored as a whole by its container, and
// one behind a pointer or in an interface is restored by restoring that
// pointer or interface, never written through. A decoder that replaces
// such values (as encoding/json does) is undone exactly; one that mutates
// a foreign object in place is not, which the package doc states.
func (s *snapshot) opaque(t reflect.Type) bool {
	if t.Kind() != reflect.Struct || t.PkgPath() == "" || t.PkgPath() == s.home {
		return false
	}
	for i := range t.NumField() {
		if !t.Field(i).IsExported() {
			return true
		}
	}
	return false
}

// isSync reports whether t is a type of package sync or sync/atomic (a
// mutex, an atomic value). Their state belongs to whoever uses them at the
// time, not to the checkpoint: they are never saved nor restored.
func isSync(t reflect.Type) bool {
	return t.PkgPath() == "sync" || t.PkgPath() == "sync/atomic"
}

// hasSync reports whether struct type t holds a sync value inline (in a
// field, or in a field of an inline struct or array).
func hasSync(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Struct:
		if isSync(t) {
			return true
		}
		for i := range t.NumField() {
			if hasSync(t.Field(i).Type) {
				return true
			}
		}
	case reflect.Array:
		return t.Len() > 0 && hasSync(t.Elem())
	}
	return false
}

// fields records the fields of the addressable struct (or array) v one by
// one, skipping sync values, for a struct that holds some: restoring it
// whole would overwrite a lock another goroutine may hold meanwhile.
func (s *snapshot) fields(v reflect.Value) {
	var parts []reflect.Value
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			f := v.Field(i)
			parts = append(parts, writable(f.Type(), unsafe.Pointer(f.UnsafeAddr())))
		}
	case reflect.Array:
		for i := range v.Len() {
			parts = append(parts, v.Index(i))
		}
	}
	for _, f := range parts {
		switch {
		case isSync(f.Type()):
		case hasSync(f.Type()):
			s.fields(f)
		default:
			saved := reflect.New(f.Type()).Elem()
			saved.Set(f)
			s.cells = append(s.cells, cell{loc: f, saved: saved})
			s.walk(f)
		}
	}
}
