package cpumanager

import (
	"fmt"

	"github.com/ckptkit/ckpt/checkpointmanager/checksum"
	"github.com/ckptkit/ckpt/kubelet/cpumanager/internal/state"
	"github.com/ckptkit/ckpt/kubelet/internal/canonjson"
	"github.com/ckptkit/ckpt/kubelet/internal/k8s/cpuset"
)

// This file is the fast path of Decode and Encode: the V4 layout exactly as
// kubelet v1.37.2 writes it, read and written without reflection.
//
// Decode is what a node agent calls at every start, Examine what an
// operator calls once; Examine tries every layout and rule and explains
// what it finds, which costs milliseconds on a realistic file. decodeFast
// handles the one case that matters at run time, an intact V4 file written
// by kubelet or by Encode, and declines everything else (another layout, a
// key it does not expect, JSON that encoding/json would read with its
// tolerances, a checksum that does not verify, a cpuset to reject): Decode
// then takes the full path, which gives the exact verdict and error. So
// the fast path can only be faster, never different; fast_test.go checks
// that on every file in testdata and by fuzzing.

// decodeFast returns the state of a valid V4 file, or false when it cannot
// be sure (see above).
func decodeFast(data []byte) (*State, bool) {
	var (
		seen             uint8
		policy, def      string
		entStart, entEnd int
		stored, storedD  uint64
		dataStr          string
	)
	r := canonjson.NewReader(data)
	r.Object(func(key []byte) {
		var bit uint8
		switch string(key) {
		case "policyName":
			bit, policy = 1, r.String()
		case "defaultCpuSet":
			bit, def = 2, r.String()
		case "entries":
			bit, entStart = 4, r.Offset()
			r.Skip()
			entEnd = r.Offset()
		case "checksum":
			bit, stored = 8, r.Uint64()
		case "data":
			bit, dataStr = 16, r.StringOwned()
		case "dataChecksum":
			bit, storedD = 32, r.Uint64()
		default:
			r.Fail()
		}
		if seen&bit != 0 {
			r.Fail()
		}
		seen |= bit
	})
	// Every key but entries (omitted when empty) must be there, and both
	// checksums non-zero (a zero is the slow path's "unverified").
	if !r.End() || seen|4 != 63 || stored == 0 || storedD == 0 {
		return nil, false
	}
	if uint64(checksum.OfString(dataStr)) != storedD {
		return nil, false
	}
	s, ok := decodeFastData(dataStr)
	if !ok || s.PolicyName != policy || s.DefaultCPUSet != def {
		return nil, false
	}
	// The legacy block must hold the same entries as the data string;
	// then its checksum can be computed from the decoded maps, without
	// building the block's own.
	legacy := &state.CPUManagerCheckpointV2{PolicyName: policy, DefaultCPUSet: def, Entries: s.Entries}
	if legacy.Entries == nil {
		legacy.Entries = map[string]map[string]string{}
	}
	if seen&4 != 0 {
		er := canonjson.NewReader(data[entStart:entEnd])
		if !er.EqualStringMap2(legacy.Entries) || !er.End() {
			return nil, false
		}
	} else if len(legacy.Entries) > 0 {
		return nil, false
	}
	if uint64(state.SumV4Legacy(legacy)) != stored {
		return nil, false
	}
	return s, true
}

// decodeFastData reads V4's data string and checks what kubelet checks
// when it restores it: the policy and every cpuset.
func decodeFastData(doc string) (*State, bool) {
	s := &State{}
	var seen uint8
	r := canonjson.NewStringReader(doc)
	r.Object(func(key []byte) {
		var bit uint8
		switch string(key) {
		case "policyName":
			bit, s.PolicyName = 1, r.String()
		case "defaultCpuSet":
			bit, s.DefaultCPUSet = 2, r.String()
		case "entries":
			bit, s.Entries = 4, r.StringMap2()
		case "podEntries":
			bit, s.PodEntries = 8, readInnerField(r, "cpuSet")
		case "baselines":
			bit = 16
			s.Baselines = map[string]map[string]string{}
			r.Object(func([]byte) {
				pod := r.Key()
				if _, dup := s.Baselines[pod]; dup {
					r.Fail()
				}
				s.Baselines[pod] = readInnerField(r, "baseline")
			})
		default:
			r.Fail()
		}
		if seen&bit != 0 {
			r.Fail()
		}
		seen |= bit
	})
	if !r.End() || seen&3 != 3 || s.PolicyName != "none" && s.PolicyName != "static" {
		return nil, false
	}
	valid := func(set string) bool {
		if cpuset.IsCanonical(set) {
			return true
		}
		_, err := cpuset.Parse(set)
		return err == nil
	}
	if !valid(s.DefaultCPUSet) {
		return nil, false
	}
	for _, ctrs := range s.Entries {
		for _, set := range ctrs {
			if !valid(set) {
				return nil, false
			}
		}
	}
	for _, set := range s.PodEntries {
		if !valid(set) {
			return nil, false
		}
	}
	for _, ctrs := range s.Baselines {
		for _, set := range ctrs {
			if !valid(set) {
				return nil, false
			}
		}
	}
	return s, true
}

// readInnerField reads {"name": {"field": "value"}, ...} (the field may be
// omitted: "") into name -> value.
func readInnerField(r *canonjson.Reader, field string) map[string]string {
	m := map[string]string{}
	r.Object(func([]byte) {
		name := r.Key()
		if _, dup := m[name]; dup {
			r.Fail()
		}
		var v string
		n := 0
		r.Object(func(key []byte) {
			if string(key) != field || n > 0 {
				r.Fail()
			}
			n++
			v = r.String()
		})
		m[name] = v
	})
	return m
}

// canonicalSet returns set in kubelet's list syntax; where describes the
// set for the error, and is only called when there is one.
func canonicalSet(set string, where func() string) (string, error) {
	if cpuset.IsCanonical(set) {
		return set, nil
	}
	return canonical(set, where())
}

// encodeFast writes s as kubelet v1.37.2 does (see Encode), by hand: the
// bytes equal those of json.Marshal of kubelet's types, as fast_test.go
// checks against the reflection-based encoder.
func encodeFast(s *State) ([]byte, error) {
	def, err := canonicalSet(s.DefaultCPUSet, func() string { return "default CPU set" })
	if err != nil {
		return nil, err
	}
	// The legacy block's entries, canonical. Kubelet's own sets print
	// canonically, so this is s.Entries itself unless a set needs
	// rewriting or an inner map is nil.
	entries := s.Entries
	same := true
	for pod, ctrs := range s.Entries {
		if ctrs == nil {
			same = false // written as {}, as the reflecting encoder does
			continue
		}
		for ctr, set := range ctrs {
			if _, err := canonicalSet(set, func() string { return containerWhere(ctr, pod) }); err != nil {
				return nil, err
			} else if !cpuset.IsCanonical(set) {
				same = false
			}
		}
	}
	if !same {
		entries = make(map[string]map[string]string, len(s.Entries))
		for pod, ctrs := range s.Entries {
			m := make(map[string]string, len(ctrs))
			for ctr, set := range ctrs {
				c, err := canonicalSet(set, func() string { return containerWhere(ctr, pod) })
				if err != nil {
					return nil, err // checked above; kept so that no error is ever dropped
				}
				m[ctr] = c
			}
			entries[pod] = m
		}
	}

	// The entries are written twice, in the data string and in the legacy
	// block, with the same bytes.
	var entriesJSON []byte
	if len(entries) > 0 {
		entriesJSON = canonjson.AppendStringMap2(make([]byte, 0, estimate(entries)), entries)
	}
	data := make([]byte, 0, 64+len(entriesJSON)+estimate1(s.PodEntries)*2+estimateB(s.Baselines))
	data = append(data, `{"policyName":`...)
	data = canonjson.AppendString(data, s.PolicyName)
	data = append(data, `,"defaultCpuSet":`...)
	data = canonjson.AppendString(data, def)
	if len(entries) > 0 {
		data = append(data, `,"entries":`...)
		data = append(data, entriesJSON...)
	}
	if len(s.PodEntries) > 0 {
		data = append(data, `,"podEntries":{`...)
		for i, pod := range canonjson.SortedKeys(s.PodEntries) {
			set, err := canonicalSet(s.PodEntries[pod], func() string { return podWhere(pod) })
			if err != nil {
				return nil, err
			}
			if i > 0 {
				data = append(data, ',')
			}
			data = canonjson.AppendString(data, pod)
			if set == "" {
				data = append(data, ":{}"...) // cpuSet is omitempty
				continue
			}
			data = append(data, `:{"cpuSet":`...)
			data = canonjson.AppendString(data, set)
			data = append(data, '}')
		}
		data = append(data, '}')
	}
	if len(s.Baselines) > 0 {
		data = append(data, `,"baselines":{`...)
		for i, pod := range canonjson.SortedKeys(s.Baselines) {
			if i > 0 {
				data = append(data, ',')
			}
			data = canonjson.AppendString(data, pod)
			data = append(data, ":{"...)
			ctrs := s.Baselines[pod]
			for j, ctr := range canonjson.SortedKeys(ctrs) {
				set, err := canonicalSet(ctrs[ctr], func() string { return baselineWhere(ctr, pod) })
				if err != nil {
					return nil, err
				}
				if j > 0 {
					data = append(data, ',')
				}
				data = canonjson.AppendString(data, ctr)
				data = append(data, `:{"baseline":`...)
				data = canonjson.AppendString(data, set)
				data = append(data, '}')
			}
			data = append(data, '}')
		}
		data = append(data, '}')
	}
	data = append(data, '}')

	// The legacy checksum is computed with the entries map made even when
	// empty (`map[]`), because that is what a 1.35 reader's constructor
	// gives when it decodes a file without "entries".
	legacy := &state.CPUManagerCheckpointV2{PolicyName: s.PolicyName, DefaultCPUSet: def, Entries: entries}
	if legacy.Entries == nil {
		legacy.Entries = map[string]map[string]string{}
	}
	out := make([]byte, 0, canonjson.QuotedLen(data)+len(entriesJSON)+2*len(s.PolicyName)+len(def)+128)
	out = append(out, `{"policyName":`...)
	out = canonjson.AppendString(out, s.PolicyName)
	out = append(out, `,"defaultCpuSet":`...)
	out = canonjson.AppendString(out, def)
	if len(entries) > 0 {
		out = append(out, `,"entries":`...)
		out = append(out, entriesJSON...)
	}
	out = append(out, `,"checksum":`...)
	out = canonjson.AppendUint(out, uint64(state.SumV4Legacy(legacy)))
	out = append(out, `,"data":`...)
	out = canonjson.AppendString(out, data)
	out = append(out, `,"dataChecksum":`...)
	out = canonjson.AppendUint(out, uint64(checksum.OfBytes(data)))
	return append(out, '}'), nil
}

// estimate guesses the JSON size of a two-level map, to size buffers.
func estimate(m map[string]map[string]string) int {
	n := 0
	for k, inner := range m {
		n += len(k) + 4 + estimate1(inner)
	}
	return n
}

func estimate1(m map[string]string) int {
	n := 2
	for k, v := range m {
		n += len(k) + len(v) + 6
	}
	return n
}

func estimateB(m map[string]map[string]string) int { return estimate(m) * 2 }

func containerWhere(ctr, pod string) string {
	return fmt.Sprintf("container %q in pod %q", ctr, pod)
}

func podWhere(pod string) string { return fmt.Sprintf("pod %q", pod) }

func baselineWhere(ctr, pod string) string {
	return fmt.Sprintf("baseline of container %q in pod %q", ctr, pod)
}
