// Package resource mirrors k8s.io/apimachinery/pkg/api/resource.Quantity:
// its package name, its unexported internals and the way JSON decoding
// fills them. Kubelet 1.27-1.31 hashed the pod status manager checkpoint as
// a Go value, so the checksum covers those internals, e.g.
// "{i:(resource.int64Amount){value:(int64)100 scale:(resource.Scale)-3}
// d:(resource.infDecAmount){Dec:(*inf.Dec)<nil>} s:(string)100m
// Format:(resource.Format)DecimalSI}". To verify such a file, Quantity is
// decoded exactly as apimachinery's ParseQuantity decodes it (which fast path
// it takes, when it keeps the input string, how it rounds), reimplemented
// here from its documented behaviour.
package resource

import (
	"bytes"
	"errors"
	"math/big"
	"strconv"
	"strings"

	"github.com/ckptkit/ckpt/kubelet/internal/k8s/inf"
)

// Scale is a power of ten.
type Scale int32

// Format is how a quantity is written: with a binary suffix (Ki, Mi...), a
// decimal suffix (m, k, M...) or a decimal exponent (e3).
type Format string

// The formats.
const (
	DecimalExponent = Format("DecimalExponent")
	BinarySI        = Format("BinarySI")
	DecimalSI       = Format("DecimalSI")
)

// The parse errors, with apimachinery's texts.
var (
	ErrFormatWrong = errors.New("quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")
	ErrNumeric     = errors.New("unable to parse numeric part of quantity")
	ErrSuffix      = errors.New("unable to parse quantity's suffix")
	// ErrTooLarge is ours: apimachinery would try to rescale a decimal by
	// this many digits (and exhaust memory); we refuse instead.
	ErrTooLarge = errors.New("quantity exponent too large to represent")
)

// maxRescale bounds the decimal digits a rescale may add or remove.
const maxRescale = 4096

// int64Amount is value × 10^scale.
type int64Amount struct {
	value int64
	scale Scale
}

// infDecAmount holds the arbitrary-precision form.
type infDecAmount struct {
	*inf.Dec
}

// Quantity is a fixed-point number with the field layout of apimachinery's
// Quantity (i, d, s, embedded Format), which the checksum text prints.
type Quantity struct {
	i int64Amount
	d infDecAmount
	s string
	Format
}

// UnmarshalJSON decodes a quantity the way apimachinery does: null leaves
// a zero amount; otherwise the surrounding quotes, if any, are dropped (JSON
// escapes are not interpreted), white space is trimmed and the text parsed.
func (q *Quantity) UnmarshalJSON(value []byte) error {
	l := len(value)
	if l == 4 && bytes.Equal(value, []byte("null")) {
		q.d.Dec = nil
		q.i = int64Amount{}
		return nil
	}
	if l >= 2 && value[0] == '"' && value[l-1] == '"' {
		value = value[1 : l-1]
	}
	parsed, err := ParseQuantity(strings.TrimSpace(string(value)))
	if err != nil {
		return err
	}
	*q = parsed
	return nil
}

// Cached returns the string the quantity keeps from parsing ("" unless the
// input was already in canonical form).
func (q Quantity) Cached() string { return q.s }

const (
	maxInt64Factors = 18 // decimal digits an int64 always holds
	nano            = -9
)

// ParseQuantity parses str into the internal form apimachinery's
// ParseQuantity produces for it.
func ParseQuantity(str string) (Quantity, error) {
	if len(str) == 0 {
		return Quantity{}, ErrFormatWrong
	}
	if str == "0" {
		return Quantity{Format: DecimalSI, s: str}, nil
	}
	p, err := split(str)
	if err != nil {
		return Quantity{}, err
	}
	base, exponent, format, ok := interpret(p.suffix)
	if !ok {
		return Quantity{}, ErrSuffix
	}

	// The int64 fast path, taken when the digits surely fit.
	precision, scale, mantissa := int32(0), int32(0), int64(1)
	switch format {
	case DecimalExponent, DecimalSI:
		scale = exponent
		precision = maxInt64Factors - int32(len(p.num)+len(p.denom))
	case BinarySI:
		if exponent >= 0 && len(p.denom) == 0 {
			mantissa <<= uint64(exponent)
			// float32 arithmetic, as upstream, so the cut-off is the same.
			precision = 15 - int32(len(p.num)) - int32(float32(exponent)*3/10) - 1
		} else {
			precision = -1
		}
	}
	if precision >= 0 {
		scale -= int32(len(p.denom))
		if scale >= nano {
			shifted := p.num + p.denom
			value, err := strconv.ParseInt(shifted, 10, 64)
			if err != nil {
				return Quantity{}, ErrNumeric
			}
			if result, ok := mul64(value, mantissa); ok {
				if !p.positive {
					result = -result
				}
				q := Quantity{i: int64Amount{value: result, scale: Scale(scale)}, Format: format}
				// The input string is kept only when it is already canonical.
				switch format {
				case BinarySI:
					if exponent%10 == 0 && value&0x07 != 0 {
						q.s = str
					}
				default:
					if scale%3 == 0 && !strings.HasSuffix(shifted, "000") && shifted[0] != '0' {
						q.s = str
					}
				}
				return q, nil
			}
		}
	}

	// The arbitrary-precision path.
	unscaled, decScale, ok := decimal(p.value)
	if !ok {
		return Quantity{}, ErrNumeric
	}
	if base == 10 {
		decScale -= exponent
	} else {
		suffix := new(big.Int).Lsh(big.NewInt(1), uint(exponent))
		unscaled.Mul(unscaled, suffix)
	}
	sign := unscaled.Sign()
	if sign < 0 {
		unscaled.Neg(unscaled)
	}
	if unscaled.Sign() != 0 {
		if d := decScale + nano; d > maxRescale || d < -maxRescale {
			return Quantity{}, ErrTooLarge
		}
		// Round non-zero values up to whole nanos: the result always has
		// scale 9.
		unscaled = roundUp(unscaled, decScale, -nano)
		decScale = -nano
	}
	if format == BinarySI && unscaled.Sign() > 0 && cmp(unscaled, decScale, big.NewInt(1<<63-1), 0) > 0 {
		unscaled, decScale = big.NewInt(1<<63-1), 0
	}
	if format == BinarySI && unscaled.Sign() > 0 && cmp(unscaled, decScale, big.NewInt(1), 0) < 0 {
		format = DecimalSI
	}
	if sign < 0 {
		unscaled.Neg(unscaled)
	}
	return Quantity{d: infDecAmount{inf.New(unscaled, inf.Scale(decScale))}, Format: format}, nil
}

// parts is a quantity string split as apimachinery splits it.
type parts struct {
	positive bool
	value    string // sign, digits and point: the numeric part
	num      string // integer digits without leading zeros ("0" if none)
	denom    string // fraction digits
	suffix   string
}

// split scans str into its numeric part and its suffix.
func split(str string) (parts, error) {
	p := parts{positive: true}
	pos, end := 0, len(str)
	if pos < end {
		switch str[0] {
		case '-':
			p.positive = false
			pos++
		case '+':
			pos++
		}
	}
	for pos < end && str[pos] == '0' {
		pos++
	}
	if pos >= end {
		p.num, p.value = "0", "0"
		return p, nil
	}
	start := pos
	for pos < end && isDigit(str[pos]) {
		pos++
	}
	p.num = str[start:pos]
	if pos >= end {
		p.value = str
		return p, nil
	}
	if p.num == "" {
		p.num = "0"
	}
	if str[pos] == '.' {
		pos++
		start = pos
		for pos < end && isDigit(str[pos]) {
			pos++
		}
		p.denom = str[start:pos]
		if pos >= end {
			p.value = str
			return p, nil
		}
	}
	p.value = str[:pos]
	suffixStart := pos
	for pos < end && strings.IndexByte("eEinumkKMGTP", str[pos]) >= 0 {
		pos++
	}
	if pos < end && (str[pos] == '-' || str[pos] == '+') {
		pos++
	}
	for pos < end && isDigit(str[pos]) {
		pos++
	}
	if pos < end {
		return parts{}, ErrFormatWrong
	}
	p.suffix = str[suffixStart:]
	return p, nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// interpret returns the base, exponent and format a suffix stands for.
func interpret(s string) (base int, exponent int32, format Format, ok bool) {
	switch s {
	case "":
		return 10, 0, DecimalSI, true
	case "n":
		return 10, -9, DecimalSI, true
	case "u":
		return 10, -6, DecimalSI, true
	case "m":
		return 10, -3, DecimalSI, true
	case "k":
		return 10, 3, DecimalSI, true
	case "M":
		return 10, 6, DecimalSI, true
	case "G":
		return 10, 9, DecimalSI, true
	case "T":
		return 10, 12, DecimalSI, true
	case "P":
		return 10, 15, DecimalSI, true
	case "E":
		return 10, 18, DecimalSI, true
	case "Ki":
		return 2, 10, BinarySI, true
	case "Mi":
		return 2, 20, BinarySI, true
	case "Gi":
		return 2, 30, BinarySI, true
	case "Ti":
		return 2, 40, BinarySI, true
	case "Pi":
		return 2, 50, BinarySI, true
	case "Ei":
		return 2, 60, BinarySI, true
	}
	if len(s) > 1 && (s[0] == 'e' || s[0] == 'E') {
		parsed, err := strconv.ParseInt(s[1:], 10, 64)
		if err != nil {
			return 0, 0, DecimalExponent, false
		}
		return 10, int32(parsed), DecimalExponent, true
	}
	return 0, 0, "", false
}

// mul64 multiplies, reporting overflow.
func mul64(a, b int64) (int64, bool) {
	if a == 0 || b == 0 || a == 1 || b == 1 {
		return a * b, true
	}
	if a == -1<<63 || b == -1<<63 {
		return 0, false
	}
	c := a * b
	return c, c/b == a
}

// decimal parses the numeric part as inf.v0's Dec.SetString does: every
// digit (and the sign) goes into the unscaled integer, parsed by
// big.Int.SetString, and the scale counts the digits after the point.
func decimal(value string) (*big.Int, int32, bool) {
	digits := make([]byte, 0, len(value))
	point, seenDigit := -1, false
	for i := 0; i < len(value); i++ {
		c := value[i]
		switch {
		case c == '+' || c == '-':
			if len(digits) > 0 || point >= 0 {
				return nil, 0, false
			}
		case c == '.':
			if point >= 0 {
				return nil, 0, false
			}
			point = len(digits)
			continue
		case isDigit(c):
			seenDigit = true
		default:
			return nil, 0, false
		}
		digits = append(digits, c)
	}
	if !seenDigit {
		return nil, 0, false
	}
	scale := int32(0)
	if point >= 0 {
		scale = int32(len(digits) - point)
	}
	n, ok := new(big.Int).SetString(string(digits), 10)
	return n, scale, ok
}

// roundUp returns the unscaled value of x × 10^-scale at scale to,
// rounded away from zero (x is not negative here).
func roundUp(x *big.Int, scale, to int32) *big.Int {
	if scale <= to {
		return new(big.Int).Mul(x, pow10(to-scale))
	}
	q, r := new(big.Int).QuoRem(x, pow10(scale-to), new(big.Int))
	if r.Sign() != 0 {
		q.Add(q, big.NewInt(1))
	}
	return q
}

// cmp compares a × 10^-as with b × 10^-bs.
func cmp(a *big.Int, as int32, b *big.Int, bs int32) int {
	if as > bs {
		return a.Cmp(new(big.Int).Mul(b, pow10(as-bs)))
	}
	return new(big.Int).Mul(a, pow10(bs-as)).Cmp(b)
}

func pow10(n int32) *big.Int {
	return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil)
}
