package migrate

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/ckptkit/ckpt/kubelet/allocation"
	"github.com/ckptkit/ckpt/kubelet/check"
	"github.com/ckptkit/ckpt/kubelet/compat"
)

func planAllocation(p *Plan, path string, data []byte, res check.Result, opts Options) ([]string, error) {
	v := opts.To
	if res.Format != allocation.FormatData133 || strings.HasPrefix(filepath.Base(path), allocation.StatusFileName) {
		return nil, fmt.Errorf("%w: pod_status_manager_state (%s) is not read by kubelet 1.33 and later, and its older "+
			"formats hold resource.Quantity internals that cannot be rebuilt; nothing reads a converted copy", ErrUnsupported, res.Format)
	}
	if v.Minor <= 32 {
		return nil, fmt.Errorf("%w: kubelet %s does not read %s (the file appeared in 1.33)", ErrUnsupported, v, filepath.Base(path))
	}
	if err := requireGate(p, compat.InPlacePodVerticalScaling, v, opts); err != nil {
		return nil, err
	}
	info, err := allocation.Decode(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSourceUnreadable, err)
	}
	p.To = allocation.FormatData133
	var lost []string
	for _, uid := range sortedKeys(info.Entries) {
		e := info.Entries[uid]
		if v.Minor <= 34 && e.PodLevelResources != nil {
			lost = append(lost, fmt.Sprintf("pod-level resources of pod %s (unknown before 1.35)", uid))
			e.PodLevelResources = nil
		}
		if v.Minor <= 36 && e.EmptyDirVolumeLimits != nil {
			if len(e.EmptyDirVolumeLimits) > 0 {
				lost = append(lost, fmt.Sprintf("emptyDir volume limits of pod %s (unknown before 1.37)", uid))
			}
			e.EmptyDirVolumeLimits = nil
		}
		info.Entries[uid] = e
	}
	p.Data, err = allocation.Encode(*info)
	return lost, err
}
