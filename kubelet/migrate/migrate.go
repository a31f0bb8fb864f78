// Package migrate rewrites a kubelet checkpoint in the newest format a
// given kubelet version reads, keeping its state, and optionally changes
// the CPU or memory manager policy recorded in it.
//
// Prepare computes a Plan and never writes: the caller shows the plan (a
// dry run) and writes Plan.Data through kubelet/fix/safewrite with
// Plan.Verify as the read-back check. The rules, in order:
//
//  1. The source must be readable: a corrupt or invalid file is refused
//     (ErrSourceUnreadable; see kubelet/repair).
//  2. The target format is the newest that the target kubelet reads with
//     the given feature gates (cpu: V1 <=1.17, V2 1.18-1.35, V2 or V3 1.36,
//     V4 1.37; memory: V1 1.21-1.35, V1 or V2 1.36, V3 1.37; device:
//     pre-1.20 <=1.19, v2 1.20+; DRA: crc32 1.31+; pod resources: 1.33+),
//     written with that version's checksum rule.
//  3. Information the target format cannot hold (pod-level entries for a
//     kubelet without them, baselines before 1.37, NUMA placement before
//     1.20, DRA ShareID before 1.34, ...) is listed, and the migration is
//     refused with a *LossError unless AllowLoss. Fields of an old format
//     that the new one has no place for at all (DRA resource handles,
//     driver and class names) are listed in Plan.Dropped.
//  4. Conversions that need facts the file lacks ask for them: container
//     IDs for cpu V1 (Options.Containers), a NUMA node for pre-1.20 device
//     entries (Options.NUMANode).
//  5. The result must be valid in the target format by our own Examine and
//     accepted, without loss, by the target kubelet per kubelet/compat
//     (Plan.Verify).
//
// Prepare never panics, never prints and never exits.
package migrate

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/ckptkit/ckpt/kubelet"
	"github.com/ckptkit/ckpt/kubelet/check"
	"github.com/ckptkit/ckpt/kubelet/compat"
	"github.com/ckptkit/ckpt/kubelet/repair"
)

// Options says what to migrate to.
type Options struct {
	// To is the kubelet version that will read the file.
	To compat.Version
	// Gates are the target kubelet's feature gates (unset gates take their
	// defaults for To).
	Gates compat.Gates
	// Containers maps a container ID to its pod and container name: needed
	// to convert cpu V1 entries (keyed by container ID) to pods, and back.
	Containers map[string]ContainerRef
	// NUMANode places the devices of pre-1.20 device entries, which record
	// no NUMA node, when converting them to the 1.20+ layout.
	NUMANode *int64
	// Policy, when set, changes the CPU ("none", "static") or memory
	// ("None", "Static") manager policy recorded in the file.
	Policy string
	// AllowLoss permits a migration that drops state (Plan.Lost lists it).
	AllowLoss bool
}

// ContainerRef names a container: what kubelet's V1 migration looked up by
// container ID.
type ContainerRef struct {
	PodUID        string `json:"podUID"`
	ContainerName string `json:"containerName"`
}

// Plan is what a migration would write.
type Plan struct {
	// Path is the file, as given.
	Path string `json:"path"`
	// Kind is the file's kind.
	Kind check.Kind `json:"kind"`
	// From and FromDescription are the file's current format.
	From            string `json:"from"`
	FromDescription string `json:"fromDescription,omitempty"`
	// To and ToDescription are the format written; Target the kubelet
	// version and Gates the gate settings it is written for.
	To            string          `json:"to"`
	ToDescription string          `json:"toDescription,omitempty"`
	Target        compat.Version  `json:"target"`
	Gates         map[string]bool `json:"gates,omitempty"`
	// Changes describe, for people, what the new file differs in.
	Changes []string `json:"changes,omitempty"`
	// Lost lists the state the new file no longer holds (non-empty only
	// with Options.AllowLoss).
	Lost []string `json:"lost,omitempty"`
	// Dropped lists fields of the old format that the new one has no place
	// for (not state kubelet restores from the new format).
	Dropped []string `json:"dropped,omitempty"`
	// Unchanged is set when the file already is exactly what would be
	// written: there is nothing to do.
	Unchanged bool `json:"unchanged,omitempty"`
	// Data is the new file.
	Data []byte `json:"-"`
	// Accepted is the target kubelet's answer for the new file.
	Accepted compat.Cell `json:"accepted"`

	gates compat.Gates
}

// The errors of Prepare, for errors.Is.
var (
	// ErrSourceUnreadable: the file is corrupt or invalid; repair it or
	// reset it first.
	ErrSourceUnreadable = errors.New("the file is not readable as it is")
	// ErrLoss: the migration would drop state (a *LossError lists it).
	ErrLoss = errors.New("the migration would lose information")
	// ErrNeedContainers: cpu V1 entries need a container map (a
	// *ContainersError lists what is missing).
	ErrNeedContainers = errors.New("container IDs must be mapped to pods")
	// ErrNeedNUMA: pre-1.20 device entries need a NUMA node choice.
	ErrNeedNUMA = errors.New("a NUMA node must be chosen for the pre-1.20 device entries")
	// ErrUnsupported: no conversion exists to the target.
	ErrUnsupported = errors.New("migration not supported")
	// ErrPolicy: a bad policy name, or a policy change on a kind that has
	// no policy.
	ErrPolicy = errors.New("bad policy change")
	// ErrResult: the file built does not verify (a bug; nothing is
	// written).
	ErrResult = errors.New("the migrated file does not verify")
)

// LossError lists the state a migration would drop. It wraps ErrLoss.
type LossError struct {
	// Target is the version migrated to.
	Target compat.Version
	// Lost lists each piece of state, e.g. "pod-level CPU assignment of
	// pod bbbb... (3-4)".
	Lost []string
}

// Error lists the state that would be lost.
func (e *LossError) Error() string {
	return fmt.Sprintf("%v for kubelet %s: %s (use --allow-loss to accept)", ErrLoss, e.Target, strings.Join(e.Lost, "; "))
}

// Unwrap returns ErrLoss.
func (e *LossError) Unwrap() error { return ErrLoss }

// ContainersError lists what a container map lacks. It wraps
// ErrNeedContainers.
type ContainersError struct {
	// Missing lists the container IDs (V1 to pods) or pod/container names
	// (pods to V1) the map does not have.
	Missing []string
	// NoMap is set when no map was given at all.
	NoMap bool
	// ToV1 is set when pod entries are written as V1 entries (for kubelet
	// <= 1.17), which are keyed by container ID: Missing then names
	// pod/container pairs, not container IDs.
	ToV1 bool
}

// Error lists what the container map lacks.
func (e *ContainersError) Error() string {
	switch {
	case e.ToV1 && e.NoMap:
		return fmt.Sprintf("%v: kubelet 1.17's V1 format keys entries by container ID, and the file has %d container "+
			"entries keyed by pod (%s); give their container IDs with --containers (crictl ps -a -o json)",
			ErrNeedContainers, len(e.Missing), strings.Join(e.Missing, ", "))
	case e.ToV1:
		return fmt.Sprintf("%v: no container ID in the container map for: %s", ErrNeedContainers, strings.Join(e.Missing, ", "))
	case e.NoMap:
		return fmt.Sprintf("%v: the file has %d V1 entries keyed by container ID (%s); give the pods they belong to "+
			"with --containers (crictl ps -a -o json)", ErrNeedContainers, len(e.Missing), strings.Join(e.Missing, ", "))
	}
	return fmt.Sprintf("%v: container IDs not in the container map: %s", ErrNeedContainers, strings.Join(e.Missing, ", "))
}

// Unwrap returns ErrNeedContainers.
func (e *ContainersError) Unwrap() error { return ErrNeedContainers }

// The labels the kubelet sets on every container it creates, which name
// its pod and its name in the pod (crictl ps shows them).
const (
	labelPodUID        = "io.kubernetes.pod.uid"
	labelContainerName = "io.kubernetes.container.name"
)

// ParseContainers reads a container map from one of:
//
//   - the output of `crictl ps -a -o json`: {"containers": [{"id": ID,
//     "labels": {"io.kubernetes.pod.uid": UID,
//     "io.kubernetes.container.name": NAME}}, ...]};
//   - the output of `kubectl get pods -o json`: items[].metadata.uid and
//     items[].status.containerStatuses[] (and initContainerStatuses) with
//     name and containerID ("containerd://ID"; the runtime prefix goes);
//   - a JSON object from container ID to {"podUID": ..., "containerName":
//     ...}.
//
// It fails, wrapping check.ErrInvalid, on anything else, and when an entry
// lacks its pod UID or container name.
func ParseContainers(data []byte) (map[string]ContainerRef, error) {
	var probe map[string]json.RawMessage
	if err := check.DecodeJSON("container map", data, &probe); err != nil {
		return nil, err
	}
	if _, ok := probe["containers"]; ok {
		return parseCrictl(data)
	}
	if _, ok := probe["items"]; ok {
		return parseKubectl(data)
	}
	var m map[string]ContainerRef
	if err := check.DecodeJSON("container map", data, &m); err != nil {
		return nil, err
	}
	for id, ref := range m {
		if ref.PodUID == "" || ref.ContainerName == "" {
			return nil, check.ContentError("container map", "container %q lacks podUID or containerName", id)
		}
	}
	return m, nil
}

// parseCrictl reads `crictl ps -o json`.
func parseCrictl(data []byte) (map[string]ContainerRef, error) {
	var out struct {
		Containers []struct {
			ID       string `json:"id"`
			Metadata struct {
				Name string `json:"name"`
			} `json:"metadata"`
			Labels map[string]string `json:"labels"`
		} `json:"containers"`
	}
	if err := check.DecodeJSON("crictl ps -o json", data, &out); err != nil {
		return nil, err
	}
	m := map[string]ContainerRef{}
	for i, c := range out.Containers {
		ref := ContainerRef{PodUID: c.Labels[labelPodUID], ContainerName: c.Labels[labelContainerName]}
		if ref.ContainerName == "" {
			ref.ContainerName = c.Metadata.Name
		}
		if c.ID == "" || ref.PodUID == "" || ref.ContainerName == "" {
			return nil, check.ContentError("crictl ps -o json", "containers[%d] lacks its id, or the labels %s and %s",
				i, labelPodUID, labelContainerName)
		}
		m[c.ID] = ref
	}
	return m, nil
}

// parseKubectl reads `kubectl get pods -o json`.
func parseKubectl(data []byte) (map[string]ContainerRef, error) {
	type status struct {
		Name        string `json:"name"`
		ContainerID string `json:"containerID"`
	}
	var out struct {
		Items []struct {
			Metadata struct {
				UID string `json:"uid"`
			} `json:"metadata"`
			Status struct {
				ContainerStatuses     []status `json:"containerStatuses"`
				InitContainerStatuses []status `json:"initContainerStatuses"`
			} `json:"status"`
		} `json:"items"`
	}
	if err := check.DecodeJSON("kubectl get pods -o json", data, &out); err != nil {
		return nil, err
	}
	m := map[string]ContainerRef{}
	for i, p := range out.Items {
		if p.Metadata.UID == "" {
			return nil, check.ContentError("kubectl get pods -o json", "items[%d] lacks metadata.uid", i)
		}
		for _, st := range append(p.Status.ContainerStatuses, p.Status.InitContainerStatuses...) {
			id := st.ContainerID
			if _, after, ok := strings.Cut(id, "://"); ok {
				id = after // "containerd://abc" -> "abc"
			}
			if id == "" || st.Name == "" {
				continue // not started yet: no container ID
			}
			m[id] = ContainerRef{PodUID: p.Metadata.UID, ContainerName: st.Name}
		}
	}
	return m, nil
}

// Prepare plans the migration of the checkpoint data (path names it and
// hints its kind) as opts asks.
func Prepare(path string, data []byte, opts Options) (p *Plan, err error) {
	defer func() {
		if r := recover(); r != nil {
			p, err = nil, fmt.Errorf("%w: internal error: %v", ErrResult, r)
		}
	}()
	res := kubelet.Examine(path, data)
	switch res.Verdict {
	case check.Valid, check.Unverified:
	case check.Corrupt:
		return nil, fmt.Errorf("%w: %s is corrupt (%v); if its content is what runs, `ckpt repair` recomputes its "+
			"checksums, then migrate it", ErrSourceUnreadable, path, res.Err)
	case check.Invalid:
		if _, ok := repair.Salvage(path, data); ok {
			return nil, fmt.Errorf("%w: %s is invalid (%v); its leading document verifies: `ckpt repair` keeps it, "+
				"then migrate it", ErrSourceUnreadable, path, res.Err)
		}
		return nil, fmt.Errorf("%w: %s is invalid (%v); it does not decode, so there is nothing to convert "+
			"(`ckpt doctor` says what to do)", ErrSourceUnreadable, path, res.Err)
	default:
		return nil, fmt.Errorf("%w: %s is not a kubelet checkpoint (%v)", ErrSourceUnreadable, path, res.Err)
	}
	if opts.To.Minor == 0 {
		return nil, fmt.Errorf("%w: no target kubelet version", compat.ErrVersion)
	}
	p = &Plan{Path: path, Kind: res.Kind, From: res.Format, FromDescription: res.Description, Target: opts.To, gates: opts.Gates}
	for g, on := range opts.Gates {
		if p.Gates == nil {
			p.Gates = map[string]bool{}
		}
		p.Gates[string(g)] = on
	}
	if opts.Policy != "" && res.Kind != check.KindCPU && res.Kind != check.KindMemory {
		return nil, fmt.Errorf("%w: %s checkpoints record no policy", ErrPolicy, res.Kind)
	}
	var lost []string
	switch res.Kind {
	case check.KindCPU:
		lost, err = planCPU(p, res, opts)
	case check.KindMemory:
		lost, err = planMemory(p, res, opts)
	case check.KindDevice:
		lost, err = planDevice(p, data, res, opts)
	case check.KindDRA:
		lost, err = planDRA(p, res, opts)
	case check.KindAllocation:
		lost, err = planAllocation(p, path, data, res, opts)
	default:
		err = fmt.Errorf("%w: %s checkpoints have one format per kubelet era and nothing to convert", ErrUnsupported, res.Kind)
	}
	if err != nil {
		return nil, err
	}
	if len(lost) > 0 {
		if !opts.AllowLoss {
			return nil, &LossError{Target: opts.To, Lost: lost}
		}
		p.Lost = lost
	}
	p.Unchanged = string(p.Data) == string(data)
	if err := p.Verify(p.Data); err != nil {
		return nil, err
	}
	return p, nil
}

// Verify checks bytes read back after writing the plan's file: they must be
// valid in the target format and accepted, without loss, by the target
// kubelet.
func (p *Plan) Verify(b []byte) error {
	res := kubelet.Examine(p.Path, b)
	if res.Verdict != check.Valid {
		return fmt.Errorf("%w: %s, %s: %v", ErrResult, res.Format, res.Verdict, res.Err)
	}
	if res.Format != p.To {
		return fmt.Errorf("%w: format %s, want %s", ErrResult, res.Format, p.To)
	}
	cell, ok := compat.FromResult(p.Path, b, res).Lookup(p.Target, p.gates)
	if !ok || cell.Outcome != compat.Accept {
		return fmt.Errorf("%w: kubelet %s would %s it (%s%s)", ErrResult, p.Target, cell.Outcome, cell.Reason,
			strings.Join(cell.Lost, "; "))
	}
	p.Accepted = cell
	p.ToDescription = res.Description
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func clone[T any](v T) T {
	b, err := json.Marshal(v)
	if err != nil {
		return v
	}
	var out T
	if json.Unmarshal(b, &out) != nil {
		return v
	}
	return out
}
