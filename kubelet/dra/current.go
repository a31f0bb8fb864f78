package dra

import (
	"fmt"
	"hash/crc32"

	"github.com/ckptkit/ckpt/kubelet/check"
)

// The kind and apiVersion kubelet 1.31+ writes into the Data string. Kubelet
// does not check either when it reads.
const (
	CheckpointKind       = "DRACheckpoint"
	CheckpointAPIVersion = "checkpoint.dra.kubelet.k8s.io/v1"
)

// fileV1 is the 1.31+ file: no JSON tags, so the keys are "Data" and
// "Checksum"; Checksum is crc32-IEEE of the Data bytes.
type fileV1 struct {
	Data     string
	Checksum uint32
}

// CheckpointData is the content of the Data string of a 1.31+ checkpoint,
// kubelet's state.CheckpointData. Its field order and tags give kubelet's
// bytes: {"kind":...,"apiVersion":...,"ClaimInfoStateList":[...]}.
type CheckpointData struct {
	Kind               string           `json:"kind,omitempty"`
	APIVersion         string           `json:"apiVersion,omitempty"`
	ClaimInfoStateList []ClaimInfoState // nil is written as null, as kubelet does for no claims
}

// ClaimInfoState is one prepared ResourceClaim (kubelet 1.37 layout; files
// of 1.31-1.33 lack ShareID and of 1.31-1.36 lack skipNodeOperations, which
// decodes the same).
type ClaimInfoState struct {
	ClaimUID  string
	ClaimName string
	Namespace string
	// PodUIDs is the set of pods that use the claim, {"uid":{}} in JSON.
	PodUIDs     map[string]struct{}
	DriverState map[string]DriverState
}

// DriverState is what one DRA driver prepared for a claim.
type DriverState struct {
	Devices []Device
	// SkipNodeOperations (kubelet 1.37) lists node operations the driver
	// asked kubelet not to call.
	SkipNodeOperations []string `json:"skipNodeOperations,omitempty"`
}

// Device is one prepared device.
type Device struct {
	PoolName   string
	DeviceName string
	// ShareID (kubelet 1.34+) identifies a shared allocation; null if none.
	ShareID      *string
	RequestNames []string
	CDIDeviceIDs []string
}

// Decode decodes and verifies a current (1.31+) DRA checkpoint the way
// kubelet reads it: the crc32 of the Data string first, then the Data JSON.
// It returns a *check.DecodeError (check.ErrInvalid) when the file or its
// Data string cannot be decoded, and the decoded data (when Data decodes)
// with an error wrapping check.ErrCorrupt when the checksum does not match.
// Like kubelet, it does not check kind and apiVersion.
//
// A canonical file (what kubelet and Encode write) is read by a fast path
// without reflection (see decodeFast); anything else, and every error, goes
// through encoding/json.
func Decode(data []byte) (*CheckpointData, error) {
	if cd, ok := decodeFast(data); ok {
		return cd, nil
	}
	return decodeSlow(data)
}

// decodeSlow is Decode through encoding/json, the reference the fast path
// must agree with.
func decodeSlow(data []byte) (*CheckpointData, error) {
	var f fileV1
	if err := check.DecodeJSON(what, data, &f); err != nil {
		return nil, err
	}
	got := crc32.ChecksumIEEE([]byte(f.Data))
	cd, derr := decodeData(f.Data)
	if got != f.Checksum {
		return cd, corruptErr(FormatCRC32, uint64(f.Checksum), uint64(got), ruleCRC32)
	}
	if derr != nil {
		return nil, derr
	}
	return cd, nil
}

func decodeData(s string) (*CheckpointData, error) {
	var cd CheckpointData
	if err := check.DecodeJSON("DRA checkpoint Data string", []byte(s), &cd); err != nil {
		return nil, err
	}
	return &cd, nil
}

// Encode returns the bytes kubelet v1.37.2 writes for cd:
// {"Data":"<json of cd>","Checksum":<crc32 of it>}, byte for byte what
// encoding/json.Marshal gives (see encode.go). Empty Kind and APIVersion
// are filled with kubelet's values. The error is always nil; it is kept
// for the API.
func Encode(cd CheckpointData) ([]byte, error) {
	if cd.Kind == "" {
		cd.Kind = CheckpointKind
	}
	if cd.APIVersion == "" {
		cd.APIVersion = CheckpointAPIVersion
	}
	return encodeFile(&cd), nil
}

// examineCRC32 examines a file of the 1.31+ format.
func examineCRC32(data []byte) check.Result {
	res := check.Result{Kind: check.KindDRA, Format: FormatCRC32, Checksums: []check.Checksum{},
		Description: "DRA manager checkpoint, crc32 over the Data string (written and read by kubelet 1.31 and later; " +
			"not readable by kubelet <=1.30)"}
	var f fileV1
	if err := check.DecodeJSON(what, data, &f); err != nil {
		res.Verdict, res.Err = check.Invalid, err
		return res
	}
	got := crc32.ChecksumIEEE([]byte(f.Data))
	cs := check.Checksum{Field: "Checksum", Rule: ruleCRC32, Stored: uint64(f.Checksum), Computed: uint64(got),
		OK: got == f.Checksum}
	if !cs.OK {
		// What was hashed: the bytes of the Data string, as the other
		// formats show their hashed text.
		cs.HashedText = f.Data
	}
	res.Checksums = append(res.Checksums, cs)
	cd, derr := decodeData(f.Data)
	if f.Data == "" {
		// Not a file emptied by a crash (that fails above): the document
		// has no Data, or Data is null or "", as in a file holding only
		// "null" or "{}". Kubelet's crc32 of nothing is 0 and matches; the
		// decode of the empty Data then fails.
		derr = check.ContentError(what, "the Data string is empty: the document has no Data member (or it is null or \"\"), which kubelet cannot decode")
	}
	if cd != nil {
		c := contentCRC32(cd)
		res.Content, res.Tables = c, tables(c)
		res.Notes = append(res.Notes, dataNotes(f.Data, cd)...)
		res.Notes = append(res.Notes, summary(c))
	}
	switch {
	case !cs.OK:
		res.Verdict = check.Corrupt
		res.Err = corruptErr(FormatCRC32, cs.Stored, cs.Computed, ruleCRC32)
		if derr != nil {
			res.Notes = append(res.Notes, "the Data string does not decode either: "+derr.Error())
		}
	case derr != nil:
		res.Verdict, res.Err = check.Invalid, derr
	default:
		res.Verdict = check.Valid
	}
	return res
}

// dataNotes reports what kubelet silently ignores in a Data string: a kind
// or apiVersion other than its own, and keys it does not know (which drop
// their content, e.g. claims under "Entries" instead of
// "ClaimInfoStateList").
func dataNotes(s string, cd *CheckpointData) []string {
	var notes []string
	if cd.Kind != CheckpointKind || cd.APIVersion != CheckpointAPIVersion {
		notes = append(notes, fmt.Sprintf("kind %q, apiVersion %q: kubelet writes %q, %q but does not check them when reading, "+
			"so this file loads", cd.Kind, cd.APIVersion, CheckpointKind, CheckpointAPIVersion))
	}
	for _, m := range check.ScanObject([]byte(s)) {
		if !equalFoldAny(m.Key, "kind", "apiVersion", "ClaimInfoStateList") {
			notes = append(notes, fmt.Sprintf("unknown key %q in the Data string: kubelet ignores it and its content", m.Key))
		}
	}
	return notes
}
