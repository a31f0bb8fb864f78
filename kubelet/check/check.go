// Package check holds the vocabulary shared by every kubelet format package:
// the kind of a checkpoint file, the verdict on it, the checksums it carries
// and the result of examining it. It knows no format itself.
//
// A format package (kubelet/cpumanager, kubelet/dra, ...) exposes
//
//	func Sniff(data []byte) bool        // do these bytes look like my kind?
//	func Examine(data []byte) check.Result // decode + verify every checksum
//
// and kubelet ties them together behind one Detect/Examine face.
package check

import "errors"

// Kind names the kubelet component that owns a checkpoint file.
type Kind string

// The kinds of checkpoint file ckpt knows.
const (
	KindCPU        Kind = "cpumanager"
	KindMemory     Kind = "memorymanager"
	KindDevice     Kind = "devicemanager"
	KindDRA        Kind = "dra"
	KindAllocation Kind = "allocation"
	KindDockershim Kind = "dockershim"
	KindExample    Kind = "example"
	KindUnknown    Kind = "unknown"
)

// Verdict is the outcome of examining one file.
type Verdict string

// The verdicts, from best to worst.
const (
	// Valid: the file decodes and every checksum it carries verifies.
	Valid Verdict = "valid"
	// Unverified: the file decodes but carries no checksum that can be checked
	// (for example a stored checksum of 0 where the format tolerates it).
	Unverified Verdict = "unverified"
	// Corrupt: the file decodes but a checksum does not match.
	Corrupt Verdict = "corrupt"
	// Invalid: the file cannot be decoded as a checkpoint of its kind.
	Invalid Verdict = "invalid"
	// Unknown: the file is not a kubelet checkpoint.
	Unknown Verdict = "unknown"
)

// Sentinel errors carried (wrapped) by Result.Err, so callers can test the
// class of a failure with errors.Is.
var (
	// ErrInvalid marks a file that cannot be decoded as its kind.
	ErrInvalid = errors.New("invalid checkpoint")
	// ErrCorrupt marks a file whose checksum does not match its content.
	ErrCorrupt = errors.New("checksum mismatch")
	// ErrUnknown marks bytes that are not a known kubelet checkpoint.
	ErrUnknown = errors.New("not a kubelet checkpoint")
)

// Checksum is one checksum a file carries, and what examining it found.
type Checksum struct {
	// Field is the JSON field that stores the checksum ("checksum",
	// "dataChecksum", "Checksum").
	Field string `json:"field"`
	// Rule names the rule the computed value follows, e.g.
	// "fnv32a(spew *state.CPUManagerCheckpoint V2)" or "crc32(Data)".
	Rule string `json:"rule"`
	// Stored is the value in the file.
	Stored uint64 `json:"stored"`
	// Computed is the value recomputed from the content under Rule.
	Computed uint64 `json:"computed"`
	// OK reports Stored == Computed (false when Unverified).
	OK bool `json:"ok"`
	// Unverified is set when the stored value is 0 and the format tolerates
	// that: the checksum was not checked, and does not count as valid.
	Unverified bool `json:"unverified,omitempty"`
	// Note explains anything unusual (which historical shape verified, why a
	// check was skipped).
	Note string `json:"note,omitempty"`
	// HashedText is the exact text that was hashed for Computed, where the
	// rule hashes a text (spew formats); shown when the checksum fails.
	HashedText string `json:"hashedText,omitempty"`
}

// Table is a titled grid of strings for people to read (ckpt inspect).
type Table struct {
	Title  string     `json:"title"`
	Header []string   `json:"header"`
	Rows   [][]string `json:"rows"`
}

// Result is everything examining one checkpoint file found.
type Result struct {
	// Kind is the owning component (KindUnknown when not recognised).
	Kind Kind `json:"kind"`
	// Format is a short stable name of the on-disk format version, e.g.
	// "v2", "v4", "pre-1.20", "fnv-1.30", "crc32".
	Format string `json:"format"`
	// Description says in words what the format is and who wrote it, e.g.
	// "cpu manager V2 (kubelet 1.18-1.36)".
	Description string `json:"description,omitempty"`
	// Verdict is the outcome.
	Verdict Verdict `json:"verdict"`
	// Checksums lists every checksum the file carries, in file order.
	Checksums []Checksum `json:"checksums"`
	// Err is nil for Valid and Unverified; otherwise it explains the failure
	// and wraps ErrInvalid, ErrCorrupt or ErrUnknown (and any DecodeError).
	Err error `json:"-"`
	// Notes are informational findings that do not change the verdict.
	Notes []string `json:"notes,omitempty"`
	// Content is the decoded state, normalized for JSON output with stable
	// field names (nil when the file could not be decoded).
	Content any `json:"content,omitempty"`
	// Tables render Content for people.
	Tables []Table `json:"tables,omitempty"`
}
