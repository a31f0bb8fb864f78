package checksum

import (
	"strconv"
	"sync"
	"unsafe"
)

// FNV-1a over a text is a chain of dependent steps, h = (h ^ c) * prime, one
// per byte: on current CPUs about 4 cycles a byte however it is written. Two
// facts let this file skip most of the chain for text it can predict:
//
//  1. Only the low byte of h meets the input. If h = g + l with l = h & 0xff
//     (so g is a multiple of 256), then for any text s of n bytes
//
//     fnv(h, s) = g * prime^n + fnv(l, s)     (mod 2^32)
//
//     because (g + x) ^ c = g + (x ^ c) for any x whose high bits g does not
//     share, and g * prime stays a multiple of 256. So a known text s is
//     hashed in O(1) from a table of fnv(l, s) for the 256 values of l.
//
//  2. The next low byte depends only on the current low byte and s, so with
//     such tables the dependent chain is one table load per piece of text,
//     while g * prime^n + ... runs beside it.
//
// seg applies 1 to the constant pieces of a plan (type names, field names);
// fnvDecimalBytes applies 1 and 2 to []byte, which go-spew prints as decimal
// numbers: most of the device manager's text.

const (
	fnvOffset32 = 2166136261
	fnvPrime32  = 16777619
)

// pairMin is the length from which fnvString and fnvBytes hash two bytes
// per step through the pair tables.
const pairMin = 8

// fnvString continues the hash h over s.
func fnvString(h uint32, s string) uint32 {
	if len(s) >= pairMin {
		return fnvPairs(h, s)
	}
	for i := 0; i < len(s); i++ {
		h = (h ^ uint32(s[i])) * fnvPrime32
	}
	return h
}

// fnvBytes continues the hash h over b.
func fnvBytes(h uint32, b []byte) uint32 {
	if len(b) >= pairMin {
		return fnvPairs(h, unsafe.String(unsafe.SliceData(b), len(b)))
	}
	for _, c := range b {
		h = (h ^ uint32(c)) * fnvPrime32
	}
	return h
}

// pairTables hold, for x = l ^ c1 (the low byte after meeting the first
// byte c1 of a pair) and the second byte c2, the hash of the pair started
// from l: the low byte in next (the dependent chain, 64 KiB, so that a step
// of the chain is one xor and one load) and the rest in high (256 KiB),
// indexed by c2<<8 | x.
type pairTables struct {
	next [1 << 16]uint8
	high [1 << 16]uint32
}

var (
	pairOnce sync.Once
	pair     *pairTables
)

func buildPairTables() {
	t := new(pairTables)
	for c2 := range 256 {
		for x := range 256 {
			v := ((uint32(x) * fnvPrime32) ^ uint32(c2)) * fnvPrime32
			t.next[c2<<8|x] = uint8(v)
			t.high[c2<<8|x] = v &^ 0xff
		}
	}
	pair = t
}

// fnvPairs continues h over s two bytes per step (facts 1 and 2 above):
// about 1.3 times as fast as the byte loop, whose chain is an xor and a
// multiplication per byte.
func fnvPairs(h uint32, s string) uint32 {
	pairOnce.Do(buildPairTables)
	t := pair
	const prime2 = uint32(fnvPrime32 * fnvPrime32 % (1 << 32))
	g, l := h&^0xff, uint16(h&0xff)
	i := 0
	for ; i+1 < len(s); i += 2 {
		j := l ^ (uint16(s[i]) | uint16(s[i+1])<<8)
		g = g*prime2 + t.high[j]
		l = uint16(t.next[j])
	}
	h = g | uint32(l)
	if i < len(s) {
		h = (h ^ uint32(s[i])) * fnvPrime32
	}
	return h
}

// fnvUint continues h over the decimal text of v.
func fnvUint(h uint32, v uint64) uint32 {
	if v < 10 {
		return (h ^ uint32('0'+v)) * fnvPrime32
	}
	var buf [20]byte
	return fnvBytes(h, strconv.AppendUint(buf[:0], v, 10))
}

// fnvInt continues h over the decimal text of v.
func fnvInt(h uint32, v int64) uint32 {
	if v < 0 {
		var buf [20]byte
		return fnvBytes(h, strconv.AppendInt(buf[:0], v, 10))
	}
	return fnvUint(h, uint64(v))
}

// pow returns prime^n mod 2^32.
func pow(n int) uint32 {
	p := uint32(1)
	for range n {
		p *= fnvPrime32
	}
	return p
}

// segTableMin is the length from which a seg uses a table: shorter text is
// as fast to hash byte by byte as through a table load.
const segTableMin = 4

// seg is a constant piece of text that hashes in O(1) (fact 1 above).
type seg struct {
	s   string
	pow uint32       // prime^len(s)
	tab *[256]uint32 // fnv(l, s) for each low byte l; nil for short text
}

func newSeg(s string) seg {
	g := seg{s: s, pow: pow(len(s))}
	if len(s) >= segTableMin {
		g.tab = new([256]uint32)
		for l := range g.tab {
			g.tab[l] = fnvString(uint32(l), s)
		}
	}
	return g
}

// apply continues the hash h over the segment's text.
func (g *seg) apply(h uint32) uint32 {
	if g.tab == nil {
		return fnvString(h, g.s)
	}
	l := h & 0xff
	return (h-l)*g.pow + g.tab[l]
}

// decimalBytesMin is the length from which fnvDecimalBytes uses its tables
// (built on first use): shorter slices are not worth a cold table.
const decimalBytesMin = 32

// decimalTables hold, for each byte value b and low byte l, the hash of the
// text " " + decimal(b) started from l: its low byte in next (the dependent
// chain, 64 KiB) and the rest in high (256 KiB), and prime^len in pow.
type decimalTables struct {
	next [1 << 16]uint8
	high [1 << 16]uint32
	pow  [256]uint32
}

var (
	decimalOnce sync.Once
	decimal     *decimalTables
)

func buildDecimalTables() {
	t := new(decimalTables)
	var buf [4]byte
	for b := range 256 {
		text := strconv.AppendUint(append(buf[:0], ' '), uint64(b), 10)
		t.pow[b] = pow(len(text))
		for l := range 256 {
			v := fnvBytes(uint32(l), text)
			t.next[b<<8|l] = uint8(v)
			t.high[b<<8|l] = v &^ 0xff
		}
	}
	decimal = t
}

// fnvDecimalBytes continues h over the bytes of b written as decimal
// numbers separated by single spaces ("10 3 97"), as go-spew prints a
// []byte between its brackets.
func fnvDecimalBytes(h uint32, b []byte) uint32 {
	if len(b) == 0 {
		return h
	}
	h = fnvUint(h, uint64(b[0]))
	rest := b[1:]
	if len(rest) < decimalBytesMin {
		for _, c := range rest {
			h = fnvUint((h^' ')*fnvPrime32, uint64(c))
		}
		return h
	}
	decimalOnce.Do(buildDecimalTables)
	t := decimal
	g, l := h&^0xff, h&0xff
	for _, c := range rest {
		i := uint32(c)<<8 | l
		g = g*t.pow[c] + t.high[i]
		l = uint32(t.next[i])
	}
	return g | l
}
