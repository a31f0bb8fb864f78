package dra

import (
	"bytes"
	"hash/crc32"
	"slices"
	"sync"
	"unicode/utf8"

	"github.com/ckptkit/ckpt/kubelet/internal/canonjson"
)

// Encode writes by hand the bytes encoding/json.Marshal writes for
// CheckpointData and then for fileV1, without reflection: struct fields in
// declaration order, omitempty honoured, map keys sorted byte-wise, nil
// maps, slices and pointers as null, strings escaped by
// canonjson.AppendString (byte-exact with Marshal). The round-trip tests
// on kubelet-generated files and TestEncodeMatchesMarshal hold it to that.

// innerBufs holds buffers for the Data JSON, which is only needed until it
// has been quoted into the output.
var innerBufs = sync.Pool{New: func() any { return new([]byte) }}

// encodeFile returns the file for cd (with Kind and APIVersion as given).
func encodeFile(cd *CheckpointData) []byte {
	bp := innerBufs.Get().(*[]byte)
	var keys []string
	inner := appendCheckpointData((*bp)[:0], cd, &keys)
	out := make([]byte, 0, len(`{"Data":,"Checksum":4294967295}`)+quotedLen(inner))
	out = append(out, `{"Data":`...)
	out = appendQuoted(out, inner)
	out = append(out, `,"Checksum":`...)
	out = canonjson.AppendUint(out, uint64(crc32.ChecksumIEEE(inner)))
	out = append(out, '}')
	if cap(inner) <= maxPooled {
		*bp = inner[:0]
		innerBufs.Put(bp)
	}
	return out
}

// quoteClass tells, for each byte, how many bytes Marshal adds when it
// quotes it: 0 for a byte written as is, 1 for '"' and '\\' (a backslash
// before), 5 for '<', '>' and '&' (\u003c and so on), and quoteSlow for
// control characters and non-ASCII bytes, which appendQuoted leaves to
// canonjson.AppendString.
var quoteClass = func() (t [256]uint8) {
	for c := range 256 {
		switch {
		case c == '"' || c == '\\':
			t[c] = 1
		case c == '<' || c == '>' || c == '&':
			t[c] = 5
		case c < 0x20 || c >= utf8.RuneSelf:
			t[c] = quoteSlow
		}
	}
	return t
}()

const quoteSlow = 255

// quotedLen returns the length of appendQuoted(nil, s) when s has no byte
// of class quoteSlow (and a lower bound when it has), from bytes.Count,
// which is much faster than a loop over the classes.
func quotedLen(s []byte) int {
	return len(s) + 2 + bytes.Count(s, []byte{'"'}) + bytes.Count(s, []byte{'\\'}) +
		5*(bytes.Count(s, []byte{'<'})+bytes.Count(s, []byte{'>'})+bytes.Count(s, []byte{'&'}))
}

// appendQuoted appends s quoted as Marshal quotes a string, like
// canonjson.AppendString but faster on the ASCII text of a JSON document
// (the Data string): it writes into room made beforehand, and leaves any
// s with a control character or a non-ASCII byte to AppendString.
func appendQuoted(dst, s []byte) []byte {
	start := len(dst)
	n := quotedLen(s)
	dst = slices.Grow(dst, n)[:start+n]
	out := dst[start:]
	out[0] = '"'
	j := 1
	for _, c := range s {
		switch quoteClass[c] {
		case 0:
			out[j] = c
			j++
		case 1:
			out[j], out[j+1] = '\\', c
			j += 2
		case 5:
			const hex = "0123456789abcdef"
			out[j], out[j+1], out[j+2], out[j+3], out[j+4], out[j+5] = '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF]
			j += 6
		default:
			return canonjson.AppendString(dst[:start], s)
		}
	}
	out[j] = '"'
	return dst
}

// appendStr appends the string s quoted as Marshal quotes it: as is when
// no byte needs escaping (every key and value kubelet writes), else
// through canonjson.AppendString.
func appendStr(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if quoteClass[s[i]] != 0 {
			return canonjson.AppendString(b, s)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// appendCheckpointData appends json.Marshal(cd); keys is scratch for
// sorting map keys.
func appendCheckpointData(b []byte, cd *CheckpointData, keys *[]string) []byte {
	b = append(b, '{')
	comma := false
	if cd.Kind != "" {
		b = append(b, `"kind":`...)
		b = appendStr(b, cd.Kind)
		comma = true
	}
	if cd.APIVersion != "" {
		if comma {
			b = append(b, ',')
		}
		b = append(b, `"apiVersion":`...)
		b = appendStr(b, cd.APIVersion)
		comma = true
	}
	if comma {
		b = append(b, ',')
	}
	b = append(b, `"ClaimInfoStateList":`...)
	if cd.ClaimInfoStateList == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i := range cd.ClaimInfoStateList {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendClaim(b, &cd.ClaimInfoStateList[i], keys)
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

func appendClaim(b []byte, ci *ClaimInfoState, keys *[]string) []byte {
	b = append(b, `{"ClaimUID":`...)
	b = appendStr(b, ci.ClaimUID)
	b = append(b, `,"ClaimName":`...)
	b = appendStr(b, ci.ClaimName)
	b = append(b, `,"Namespace":`...)
	b = appendStr(b, ci.Namespace)
	b = append(b, `,"PodUIDs":`...)
	if ci.PodUIDs == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '{')
		for i, k := range sortKeys(ci.PodUIDs, keys) {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendStr(b, k)
			b = append(b, ":{}"...)
		}
		b = append(b, '}')
	}
	b = append(b, `,"DriverState":`...)
	if ci.DriverState == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '{')
		for i, k := range sortKeys(ci.DriverState, keys) {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendStr(b, k)
			b = append(b, ':')
			b = appendDriverState(b, ci.DriverState[k])
		}
		b = append(b, '}')
	}
	return append(b, '}')
}

func appendDriverState(b []byte, ds DriverState) []byte {
	b = append(b, `{"Devices":`...)
	if ds.Devices == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i := range ds.Devices {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendDevice(b, &ds.Devices[i])
		}
		b = append(b, ']')
	}
	if len(ds.SkipNodeOperations) > 0 {
		b = append(b, `,"skipNodeOperations":`...)
		b = appendStrings(b, ds.SkipNodeOperations)
	}
	return append(b, '}')
}

func appendDevice(b []byte, dev *Device) []byte {
	b = append(b, `{"PoolName":`...)
	b = appendStr(b, dev.PoolName)
	b = append(b, `,"DeviceName":`...)
	b = appendStr(b, dev.DeviceName)
	b = append(b, `,"ShareID":`...)
	if dev.ShareID == nil {
		b = append(b, "null"...)
	} else {
		b = appendStr(b, *dev.ShareID)
	}
	b = append(b, `,"RequestNames":`...)
	b = appendStrings(b, dev.RequestNames)
	b = append(b, `,"CDIDeviceIDs":`...)
	b = appendStrings(b, dev.CDIDeviceIDs)
	return append(b, '}')
}

// appendStrings appends a []string as Marshal writes it (nil as null).
func appendStrings(b []byte, s []string) []byte {
	if s == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, v := range s {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendStr(b, v)
	}
	return append(b, ']')
}

// sortKeys returns the keys of m in the order Marshal writes them, in the
// scratch *keys (valid until the next call).
func sortKeys[V any](m map[string]V, keys *[]string) []string {
	ks := (*keys)[:0]
	for k := range m {
		ks = append(ks, k)
	}
	if len(ks) > 1 {
		slices.Sort(ks)
	}
	*keys = ks
	return ks
}
