// Package canonjson reads and writes the JSON that encoding/json.Marshal
// produces, without reflection, for the hot paths of the format packages
// (Decode and Encode of the current kubelet formats).
//
// The Reader is deliberately narrow: it accepts the JSON that Marshal
// writes for the shapes kubelet uses (objects, strings, unsigned and signed
// integers, booleans), with the variants encoding/json reads the same way
// (white space, escapes in values), and refuses everything else, a float, a
// key that needs unescaping, invalid UTF-8, by failing (null only where a
// caller asks for it, with IsNull).
// A caller then falls back to its full encoding/json path, which gives the
// exact encoding/json semantics (case-insensitive keys, null, replacement
// of invalid UTF-8) and the detailed error. So a fast decode never accepts
// what the slow one would reject or read differently; it only declines.
//
// The Writer produces the bytes Marshal produces for the same values:
// strings escaped as Marshal escapes them (HTML-safe, U+2028 and U+2029,
// invalid UTF-8 as \ufffd), integers in decimal. Callers write map keys
// in sorted order, as Marshal does.
package canonjson

import (
	"unicode/utf8"
	"unsafe"
)

// Reader reads one JSON document from a byte slice. Its methods never
// panic; after the first failure every method returns a zero value and Ok
// reports false. Callers read a whole document, then check Ok once.
type Reader struct {
	b   []byte
	i   int
	bad bool
	// str is the input as a string when the Reader was made by
	// NewStringReader: strings without escapes are then substrings of it,
	// not copies.
	str    string
	isStr  bool
	kStart int // the last key read, as offsets into b
	kEnd   int
}

// NewReader returns a Reader over b. Strings it returns are copies: b may
// be reused once reading is done.
func NewReader(b []byte) *Reader { return &Reader{b: b} }

// NewStringReader returns a Reader over s. Strings it returns without
// escapes are substrings of s, sharing its memory, so that decoding a
// document costs one allocation for all its strings.
func NewStringReader(s string) *Reader {
	return &Reader{b: unsafe.Slice(unsafe.StringData(s), len(s)), str: s, isStr: true}
}

// maxDepth bounds the nesting Skip follows (kubelet's documents nest a few
// levels).
const maxDepth = 64

// Ok reports whether nothing has failed so far.
func (r *Reader) Ok() bool { return !r.bad }

// Fail marks the reader failed (for a caller that found an unexpected key
// or value).
func (r *Reader) Fail() { r.bad = true }

func (r *Reader) ws() {
	for r.i < len(r.b) {
		switch r.b[r.i] {
		case ' ', '\t', '\n', '\r':
			r.i++
		default:
			return
		}
	}
}

// peek returns the next byte after white space, or 0 at the end.
func (r *Reader) peek() byte {
	r.ws()
	if r.bad || r.i >= len(r.b) {
		return 0
	}
	return r.b[r.i]
}

func (r *Reader) expect(c byte) bool {
	if r.peek() != c {
		r.bad = true
		return false
	}
	r.i++
	return true
}

// End reports whether only white space is left, failing the reader if not.
func (r *Reader) End() bool {
	if r.peek() != 0 || r.i != len(r.b) {
		r.bad = true
	}
	return !r.bad
}

// Object reads an object, calling member for each key with the reader
// positioned at the value; member must read the value (or call Fail). The
// key slice is only valid during the call. A key with an escape or a
// non-ASCII byte fails the reader (kubelet's keys never have them).
func (r *Reader) Object(member func(key []byte)) {
	if !r.expect('{') {
		return
	}
	if r.peek() == '}' {
		r.i++
		return
	}
	for !r.bad {
		key := r.rawKey()
		if !r.expect(':') {
			return
		}
		member(key)
		if r.bad {
			return
		}
		switch r.peek() {
		case ',':
			r.i++
		case '}':
			r.i++
			return
		default:
			r.bad = true
			return
		}
	}
}

// rawKey reads a string that needs no unescaping and returns its bytes.
func (r *Reader) rawKey() []byte {
	if !r.expect('"') {
		return nil
	}
	start := r.i
	for r.i < len(r.b) {
		c := r.b[r.i]
		switch {
		case c == '"':
			key := r.b[start:r.i]
			r.kStart, r.kEnd = start, r.i
			r.i++
			return key
		case c == '\\' || c < 0x20 || c >= utf8.RuneSelf:
			r.bad = true
			return nil
		}
		r.i++
	}
	r.bad = true
	return nil
}

// StringBytes reads a string value and returns its unescaped bytes: a
// sub-slice of the input when it has no escapes, else a new slice.
func (r *Reader) StringBytes() []byte {
	if !r.expect('"') {
		return nil
	}
	start := r.i
	plain, escaped := r.scanPlain(start)
	if escaped {
		return r.unescape(start)
	}
	return plain
}

// scanPlain reads a string from start (after its opening quote) up to the
// closing quote, which it consumes, returning the bytes between; or up to
// the first backslash, where it stops with escaped set. It fails the
// reader on a control byte, invalid UTF-8 or a missing closing quote.
func (r *Reader) scanPlain(start int) (plain []byte, escaped bool) {
	ascii := true
	for r.i < len(r.b) {
		c := r.b[r.i]
		switch {
		case c == '"':
			s := r.b[start:r.i]
			r.i++
			if !ascii && !utf8.Valid(s) {
				r.bad = true // encoding/json would replace the bad bytes
				return nil, false
			}
			return s, false
		case c == '\\':
			return nil, true
		case c < 0x20:
			r.bad = true
			return nil, false
		case c >= utf8.RuneSelf:
			ascii = false
		}
		r.i++
	}
	r.bad = true
	return nil, false
}

// unescape continues StringBytes from the first backslash at r.i.
func (r *Reader) unescape(start int) []byte {
	// Size the copy once: the unescaped string is no longer than the
	// escaped one up to the closing quote, less one byte per escape.
	// Each escape is at least one byte shorter unescaped.
	end, escapes := r.i, 0
	for end < len(r.b) && r.b[end] != '"' {
		if r.b[end] == '\\' {
			end++
			escapes++
		}
		end++
	}
	return r.unescapeInto(make([]byte, 0, max(0, min(end, len(r.b))-start-escapes)), start)
}

// unescapeInto appends to out the string that starts at start, from the
// first backslash at r.i on.
func (r *Reader) unescapeInto(out []byte, start int) []byte {
	base := len(out)
	out = append(out, r.b[start:r.i]...)
	for r.i < len(r.b) {
		c := r.b[r.i]
		switch {
		case c == '"':
			r.i++
			if !utf8.Valid(out[base:]) {
				r.bad = true
				return nil
			}
			return out
		case c == '\\':
			if r.i+1 >= len(r.b) {
				r.bad = true
				return nil
			}
			e := r.b[r.i+1]
			r.i += 2
			switch e {
			case '"', '\\', '/':
				out = append(out, e)
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'u':
				v, ok := hex4(r.b[r.i:])
				if !ok || v >= 0xD800 && v < 0xE000 {
					// Surrogates (pairs, or lone ones that encoding/json
					// replaces) are left to the slow path.
					r.bad = true
					return nil
				}
				r.i += 4
				out = utf8.AppendRune(out, rune(v))
			default:
				r.bad = true
				return nil
			}
		case c < 0x20:
			r.bad = true
			return nil
		default:
			// Copy the run up to the next quote or backslash at once.
			j := r.i + 1
			for j < len(r.b) && r.b[j] != '"' && r.b[j] != '\\' && r.b[j] >= 0x20 {
				j++
			}
			out = append(out, r.b[r.i:j]...)
			r.i = j
		}
	}
	r.bad = true
	return nil
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

// String reads a string value: a substring of the input for a Reader made
// by NewStringReader when it has no escapes, else a new string.
func (r *Reader) String() string {
	if r.isStr {
		if r.peek() != '"' {
			r.bad = true
			return ""
		}
		start := r.i + 1
		b := r.StringBytes()
		if r.bad {
			return ""
		}
		if end := start + len(b); end <= len(r.str) && len(b) > 0 && &r.b[start] == &b[0] {
			return r.str[start:end]
		}
		return string(b)
	}
	return string(r.StringBytes())
}

// Key returns the last object key read as a string: a substring of the
// input for a Reader made by NewStringReader, else a copy. Inside an
// Object callback, it is the member's key until a nested object is read.
func (r *Reader) Key() string {
	if r.isStr {
		return r.str[r.kStart:r.kEnd]
	}
	return string(r.b[r.kStart:r.kEnd])
}

// Uint64 reads a non-negative integer in canonical form (no sign, no
// leading zero, no fraction or exponent) that fits in 64 bits.
func (r *Reader) Uint64() uint64 {
	r.ws()
	start := r.i
	var v uint64
	for r.i < len(r.b) && '0' <= r.b[r.i] && r.b[r.i] <= '9' {
		d := uint64(r.b[r.i] - '0')
		if v > (1<<64-1-d)/10 {
			r.bad = true
			return 0
		}
		v = v*10 + d
		r.i++
	}
	n := r.i - start
	if n == 0 || n > 1 && r.b[start] == '0' || r.i < len(r.b) && (r.b[r.i] == '.' || r.b[r.i] == 'e' || r.b[r.i] == 'E') {
		r.bad = true
		return 0
	}
	return v
}

// Int64 reads an integer in canonical form that fits in 64 bits.
func (r *Reader) Int64() int64 {
	neg := r.peek() == '-'
	if neg {
		r.i++
		if r.i >= len(r.b) || r.b[r.i] < '0' || r.b[r.i] > '9' {
			r.bad = true
			return 0
		}
	}
	u := r.Uint64()
	switch {
	case r.bad:
		return 0
	case neg && u <= 1<<63:
		return -int64(u-1) - 1
	case !neg && u < 1<<63:
		return int64(u)
	}
	r.bad = true
	return 0
}

// Bool reads true or false.
func (r *Reader) Bool() bool {
	switch r.peek() {
	case 't':
		if len(r.b)-r.i >= 4 && string(r.b[r.i:r.i+4]) == "true" {
			r.i += 4
			return true
		}
	case 'f':
		if len(r.b)-r.i >= 5 && string(r.b[r.i:r.i+5]) == "false" {
			r.i += 5
			return false
		}
	}
	r.bad = true
	return false
}

// Array reads an array, calling elem for each element with the reader
// positioned at it; elem must read it (or call Fail).
func (r *Reader) Array(elem func()) {
	if !r.expect('[') {
		return
	}
	if r.peek() == ']' {
		r.i++
		return
	}
	for !r.bad {
		elem()
		if r.bad {
			return
		}
		switch r.peek() {
		case ',':
			r.i++
		case ']':
			r.i++
			return
		default:
			r.bad = true
			return
		}
	}
}

// IsNull reports whether the next value is null, and if so consumes it.
func (r *Reader) IsNull() bool {
	if r.peek() == 'n' && len(r.b)-r.i >= 4 && string(r.b[r.i:r.i+4]) == "null" {
		r.i += 4
		return true
	}
	return false
}

// StringMap reads an object of strings into a new map. A duplicate key
// fails the reader (encoding/json would keep the last; the slow path
// reports that as it does).
func (r *Reader) StringMap() map[string]string {
	m := make(map[string]string)
	r.Object(func(key []byte) {
		if _, dup := m[string(key)]; dup {
			r.bad = true
			return
		}
		m[r.Key()] = r.String()
	})
	return m
}

// StringMap2 reads an object of objects of strings.
func (r *Reader) StringMap2() map[string]map[string]string {
	m := make(map[string]map[string]string)
	r.Object(func(key []byte) {
		if _, dup := m[string(key)]; dup {
			r.bad = true
			return
		}
		k := r.Key()
		m[k] = r.StringMap()
	})
	return m
}

// EqualStringMap reads an object of strings and reports whether it holds
// exactly m (no allocation). Its keys must be in ascending order, as
// Marshal writes them, so that a duplicate cannot pass for another key;
// otherwise it reports false. A malformed object fails the reader.
func (r *Reader) EqualStringMap(m map[string]string) bool {
	n, equal := 0, true
	var prev []byte
	r.Object(func(key []byte) {
		if n > 0 && string(prev) >= string(key) {
			equal = false
		}
		prev = key
		v := r.StringBytes()
		want, ok := m[string(key)]
		if !ok || want != string(v) {
			equal = false
		}
		n++
	})
	return r.Ok() && equal && n == len(m)
}

// EqualStringMap2 reads an object of objects of strings and reports
// whether it holds exactly m (no allocation), with keys in ascending order
// at both levels.
func (r *Reader) EqualStringMap2(m map[string]map[string]string) bool {
	n, equal := 0, true
	var prev []byte
	r.Object(func(key []byte) {
		if n > 0 && string(prev) >= string(key) {
			equal = false
		}
		prev = key
		inner, ok := m[string(key)]
		if !r.EqualStringMap(inner) || !ok {
			equal = false
		}
		n++
	})
	return r.Ok() && equal && n == len(m)
}

// Skip reads and discards one value of any kind (nesting at most maxDepth).
func (r *Reader) Skip() { r.skip(0) }

func (r *Reader) skip(depth int) {
	if depth > maxDepth {
		r.bad = true
		return
	}
	switch c := r.peek(); {
	case c == '{':
		r.Object(func([]byte) { r.skip(depth + 1) })
	case c == '[':
		r.Array(func() { r.skip(depth + 1) })
	case c == '"':
		r.StringBytes()
	case c == 't' || c == 'f':
		r.Bool()
	case c == 'n':
		if !r.IsNull() {
			r.bad = true
		}
	case c == '-' || '0' <= c && c <= '9':
		r.Int64()
	default:
		r.bad = true
	}
}

// Offset returns the position of the next value (after white space), for
// a caller that records where a value lies to read it again later.
func (r *Reader) Offset() int {
	r.ws()
	return r.i
}

// StringOwned reads a string value into memory of its own (never sharing
// the input), with one allocation: the unescaped copy when there are
// escapes, else a copy of the bytes.
func (r *Reader) StringOwned() string {
	if r.peek() != '"' {
		r.bad = true
		return ""
	}
	start := r.i + 1
	b := r.StringBytes()
	if r.bad || len(b) == 0 {
		return ""
	}
	if start < len(r.b) && &r.b[start] == &b[0] {
		return string(b) // shares the input: copy
	}
	// b is the unescaped copy, which nothing else references or changes.
	return unsafe.String(&b[0], len(b))
}

// AppendStringValue reads a string value and appends its unescaped bytes to
// dst, for a caller that reuses one buffer across documents. On failure it
// returns dst unchanged in length and fails the reader.
func (r *Reader) AppendStringValue(dst []byte) []byte {
	if !r.expect('"') {
		return dst
	}
	start := r.i
	plain, escaped := r.scanPlain(start)
	if escaped {
		if out := r.unescapeInto(dst, start); !r.bad {
			return out
		}
	}
	if r.bad {
		return dst
	}
	return append(dst, plain...)
}
