// Package cpumanager reads, verifies and writes kubelet's CPU manager
// checkpoint, cpu_manager_state, in every layout kubelet has written.
//
// The layouts (FORMATS.md §3.1), with the Format names Examine reports:
//
//	v1  kubelet <= 1.17: entries container ID -> cpuset; one spew checksum
//	v2  kubelet 1.18-1.36: entries pod -> container -> cpuset; one spew checksum
//	v3  kubelet 1.36 with PodLevelResourceManagers: v2 + podEntries
//	v4  kubelet 1.37: the v2 block (for 1.35/1.36 readers) + a JSON data
//	    string + dataChecksum over that string
//	file-backend  the pre-1.18 file backend: a v1 or v2 layout without a
//	    checksum key (Description says which layout)
//
// Examine recognises each layout and each checksum variant kubelet accepts
// (the type-name replacements of §3.1), checks every checksum a file
// carries, and reports which kubelet versions read what it found. Encode
// writes v4 byte for byte as kubelet v1.37.2 does.
//
// Verdicts follow these rules, in order:
//
//  1. Bytes that are not one JSON object of a cpu manager layout, a v4 data
//     string that is not JSON, and a pod-level cpuset that does not parse
//     are invalid (kubelet fails while decoding).
//  2. A checksum that does not match makes the file corrupt. In v4 both
//     checksums count: kubelet 1.37 reads data, but 1.35 and 1.36 read the
//     embedded v2 block, so a bad legacy checksum is corrupt too
//     (ErrLegacyChecksum).
//  3. A stored checksum of 0 in the v1/v2 layouts is not checked by any
//     kubelet (the pre-1.18 file backend wrote none): unverified, unless the
//     file has pod-level entries that the bypass would silently drop
//     (corrupt, ErrZeroChecksum). A v4 legacy checksum of 0 is likewise
//     skipped by 1.35/1.36 (that checksum is Unverified; the verdict then
//     follows dataChecksum).
//  4. A cpuset kubelet will restore (default set, container entries,
//     baselines) that does not parse is invalid (ErrCPUSet): the checksums
//     hold, but kubelet refuses to start with it.
//  5. Otherwise the file is valid. Semantic findings (CPUs assigned twice,
//     CPUs in neither the default set nor any assignment) are Notes and do
//     not change the verdict.
package cpumanager

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
)

// The Format names Examine reports.
const (
	FormatV1 = "v1"
	FormatV2 = "v2"
	FormatV3 = "v3"
	FormatV4 = "v4"
	// FormatFileBackend is a file without a checksum key, as the pre-1.18
	// file backend wrote it, in the v1 or v2 layout.
	FormatFileBackend = "file-backend"
)

// Errors wrapped by check.Result.Err (besides check.ErrInvalid and
// check.ErrCorrupt, which every failure wraps), for errors.Is.
var (
	// ErrLegacyChecksum: a v4 file's embedded v2 block fails its checksum,
	// so kubelet 1.35 and 1.36 report the checkpoint corrupted.
	ErrLegacyChecksum = errors.New("checksum of the embedded V2 block")
	// ErrDataChecksum: a v4 file's dataChecksum does not match its data.
	ErrDataChecksum = errors.New("dataChecksum of the data string")
	// ErrChecksum: a v1, v2 or v3 file's checksum matches no variant.
	ErrChecksum = errors.New("no checksum variant matches")
	// ErrZeroChecksum: checksum 0 where it hides data loss (pod-level
	// entries that the v2 zero-checksum bypass drops).
	ErrZeroChecksum = errors.New("checksum 0 would drop pod-level entries")
	// ErrPolicy: the file's policy name is neither "none" nor "static".
	ErrPolicy = errors.New("unknown CPU manager policy")
	// ErrCPUSet: a cpuset in the file does not parse.
	ErrCPUSet = errors.New("unparsable cpuset")
	// ErrV1Layout: Decode was given a v1 file, whose entries are keyed by
	// container ID and need a migration kubelet 1.37 no longer does.
	ErrV1Layout = errors.New("v1 layout (entries by container ID)")
)

// Sniff reports whether data looks like a cpu manager checkpoint: a JSON
// object with a "defaultCpuSet" key (matched case-insensitively, as Go's
// encoding/json matches it). It reads top-level keys only and never panics;
// it says nothing about whether the file verifies.
func Sniff(data []byte) bool {
	return hasTopKey(data, "defaultCpuSet")
}

// hasTopKey scans the top-level keys of a JSON object until it finds key or
// the bytes stop making sense.
func hasTopKey(data []byte, key string) bool {
	dec := json.NewDecoder(bytes.NewReader(data))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return false
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return false
		}
		k, ok := t.(string)
		if !ok {
			return false
		}
		if strings.EqualFold(k, key) {
			return true
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return false
		}
	}
	return false
}
