// Package dra reads, verifies and writes kubelet's DRA manager checkpoint,
// dra_manager_state (FORMATS.md §3.4), in every format it has had:
//
//   - "crc32" (kubelet 1.31 and later): {"Data":"<json>","Checksum":N} with N
//     the crc32-IEEE of the Data bytes; kind and apiVersion inside Data are
//     not checked by kubelet.
//   - the legacy fnv struct hash (kubelet 1.27-1.30), whose checksum covers a
//     dump of kubelet's Go types and so changed whenever those types did.
//     Examine tries every known shape and reports the one that verifies:
//     "fnv-1.30" (ResourceHandle with StructuredData), "fnv-1.29"
//     (ResourceHandle{DriverName, Data}), "fnv-pre-resourcehandles" (the
//     oldest, verified by 1.28-1.30 through a fallback) and
//     "fnv-driverstate" (a DriverState layout master had briefly).
//
// Kubelet 1.31+ cannot read legacy files and kubelet <=1.30 cannot read
// crc32 files; Examine says so in its notes. Decode and Encode handle the
// current format, byte-exact with kubelet v1.37.2.
package dra

import (
	"fmt"
	"strings"

	"github.com/ckptkit/ckpt/kubelet/check"
)

// FileName is the name kubelet gives the checkpoint, in its root directory.
const FileName = "dra_manager_state"

// The format names Examine reports in check.Result.Format.
const (
	// FormatCRC32 is the format of kubelet 1.31 and later.
	FormatCRC32 = "crc32"
	// FormatFNV130 is the legacy format in kubelet 1.30's shape.
	FormatFNV130 = "fnv-1.30"
	// FormatFNV129 is the legacy format in kubelet 1.29's shape.
	FormatFNV129 = "fnv-1.29"
	// FormatFNVNoHandles is the oldest legacy shape, without ResourceHandles.
	FormatFNVNoHandles = "fnv-pre-resourcehandles"
	// FormatFNVMaster is the never-released DriverState layout of July 2024.
	FormatFNVMaster = "fnv-driverstate"
)

const (
	what      = "DRA manager checkpoint"
	ruleCRC32 = "crc32-IEEE(Data)"
)

// Sniff reports whether data looks like a DRA checkpoint. The rules:
//
//   - current: a "Data" member spelled exactly so whose value is a string
//     that names the DRACheckpoint kind or a ClaimInfoStateList (or, cut
//     short, starts like one). Exact case and the inner names tell it apart
//     from the allocation checkpoint ({"data":"{\"entries\"..."}).
//   - legacy: "version" and either "entries" or "checksum" members (any
//     case), and no "name", "namespace" or "data" members (which the
//     dockershim sandbox checkpoint has); entries, if present, is a list.
//
// Sniff is cheap and never panics.
func Sniff(data []byte) bool {
	ms := check.ScanObject(data)
	for _, m := range ms {
		if m.Key == "Data" && m.First == '"' {
			return containsFold(m.Raw, "DRACheckpoint") || containsFold(m.Raw, "ClaimInfoStateList") ||
				containsFold(m.Raw, "dra.kubelet.k8s.io")
		}
	}
	_, version := check.Find(ms, "version")
	entries, hasEntries := check.Find(ms, "entries")
	_, hasChecksum := check.Find(ms, "checksum")
	if !version || !(hasEntries || hasChecksum) {
		return false
	}
	for _, k := range []string{"name", "namespace", "data", "policyName"} {
		if _, ok := check.Find(ms, k); ok {
			return false
		}
	}
	return !hasEntries || entries.First == '[' || entries.First == 'n' || entries.First == 0
}

// Examine decodes data as a DRA checkpoint, picks the era from its keys
// (legacy files have "version"/"entries" and no "Data"), verifies the
// checksum under every shape of that era and returns the complete result.
// It never panics.
func Examine(data []byte) (res check.Result) {
	defer func() {
		if r := recover(); r != nil {
			res = check.Result{Kind: check.KindDRA, Format: FormatCRC32, Verdict: check.Invalid, Checksums: []check.Checksum{},
				Err: fmt.Errorf("%w: %s: internal error while examining: %v", check.ErrInvalid, what, r)}
		}
	}()
	if isLegacy(data) {
		return examineLegacy(data)
	}
	return examineCRC32(data)
}

// isLegacy reports whether the top-level keys are those of the pre-1.31
// envelope. A file too damaged to show its keys counts as current.
func isLegacy(data []byte) bool {
	ms := check.ScanObject(data)
	if _, ok := check.Find(ms, "Data"); ok {
		return false
	}
	_, v := check.Find(ms, "version")
	_, e := check.Find(ms, "entries")
	return v || e
}

func corruptErr(format string, stored, computed uint64, rule string) error {
	return fmt.Errorf("%w: %s (%s): stored checksum %d but the content gives %d (rule %s)",
		check.ErrCorrupt, what, format, stored, computed, rule)
}

func equalFoldAny(s string, names ...string) bool {
	for _, n := range names {
		if strings.EqualFold(s, n) {
			return true
		}
	}
	return false
}
