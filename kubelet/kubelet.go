// Package kubelet recognises, decodes and verifies every checkpoint file
// kubelet has written, in every format version, behind one face: Examine
// for bytes, ExamineFile for a file, and ScanDir for a kubelet root
// directory.
//
// Each kind of file has its own package (cpumanager, memorymanager,
// devicemanager, dra, allocation, dockershim, example) that owns its types,
// its version ladder and its checksum rules; this package only decides which
// of them a file belongs to. It never prints and never exits.
package kubelet

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/ckptkit/ckpt/kubelet/allocation"
	"github.com/ckptkit/ckpt/kubelet/check"
	"github.com/ckptkit/ckpt/kubelet/cpumanager"
	"github.com/ckptkit/ckpt/kubelet/devicemanager"
	"github.com/ckptkit/ckpt/kubelet/dockershim"
	"github.com/ckptkit/ckpt/kubelet/dra"
	"github.com/ckptkit/ckpt/kubelet/example"
	"github.com/ckptkit/ckpt/kubelet/memorymanager"
)

// Format describes one kind of kubelet checkpoint file and how to read it.
type Format struct {
	// Kind is the owning component.
	Kind check.Kind
	// FileNames are the names kubelet gives files of this kind.
	FileNames []string
	// Sniff reports whether bytes look like this kind.
	Sniff func([]byte) bool
	// Examine decodes and verifies bytes of this kind.
	Examine func([]byte) check.Result
	// hints are substrings (lower case) that point at this kind when the
	// bytes are too damaged to sniff.
	hints []string
}

// Formats lists every kind ckpt knows, in the order in which unnamed files
// are sniffed. The order matters where shapes are close: the more specific
// shape comes first.
var Formats = []Format{
	{Kind: check.KindCPU, FileNames: []string{"cpu_manager_state"}, Sniff: cpumanager.Sniff, Examine: cpumanager.Examine,
		hints: []string{`"defaultcpuset"`}},
	{Kind: check.KindMemory, FileNames: []string{"memory_manager_state"}, Sniff: memorymanager.Sniff, Examine: memorymanager.Examine,
		hints: []string{`"machinestate"`}},
	{Kind: check.KindDevice, FileNames: []string{"kubelet_internal_checkpoint"}, Sniff: devicemanager.Sniff, Examine: devicemanager.Examine,
		hints: []string{`"poddeviceentries"`, `"registereddevices"`}},
	{Kind: check.KindDRA, FileNames: []string{"dra_manager_state"}, Sniff: dra.Sniff, Examine: dra.Examine,
		hints: []string{`claiminfostatelist`, `dracheckpoint`, `"claimuid"`}},
	{Kind: check.KindAllocation, FileNames: []string{"allocated_pods_state", "actuated_pods_state", "pod_status_manager_state"},
		Sniff: allocation.Sniff, Examine: allocation.Examine, hints: []string{`allocationentries`, `containerresources`}},
	{Kind: check.KindDockershim, Sniff: dockershim.Sniff, Examine: dockershim.Examine,
		hints: []string{`port_mappings`}},
	{Kind: check.KindExample, Sniff: example.Sniff, Examine: example.Examine},
}

// FormatOf returns the Format of kind k.
func FormatOf(k check.Kind) (Format, bool) {
	for _, f := range Formats {
		if f.Kind == k {
			return f, true
		}
	}
	return Format{}, false
}

// KindFromPath guesses the kind of a checkpoint from its path alone: the
// file names kubelet uses (a name may carry a suffix after a dot, as in
// "cpu_manager_state.bak"), a dockershim "sandbox" directory, or a parent
// directory named after a kind. It returns KindUnknown when the path says
// nothing.
func KindFromPath(path string) check.Kind {
	if k := kindFromName(filepath.Base(path)); k != check.KindUnknown {
		return k
	}
	parent := filepath.Base(filepath.Dir(path))
	switch parent {
	case "sandbox":
		return check.KindDockershim
	case "device-plugins":
		return check.KindDevice
	}
	for _, f := range Formats {
		if string(f.Kind) == parent {
			return f.Kind
		}
	}
	return check.KindUnknown
}

// kindFromName returns the kind kubelet's file name base belongs to.
func kindFromName(base string) check.Kind {
	for _, f := range Formats {
		for _, n := range f.FileNames {
			if base == n || strings.HasPrefix(base, n+".") {
				return f.Kind
			}
		}
	}
	return check.KindUnknown
}

// Detect returns the kind of a checkpoint from its bytes, using path as a
// hint: the kind the path suggests wins when the bytes also fit it or are too
// damaged to tell; otherwise the first kind whose shape the bytes have. It
// returns KindUnknown for bytes that are no kubelet checkpoint.
func Detect(path string, data []byte) check.Kind {
	hint := KindFromPath(path)
	if hint != check.KindUnknown {
		if f, _ := FormatOf(hint); f.Sniff(data) {
			return hint
		}
	}
	for _, f := range Formats {
		if f.Sniff(data) {
			return f.Kind
		}
	}
	if hint != check.KindUnknown {
		return hint
	}
	lower := bytes.ToLower(data)
	for _, f := range Formats {
		for _, h := range f.hints {
			if bytes.Contains(lower, []byte(h)) {
				return f.Kind
			}
		}
	}
	return check.KindUnknown
}

// Examine detects the kind of data (path is a hint, see Detect), decodes it
// and verifies every checksum it carries. A file that is no kubelet
// checkpoint gets the verdict Unknown and an error wrapping
// check.ErrUnknown.
func Examine(path string, data []byte) check.Result {
	kind := Detect(path, data)
	f, ok := FormatOf(kind)
	if !ok {
		return unknownResult(data)
	}
	r := f.Examine(data)
	base := filepath.Base(path)
	switch hint := KindFromPath(path); {
	case hint == check.KindUnknown || hint == r.Kind:
	case kindFromName(base) == hint && (r.Verdict == check.Valid || r.Verdict == check.Unverified):
		// Kubelet reads a file by its name: content of another kind under
		// that name fails to load, however intact it is.
		r.Verdict = check.Invalid
		r.Err = fmt.Errorf("%w: kubelet reads %s as a %s checkpoint, but the content is a %s checkpoint (format %s)",
			check.ErrInvalid, base, hint, r.Kind, r.Format)
	default:
		r.Notes = append(r.Notes, "the path suggests a "+string(hint)+" checkpoint, but the content is a "+string(r.Kind)+" checkpoint")
	}
	return r
}

func unknownResult(data []byte) check.Result {
	r := check.Result{Kind: check.KindUnknown, Format: "unknown", Verdict: check.Unknown, Checksums: []check.Checksum{}}
	var probe any
	if err := check.DecodeJSON("file", data, &probe); err != nil {
		// Keep the diagnosis ("empty file (0 bytes)"), which helps a person,
		// but only as text: the file is unknown, not an invalid checkpoint.
		r.Err = fmt.Errorf("%w (%s)", check.ErrUnknown, err.Error())
		return r
	}
	r.Err = fmt.Errorf("%w: JSON without the shape of any kubelet checkpoint", check.ErrUnknown)
	return r
}
