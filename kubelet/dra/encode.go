package dra

import (
	"hash/crc32"
	"slices"
	"sync"

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
	out := make([]byte, 0, len(`{"Data":,"Checksum":4294967295}`)+canonjson.QuotedLen(inner))
	out = append(out, `{"Data":`...)
	out = canonjson.AppendString(out, inner)
	out = append(out, `,"Checksum":`...)
	out = canonjson.AppendUint(out, uint64(crc32.ChecksumIEEE(inner)))
	out = append(out, '}')
	if cap(inner) <= maxPooled {
		*bp = inner[:0]
		innerBufs.Put(bp)
	}
	return out
}

// appendCheckpointData appends json.Marshal(cd); keys is scratch for
// sorting map keys.
func appendCheckpointData(b []byte, cd *CheckpointData, keys *[]string) []byte {
	b = append(b, '{')
	comma := false
	if cd.Kind != "" {
		b = append(b, `"kind":`...)
		b = canonjson.AppendString(b, cd.Kind)
		comma = true
	}
	if cd.APIVersion != "" {
		if comma {
			b = append(b, ',')
		}
		b = append(b, `"apiVersion":`...)
		b = canonjson.AppendString(b, cd.APIVersion)
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
	b = canonjson.AppendString(b, ci.ClaimUID)
	b = append(b, `,"ClaimName":`...)
	b = canonjson.AppendString(b, ci.ClaimName)
	b = append(b, `,"Namespace":`...)
	b = canonjson.AppendString(b, ci.Namespace)
	b = append(b, `,"PodUIDs":`...)
	if ci.PodUIDs == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '{')
		for i, k := range sortKeys(ci.PodUIDs, keys) {
			if i > 0 {
				b = append(b, ',')
			}
			b = canonjson.AppendString(b, k)
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
			b = canonjson.AppendString(b, k)
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
	b = canonjson.AppendString(b, dev.PoolName)
	b = append(b, `,"DeviceName":`...)
	b = canonjson.AppendString(b, dev.DeviceName)
	b = append(b, `,"ShareID":`...)
	if dev.ShareID == nil {
		b = append(b, "null"...)
	} else {
		b = canonjson.AppendString(b, *dev.ShareID)
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
		b = canonjson.AppendString(b, v)
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
