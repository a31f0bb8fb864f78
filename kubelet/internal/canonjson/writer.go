package canonjson

import (
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"
)

// AppendString appends s as encoding/json.Marshal writes a string: quoted,
// with '"', '\\' and control characters escaped (\b \f \n \r \t, else
// \u00XX), '<', '>' and '&' escaped as \u003c, \u003e, \u0026 (Marshal's
// HTML-safe default), U+2028 and U+2029 escaped, and each byte of invalid
// UTF-8 written as \ufffd.
func AppendString[S []byte | string](dst []byte, s S) []byte {
	// One non-generic body: indexing a value of a type parameter compiles
	// to slower code than indexing a string.
	switch v := any(s).(type) {
	case string:
		return appendString(dst, v)
	case []byte:
		return appendString(dst, unsafe.String(unsafe.SliceData(v), len(v)))
	}
	panic("unreachable")
}

// QuotedLen returns the length AppendString writes for s when s is
// printable ASCII (a lower bound otherwise), to size a buffer once.
func QuotedLen[S []byte | string](s S) int {
	switch v := any(s).(type) {
	case string:
		return quotedLen(v)
	case []byte:
		return quotedLen(unsafe.String(unsafe.SliceData(v), len(v)))
	}
	panic("unreachable")
}

func quotedLen(s string) int {
	return len(s) + 2 + strings.Count(s, `"`) + strings.Count(s, `\`) +
		5*(strings.Count(s, "<")+strings.Count(s, ">")+strings.Count(s, "&"))
}

func appendString(dst []byte, s string) []byte {
	// The common case, printable ASCII (all kubelet writes; a JSON
	// document inside a string escapes a quote every few bytes), is
	// measured with strings.Count, which is vectorized, and written by
	// index into room made once. Anything else (a control character, a
	// non-ASCII byte) goes to appendStringUTF8.
	if len(s) < 64 {
		// Short strings (keys, names, cpusets) mostly need no escape:
		// one look at each byte, then one copy.
		for i := 0; i < len(s); i++ {
			if width[s[i]] != 1 {
				return appendStringUTF8(dst, s)
			}
		}
		dst = append(dst, '"')
		dst = append(dst, s...)
		return append(dst, '"')
	}
	n := quotedLen(s)
	start := len(dst)
	dst = slices.Grow(dst, n)[:start+n]
	out := dst[start:]
	out[0] = '"'
	j := 1
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch width[c] {
		case 1:
			out[j] = c
			j++
		case 2:
			if c != '"' && c != '\\' {
				return appendStringUTF8(dst[:start], s)
			}
			out[j], out[j+1] = '\\', c
			j += 2
		case 6:
			if c < 0x20 {
				return appendStringUTF8(dst[:start], s)
			}
			out[j], out[j+1], out[j+2], out[j+3] = '\\', 'u', '0', '0'
			out[j+4], out[j+5] = hexDigits[c>>4], hexDigits[c&0xF]
			j += 6
		default:
			return appendStringUTF8(dst[:start], s)
		}
	}
	out[j] = '"'
	return dst
}

const hexDigits = "0123456789abcdef"

// width is the length Marshal writes for each ASCII byte (1 as is, 2 a
// short escape such as \" or \n, 6 \u00XX); 0 marks a non-ASCII byte.
var width = func() (w [256]uint8) {
	for b := range utf8.RuneSelf {
		switch {
		case b == '"' || b == '\\' || b == '\b' || b == '\f' || b == '\n' || b == '\r' || b == '\t':
			w[b] = 2
		case b < 0x20 || b == '<' || b == '>' || b == '&':
			w[b] = 6
		default:
			w[b] = 1
		}
	}
	return w
}()

// appendStringUTF8 is AppendString for text with non-ASCII bytes.
func appendStringUTF8(dst []byte, s string) []byte {
	const hex = hexDigits
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		b := s[i]
		if width[b] == 1 {
			i++
			continue
		}
		if b < utf8.RuneSelf {
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xF])
			}
			i++
			start = i
			continue
		}
		n := min(len(s)-i, utf8.UTFMax)
		c, size := utf8.DecodeRuneInString(s[i : i+n])
		if c == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		if c == '\u2028' || c == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[c&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// AppendUint appends v in decimal.
func AppendUint(dst []byte, v uint64) []byte { return strconv.AppendUint(dst, v, 10) }

// AppendInt appends v in decimal.
func AppendInt(dst []byte, v int64) []byte { return strconv.AppendInt(dst, v, 10) }

// SortedKeys returns the keys of m in the order Marshal writes them
// (byte-wise ascending).
func SortedKeys[V any](m map[string]V) []string {
	return AppendSortedKeys(make([]string, 0, len(m)), m)
}

// AppendSortedKeys appends the keys of m to keys, sorted as SortedKeys
// sorts them, so that a caller can reuse one slice.
func AppendSortedKeys[V any](keys []string, m map[string]V) []string {
	start := len(keys)
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys[start:])
	return keys
}

// AppendStringMap appends m as Marshal writes a map[string]string: keys
// sorted, no white space.
func AppendStringMap(dst []byte, m map[string]string) []byte {
	return appendStringMap(dst, m, nil)
}

func appendStringMap(dst []byte, m map[string]string, scratch *[]string) []byte {
	var keys []string
	if scratch != nil {
		keys = AppendSortedKeys((*scratch)[:0], m)
		*scratch = keys
	} else {
		keys = SortedKeys(m)
	}
	dst = append(dst, '{')
	for i, k := range keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = AppendString(dst, k)
		dst = append(dst, ':')
		dst = AppendString(dst, m[k])
	}
	return append(dst, '}')
}

// AppendStringMap2 appends m as Marshal writes a
// map[string]map[string]string (a nil inner map as null).
func AppendStringMap2(dst []byte, m map[string]map[string]string) []byte {
	var scratch []string
	dst = append(dst, '{')
	for i, k := range SortedKeys(m) {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = AppendString(dst, k)
		dst = append(dst, ':')
		if m[k] == nil {
			dst = append(dst, "null"...)
		} else {
			dst = appendStringMap(dst, m[k], &scratch)
		}
	}
	return append(dst, '}')
}
