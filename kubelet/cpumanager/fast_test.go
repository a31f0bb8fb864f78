package cpumanager

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ckptkit/ckpt/checkpointmanager/checksum"
	"github.com/ckptkit/ckpt/kubelet/check"
	"github.com/ckptkit/ckpt/kubelet/cpumanager/internal/state"
)

// encodeReflect is the reference encoder: kubelet's types through
// encoding/json, as Encode was written before its fast path. The tests
// hold encodeFast to its bytes.
func encodeReflect(s *State) ([]byte, error) {
	if s == nil {
		return nil, fmt.Errorf("%w: nil state", check.ErrInvalid)
	}
	def, err := canonical(s.DefaultCPUSet, "default CPU set")
	if err != nil {
		return nil, err
	}
	d := state.CPUManagerCheckpointData{PolicyName: s.PolicyName, DefaultCPUSet: def}
	legacy := state.NewV2()
	legacy.PolicyName, legacy.DefaultCPUSet = s.PolicyName, def
	for pod, ctrs := range s.Entries {
		m := make(map[string]string, len(ctrs))
		for ctr, set := range ctrs {
			if m[ctr], err = canonical(set, fmt.Sprintf("container %q in pod %q", ctr, pod)); err != nil {
				return nil, err
			}
		}
		legacy.Entries[pod] = m
	}
	if len(legacy.Entries) > 0 {
		d.Entries = legacy.Entries
	}
	if len(s.PodEntries) > 0 {
		d.PodEntries = make(map[string]state.PodEntryJSON, len(s.PodEntries))
		for pod, set := range s.PodEntries {
			c, err := canonical(set, fmt.Sprintf("pod %q", pod))
			if err != nil {
				return nil, err
			}
			d.PodEntries[pod] = state.PodEntryJSON{CPUSet: c}
		}
	}
	if len(s.Baselines) > 0 {
		d.Baselines = make(map[string]map[string]state.BaselineJSON, len(s.Baselines))
		for pod, ctrs := range s.Baselines {
			m := make(map[string]state.BaselineJSON, len(ctrs))
			for ctr, set := range ctrs {
				c, err := canonical(set, fmt.Sprintf("baseline of container %q in pod %q", ctr, pod))
				if err != nil {
					return nil, err
				}
				m[ctr] = state.BaselineJSON{Baseline: c}
			}
			d.Baselines[pod] = m
		}
	}
	dataJSON, err := json.Marshal(&d)
	if err != nil {
		return nil, fmt.Errorf("encode cpu manager data: %w", err)
	}
	// The legacy checksum is computed with the entries map made even when
	// empty (`map[]`), because that is what a 1.35 reader's constructor
	// gives when it decodes a file without "entries".
	legacy.Checksum = checksum.Sum([]byte(state.Text(state.RuleV4Legacy, legacy)))
	cp := state.CPUManagerCheckpoint{
		CPUManagerCheckpointV2: *legacy,
		Data:                   string(dataJSON),
		DataChecksum:           checksum.OfString(string(dataJSON)),
	}
	out, err := json.Marshal(&cp)
	if err != nil {
		return nil, fmt.Errorf("encode cpu manager checkpoint: %w", err)
	}
	return out, nil
}

// cpuFiles returns every cpu manager file under testdata: kubelet's
// vectors, files kubelet wrote, and the cases from bug reports.
func cpuFiles(tb testing.TB) []string {
	tb.Helper()
	var files []string
	for _, pattern := range []string{
		"../../testdata/kubelet-vectors/cpumanager/*",
		"../../testdata/kubelet-generated/cpumanager/*/*",
		"../../testdata/cases/*/cpu_manager_state*",
		"../../testdata/cases/*/*/cpu_manager_state*",
	} {
		m, _ := filepath.Glob(pattern)
		files = append(files, m...)
	}
	if len(files) < 10 {
		tb.Fatalf("only %d cpu manager files in testdata", len(files))
	}
	return files
}

// checkFastAgrees fails when the fast path accepts data but the full path
// does not find it valid with the same state, or when the two encoders
// disagree on a state the full path decodes.
func checkFastAgrees(t *testing.T, name string, data []byte) (accepted bool) {
	t.Helper()
	fast, ok := decodeFast(data)
	res := Examine(data)
	if ok {
		c, isContent := res.Content.(*Content)
		if res.Verdict != check.Valid || !isContent {
			t.Fatalf("%s: the fast path accepted a file Examine finds %s (%v)", name, res.Verdict, res.Err)
		}
		if !reflect.DeepEqual(*fast, c.State) {
			t.Fatalf("%s: fast path state\n%#v\nfull path state\n%#v", name, *fast, c.State)
		}
	}
	if slow, err := Decode(data); err == nil {
		want, werr := encodeReflect(slow)
		got, gerr := encodeFast(slow)
		if !bytes.Equal(got, want) || (werr == nil) != (gerr == nil) {
			t.Fatalf("%s: encoders disagree:\nfast %s (%v)\nreflect %s (%v)", name, got, gerr, want, werr)
		}
	}
	return ok
}

// TestFastPathAgrees holds the fast path to the full one on every cpu
// manager file in testdata, and checks that it takes every file kubelet
// v1.37.2 wrote (else it would be dead weight).
func TestFastPathAgrees(t *testing.T) {
	for _, f := range cpuFiles(t) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		accepted := checkFastAgrees(t, f, data)
		if strings.Contains(f, "kubelet-generated") && !accepted {
			t.Errorf("%s: the fast path declined a file kubelet v1.37.2 wrote", f)
		}
	}
}

// TestFastPathDeclines lists what the fast path must leave to the full
// path, each starting from the realistic file kubelet wrote.
func TestFastPathDeclines(t *testing.T) {
	orig, err := os.ReadFile("../../testdata/kubelet-generated/cpumanager/realistic/cpu_manager_state")
	if err != nil {
		t.Fatal(err)
	}
	var top map[string]any
	if err := json.Unmarshal(orig, &top); err != nil {
		t.Fatal(err)
	}
	ck := fmt.Sprintf(`"checksum":%d`, uint64(top["checksum"].(float64)))
	dck := fmt.Sprintf(`"dataChecksum":%d`, uint64(top["dataChecksum"].(float64)))
	for _, tc := range []struct {
		reason string
		edit   func(string) string
	}{
		{"a legacy checksum off by one", func(s string) string {
			return strings.Replace(s, ck, fmt.Sprintf(`"checksum":%d`, uint64(top["checksum"].(float64))+1), 1)
		}},
		{"a data checksum off by one", func(s string) string {
			return strings.Replace(s, dck, fmt.Sprintf(`"dataChecksum":%d`, uint64(top["dataChecksum"].(float64))+1), 1)
		}},
		{"a zero legacy checksum (unverified for the full path)", func(s string) string { return strings.Replace(s, ck, `"checksum":0`, 1) }},
		{"a key in another letter case (encoding/json would match it)", func(s string) string {
			return strings.Replace(s, `"policyName"`, `"PolicyName"`, 1)
		}},
		{"an unknown key", func(s string) string { return strings.Replace(s, `{`, `{"extra":1,`, 1) }},
		{"trailing bytes", func(s string) string { return s + "x" }},
		{"a legacy block that differs from the data", func(s string) string {
			return strings.Replace(s, `"defaultCpuSet":"`, `"defaultCpuSet":"9999,`, 1)
		}},
		{"truncated", func(s string) string { return s[:len(s)/2] }},
	} {
		edited := []byte(tc.edit(string(orig)))
		if _, ok := decodeFast(edited); ok {
			t.Errorf("%s: the fast path accepted it", tc.reason)
		}
		checkFastAgrees(t, tc.reason, edited)
	}
}

// FuzzDecodeFast holds the fast paths to the full ones on arbitrary bytes.
func FuzzDecodeFast(f *testing.F) {
	for _, file := range cpuFiles(f) {
		if b, err := os.ReadFile(file); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkFastAgrees(t, "fuzz input", data) })
}

// TestEncodeFastChecksEveryPod: a nil container map in one pod must not
// stop the cpuset check of the others (map order is random: try often).
func TestEncodeFastChecksEveryPod(t *testing.T) {
	s := &State{PolicyName: "static", DefaultCPUSet: "0", Entries: map[string]map[string]string{
		"a": nil, "b": {"c": "x"}, "d": nil, "e": {"c": "65536"}}}
	for range 200 {
		if _, err := Encode(s); !errors.Is(err, ErrCPUSet) {
			t.Fatalf("Encode of unparsable cpusets after a nil container map: err %v, want ErrCPUSet", err)
		}
	}
}

// FuzzEncodeFast holds encodeFast to the reflection-based encoder on
// states with arbitrary strings (escapes, invalid UTF-8, bad cpusets).
func FuzzEncodeFast(f *testing.F) {
	f.Add("static", "0-1", "pod-1", "ctr", "2-3", "4,5", "")
	f.Add("none", "", "p<>&", "c\u2028", "\xff", "1-", "0")
	f.Fuzz(func(t *testing.T, policy, def, pod, ctr, set, podSet, baseline string) {
		s := &State{
			PolicyName: policy, DefaultCPUSet: def,
			Entries:    map[string]map[string]string{pod: {ctr: set}, pod + "x": {}, pod + "y": nil, "0" + pod: {ctr: "0"}},
			PodEntries: map[string]string{pod: podSet},
			Baselines:  map[string]map[string]string{pod: {ctr: baseline}},
		}
		want, werr := encodeReflect(s)
		got, gerr := encodeFast(s)
		if !bytes.Equal(got, want) || (werr == nil) != (gerr == nil) || werr != nil && werr.Error() != gerr.Error() {
			t.Fatalf("encoders disagree:\nfast %s (%v)\nreflect %s (%v)", got, gerr, want, werr)
		}
	})
}
