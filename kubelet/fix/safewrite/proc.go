package safewrite

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// KubeletPIDs returns the IDs of the kubelet processes found under procRoot
// (empty means /proc), sorted. A process is kubelet when its comm is
// "kubelet", or when its command line runs a program named kubelet (also
// as "hyperkube kubelet"). Processes that vanish while scanning are
// skipped. When procRoot cannot be listed the error wraps
// ErrProcUnavailable.
func KubeletPIDs(procRoot string) ([]int, error) {
	if procRoot == "" {
		procRoot = "/proc"
	}
	entries, err := os.ReadDir(procRoot)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrProcUnavailable, err)
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid <= 0 {
			continue
		}
		if isKubelet(filepath.Join(procRoot, e.Name())) {
			pids = append(pids, pid)
		}
	}
	sort.Ints(pids)
	return pids, nil
}

// isKubelet reports whether the process directory dir is a kubelet.
func isKubelet(dir string) bool {
	if comm, err := os.ReadFile(filepath.Join(dir, "comm")); err == nil {
		switch strings.TrimSpace(string(comm)) {
		case "kubelet", "kubelite", "k3s-server", "k3s-agent":
			// kubelite is MicroK8s' single binary; k3s runs kubelet
			// inside "k3s server" and "k3s agent", which rename their
			// process to these names.
			return true
		}
	}
	cmdline, err := os.ReadFile(filepath.Join(dir, "cmdline"))
	if err != nil || len(cmdline) == 0 {
		return false
	}
	args := bytes.Split(bytes.TrimRight(cmdline, "\x00"), []byte{0})
	switch filepath.Base(string(args[0])) {
	case "kubelet", "kubelite":
		return true
	case "hyperkube":
		return len(args) > 1 && string(args[1]) == "kubelet"
	case "k3s":
		return len(args) > 1 && (string(args[1]) == "server" || string(args[1]) == "agent")
	}
	return false
}
