package compat

import (
	"fmt"
	"slices"
	"strings"

	"github.com/ckptkit/ckpt/kubelet/check"
	"github.com/ckptkit/ckpt/kubelet/dra"
)

const draExit = "a kubelet (with DynamicResourceAllocation on) that rejects this file exits at start (\"create ResourceClaim cache: GetOrCreate() on " +
	"checkpoint state: failed to get checkpoint dra_manager_state: checkpoint is corrupted\")"

// draShapeReaders says which versions accept each legacy shape: the
// 1.27 shape without resource handles (also through the 1.28-1.30
// fallback), the 1.28/1.29 ResourceHandle and the 1.30 one.
func draShapeAccepted(shape string, v Version) bool {
	switch shape {
	case dra.FormatFNVNoHandles:
		return v.Minor >= 27 && v.Minor <= 30
	case dra.FormatFNV129:
		return v.Minor >= 28 && v.Minor <= 29
	case dra.FormatFNV130:
		return v.Minor == 30
	}
	return false // the never-released master layout
}

// draLadder returns the ladder for dra_manager_state.
func draLadder(res check.Result, data []byte) ladder {
	gate := func(v Version, on bool) (Cell, bool) {
		switch {
		case v.Minor <= 26:
			return notRead("no DRA checkpoint before kubelet 1.27"), true // the gate exists from 1.26 but reads nothing there
		case !on:
			return notRead("DynamicResourceAllocation is off: the DRA manager does not run and ignores the file"), true
		}
		return Cell{}, false
	}
	if res.Format == dra.FormatCRC32 {
		ok := res.Verdict == check.Valid || res.Verdict == check.Unverified
		reason := msgCorrupted
		if res.Err != nil {
			reason = res.Err.Error()
		}
		c, _ := res.Content.(*dra.Content)
		shareIDs, skipOps := draNewFields(c)
		return func(v Version, on bool) Cell {
			if cell, done := gate(v, on); done {
				return cell
			}
			if v.Minor <= 30 {
				return reject(msgCorrupted+" (kubelet <= 1.30 reads only the legacy fnv format; this is the 1.31+ crc32 format)", true)
			}
			if !ok {
				return reject(reason, true)
			}
			var lost []string
			if v.Minor <= 33 && len(shareIDs) > 0 {
				lost = append(lost, "ShareID of devices "+listSome(shareIDs)+" (unknown before 1.34)")
			}
			if v.Minor <= 36 && len(skipOps) > 0 {
				lost = append(lost, "skipNodeOperations of "+listSome(skipOps)+" (unknown before 1.37)")
			}
			return acceptLoss("crc32 format", lost)
		}
	}
	shapes := dra.LegacyShapes(data)
	reason := "no known legacy shape verifies"
	if res.Err != nil {
		reason = res.Err.Error()
	}
	return func(v Version, on bool) Cell {
		if cell, done := gate(v, on); done {
			return cell
		}
		if v.Minor >= 31 {
			return reject(msgCorrupted+" (kubelet 1.31+ reads the legacy file as an empty Data string and fails the crc32 check; "+
				"there is no migration, kubernetes#127653)", true)
		}
		for _, s := range shapes {
			if draShapeAccepted(s, v) {
				return accept("legacy " + s + " shape")
			}
		}
		if len(shapes) > 0 {
			return reject(fmt.Sprintf("%s (the checksum verifies only with the %s shape, which this version does not hash)",
				msgCorrupted, strings.Join(shapes, ", ")), true)
		}
		return reject(reason, true)
	}
}

// draNewFields lists devices with a ShareID and drivers with
// skipNodeOperations, which older 1.31+ readers drop.
func draNewFields(c *dra.Content) (shareIDs, skipOps []string) {
	if c == nil {
		return nil, nil
	}
	for _, cl := range c.Claims {
		for _, d := range cl.Drivers {
			for _, dev := range d.Devices {
				if dev.ShareID != "" {
					shareIDs = append(shareIDs, cl.Namespace+"/"+cl.Name+":"+dev.Pool+"/"+dev.Device)
				}
			}
			if len(d.SkipNodeOperations) > 0 {
				skipOps = append(skipOps, cl.Namespace+"/"+cl.Name+":"+d.Driver)
			}
		}
	}
	slices.Sort(shareIDs)
	slices.Sort(skipOps)
	return shareIDs, skipOps
}
