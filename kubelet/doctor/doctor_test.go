package doctor

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/ckptkit/ckpt/kubelet"
	"github.com/ckptkit/ckpt/kubelet/machine"
	"github.com/ckptkit/ckpt/kubelet/prune"
)

const cases = "../../testdata/cases"

// kubeletDir copies files (relative to the cases directory) into a fresh
// kubelet root directory, under the names given.
func kubeletDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, src := range files {
		data, err := os.ReadFile(filepath.Join(cases, src))
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func run(t *testing.T, opts Options) *Report {
	t.Helper()
	root := true
	if opts.Root == nil {
		opts.Root = &root
	}
	r, err := Run(opts)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func findings(r *Report, code string) []Finding {
	var out []Finding
	for _, f := range r.Findings {
		if f.Code == code {
			out = append(out, f)
		}
	}
	return out
}

func one(t *testing.T, r *Report, code string) Finding {
	t.Helper()
	fs := findings(r, code)
	if len(fs) != 1 {
		t.Fatalf("%d findings %q, want 1; all: %+v", len(fs), code, r.Findings)
	}
	return fs[0]
}

func mustMachine(t *testing.T, path string) *machine.Machine {
	t.Helper()
	m, err := machine.ReadFile(filepath.Join(cases, path))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func mustConfig(t *testing.T, path string) *Config {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(cases, path))
	if err != nil {
		t.Fatal(err)
	}
	c, err := ParseConfig(data)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// noDeleteAdvice fails when a fix would remove or move a checkpoint.
func noDeleteAdvice(t *testing.T, f Finding) {
	t.Helper()
	for _, w := range []string{"rm ", "mv ", "delete", "drain"} {
		if strings.Contains(f.Fix, w) {
			t.Errorf("%s: fix suggests %q: %s", f.Code, w, f.Fix)
		}
	}
}

// B01: a none -> static policy change is a policy mismatch, not
// corruption, and switching loses nothing.
func TestCaseB01(t *testing.T) {
	dir := kubeletDir(t, map[string]string{"cpu_manager_state": "B01-cpu-policy-none-to-static/cpu_manager_state"})
	r := run(t, Options{Dir: dir, Config: mustConfig(t, "B01-cpu-policy-none-to-static/kubelet-config.yaml"), ConfigPath: "config.yaml"})
	f := one(t, r, CodePolicy)
	if f.Severity != Error || !strings.Contains(f.Summary, `"none"`) || !strings.Contains(f.Summary, `"static"`) ||
		!strings.Contains(f.Meaning, "loses nothing") || strings.Contains(f.Summary+f.Meaning, "corrupted") && !strings.Contains(f.Meaning, "not corruption") {
		t.Errorf("%+v", f)
	}
	if !strings.Contains(f.Fix, "--policy static") || !strings.Contains(f.Fix, filepath.Join(dir, "cpu_manager_state")) {
		t.Errorf("fix %q", f.Fix)
	}
	noDeleteAdvice(t, f)
	if len(findings(r, CodeCorrupt)) != 0 {
		t.Error("a policy change was called corrupt")
	}
}

// The reverse change with exclusive assignments needs a drain, and says
// which assignments go.
func TestPolicyStaticToNone(t *testing.T) {
	dir := kubeletDir(t, map[string]string{"cpu_manager_state": "B07-cpu-stale-entries-deleted-pods/cpu_manager_state"})
	r := run(t, Options{Dir: dir, Config: &Config{CPUManagerPolicy: "none", MemoryManagerPolicy: "None"}})
	f := one(t, r, CodePolicy)
	if len(f.Details) != 2 || !strings.Contains(f.Fix, "drain") || !strings.Contains(f.Fix, "--allow-loss") {
		t.Errorf("%+v", f)
	}
}

// B05: exactly "leaked: 1-2" and "double-assigned: 1-2 (pod .../app)".
func TestCaseB05(t *testing.T) {
	m := mustMachine(t, "B05-cpu-torn-multiwrite-leak-overlap/machine.json")
	args := []string{"--machine", "machine.json"}
	for _, tc := range []struct {
		reason, file, code, summary string
	}{
		{"leak", "leak", CodeCPULeaked, "leaked: 1-2"},
		{"overlap", "overlap", CodeCPUDouble, "double-assigned: 1-2 (pod aaaaaaaa-0000-4000-8000-00000000000a/app)"},
	} {
		dir := kubeletDir(t, map[string]string{"cpu_manager_state": "B05-cpu-torn-multiwrite-leak-overlap/" + tc.file + "/cpu_manager_state"})
		r := run(t, Options{Dir: dir, Machine: m, MachineArgs: args})
		f := one(t, r, tc.code)
		if f.Summary != tc.summary || f.Severity != Error {
			t.Errorf("%s: summary %q, want %q", tc.reason, f.Summary, tc.summary)
		}
		if !strings.Contains(f.Fix, "ckpt prune "+filepath.Join(dir, "cpu_manager_state")) || !strings.Contains(f.Fix, "--machine machine.json") {
			t.Errorf("%s: fix %q", tc.reason, f.Fix)
		}
		noDeleteAdvice(t, f)
		if len(r.Findings) != 1+len(findings(r, CodeAbsent))+len(findings(r, CodeSkipped)) {
			t.Errorf("%s: other findings: %+v", tc.reason, r.Findings)
		}
		if !strings.Contains(r.Files[0].Status, tc.summary) {
			t.Errorf("%s: status %q", tc.reason, r.Files[0].Status)
		}
	}
}

// B07 and B15: stale entries, with the prune command and what it gives
// back.
func TestCaseB07B15(t *testing.T) {
	pods := prune.NewPods("aaaaaaaa-0000-4000-8000-00000000000a")
	dir := kubeletDir(t, map[string]string{
		"cpu_manager_state":                          "B07-cpu-stale-entries-deleted-pods/cpu_manager_state",
		"device-plugins/kubelet_internal_checkpoint": "B15-device-stale-entries/kubelet_internal_checkpoint",
	})
	r := run(t, Options{Dir: dir, Pods: pods, PodsArgs: []string{"--pods-from", "active-pods.json"}})
	stale := findings(r, CodeStale)
	if len(stale) != 2 {
		t.Fatalf("%+v", r.Findings)
	}
	for _, f := range stale {
		if f.Severity != Warning || f.Summary != "1 stale entry of pods that no longer exist" ||
			!strings.Contains(f.Fix, "ckpt prune "+f.Path+" --pods-from active-pods.json --yes") {
			t.Errorf("%+v", f)
		}
	}
	if stale[0].Details[0] != "bbbbbbbb-0000-4000-8000-00000000000b/db: CPUs 3-4" ||
		stale[0].Details[1] != "after prune: default CPU set 0,5-7 -> 0,3-7" {
		t.Errorf("B07 details %q", stale[0].Details)
	}
	if !strings.Contains(stale[1].Details[0], "bbbbbbbb-0000-4000-8000-00000000000b/trainer: nvidia.com/gpu GPU-") {
		t.Errorf("B15 details %q", stale[1].Details)
	}
}

// B08: per node and resource deltas, and "safe to rebase".
func TestCaseB08(t *testing.T) {
	dir := kubeletDir(t, map[string]string{"memory_manager_state": "B08-memory-numa-total-drift-after-reboot/memory_manager_state"})
	r := run(t, Options{Dir: dir, Machine: mustMachine(t, "B08-memory-numa-total-drift-after-reboot/machine.json"),
		MachineArgs: []string{"--machine", "machine.json"}})
	f := one(t, r, CodeMemoryDrift)
	for _, want := range []string{"node 0 memory total -40 MiB", "node 1 memory total +40 MiB", "safe to rebase"} {
		if !strings.Contains(f.Summary, want) {
			t.Errorf("summary %q lacks %q", f.Summary, want)
		}
	}
	if !strings.Contains(f.Fix, "--machine machine.json --yes") {
		t.Errorf("fix %q", f.Fix)
	}
	noDeleteAdvice(t, f)
}

// B16: a leftover temporary file is safe to remove, with its exact path;
// a full file system is reported as retryable.
func TestCaseB16(t *testing.T) {
	dir := kubeletDir(t, map[string]string{
		"device-plugins/kubelet_internal_checkpoint": "B16-device-disk-full-temp-file/kubelet_internal_checkpoint",
		"device-plugins/.288934392":                  "B16-device-disk-full-temp-file/kubelet_internal_checkpoint",
	})
	defer func(old func(string) fsInfo) { statFS = old }(statFS)
	statFS = func(string) fsInfo { return fsInfo{ok: true, freeBytes: 4096, freeInodes: 10} }
	r := run(t, Options{Dir: dir})
	f := one(t, r, CodeTempFile)
	if f.Fix != "rm -- "+filepath.Join(dir, "device-plugins", ".288934392") || f.Severity != Warning {
		t.Errorf("%+v", f)
	}
	full := findings(r, CodeDiskFull)
	if len(full) == 0 || full[0].Severity != Error || !strings.Contains(full[0].Meaning, "retryable") {
		t.Errorf("%+v", full)
	}
}

// B20: a corrupt DRA file: both checksums, the claims it holds, and repair
// before any reset.
func TestCaseB20(t *testing.T) {
	dir := kubeletDir(t, map[string]string{"dra_manager_state": "B20-dra-plugin-corrupt-crashloop/dra_manager_state"})
	r := run(t, Options{Dir: dir})
	f := one(t, r, CodeCorrupt)
	if f.Summary != "corrupt checksum (expected 2075790230, found 2075790231) under crc32-IEEE(Data)" {
		t.Errorf("summary %q", f.Summary)
	}
	if len(f.Details) != 1 || !strings.Contains(f.Details[0], "claim team-a/gpu-claim") ||
		!strings.Contains(f.Meaning, "does not prepare a running claim again") {
		t.Errorf("%+v", f)
	}
	if !strings.HasPrefix(f.Fix, "ckpt repair ") {
		t.Errorf("fix %q", f.Fix)
	}
	noDeleteAdvice(t, f)
}

// B28: a file that cannot be read is an I/O problem, never corruption and
// never deletion advice; a read-only file system is named as such.
func TestCaseB28(t *testing.T) {
	dir := kubeletDir(t, map[string]string{"cpu_manager_state": "B28-permission-readonly-misleading-advice/cpu_manager_state"})
	path := filepath.Join(dir, "cpu_manager_state")
	for _, root := range []bool{false, true} {
		d := &doctor{opts: Options{Dir: dir, Root: &root}, rep: &Report{}}
		d.file(kubelet.File{Path: path, ReadErr: &fs.PathError{Op: "open", Path: path, Err: fs.ErrPermission}})
		if len(d.rep.Findings) != 1 {
			t.Fatalf("%+v", d.rep.Findings)
		}
		f := d.rep.Findings[0]
		if f.Code != CodeUnreadable || f.Severity != Error || !strings.Contains(f.Summary, path) ||
			!strings.Contains(f.Meaning, "not corrupt") || !d.rep.HasIOProblem() {
			t.Errorf("root=%v: %+v", root, f)
		}
		noDeleteAdvice(t, Finding{Code: f.Code, Fix: strings.ReplaceAll(f.Fix, "must not be deleted", "")})
		if !root && f.Fix != "sudo ckpt doctor "+dir {
			t.Errorf("fix %q", f.Fix)
		}
	}

	defer func(old func(string) fsInfo) { statFS = old }(statFS)
	statFS = func(string) fsInfo { return fsInfo{writeErr: syscall.EROFS} }
	r := run(t, Options{Dir: dir})
	f := one(t, r, CodeReadOnly)
	if f.Severity != Error || !strings.Contains(f.Fix, "findmnt -T "+dir) || !strings.Contains(f.Meaning, "Do not") {
		t.Errorf("%+v", f)
	}
	noDeleteAdvice(t, f)
	if len(findings(r, CodeCorrupt)) != 0 {
		t.Error("read-only called corrupt")
	}
}

// A real unreadable file when not running as root (root reads anything).
func TestUnreadableFileAsUser(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root ignores file modes; TestCaseB28 covers the finding")
	}
	dir := kubeletDir(t, map[string]string{"cpu_manager_state": "B28-permission-readonly-misleading-advice/cpu_manager_state"})
	path := filepath.Join(dir, "cpu_manager_state")
	if err := os.Chmod(path, 0); err != nil {
		t.Fatal(err)
	}
	r, err := Run(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if one(t, r, CodeUnreadable).Path != path || !r.HasIOProblem() {
		t.Errorf("%+v", r.Findings)
	}
}

// B29: an empty directory is normal: five absent files, nothing worse
// than info.
func TestCaseB29(t *testing.T) {
	r := run(t, Options{Dir: t.TempDir()})
	if r.Worst() != Info || len(findings(r, CodeAbsent)) != 5 || len(r.Files) != 5 {
		t.Fatalf("%+v", r)
	}
	for _, f := range r.Files {
		if f.Present || !strings.HasPrefix(f.Status, "absent (normal)") {
			t.Errorf("%+v", f)
		}
	}
}

// B30: the wording of both reproduction files.
func TestCaseB30(t *testing.T) {
	dir := kubeletDir(t, map[string]string{"cpu_manager_state": "B30-panic-and-unactionable-errors/valid-checksum-lost-cpu/cpu_manager_state"})
	r := run(t, Options{Dir: dir, KubeletVersion: "1.37"})
	st := r.Files[0].Status
	for _, want := range []string{"format cpu v1", "<= 1.17", "checksum OK", "semantic: CPU 1 missing"} {
		if !strings.Contains(st, want) {
			t.Errorf("status %q lacks %q", st, want)
		}
	}
	f := one(t, r, CodeUnsupported)
	if f.Severity != Error || !strings.Contains(f.Fix, "--to-kubelet 1.37") {
		t.Errorf("%+v", f)
	}
	for _, f := range r.Findings {
		if strings.Contains(f.Fix, "drain") {
			t.Errorf("drain advised though no pod is affected: %+v", f)
		}
	}

	dir = kubeletDir(t, map[string]string{"cpu_manager_state": "B30-panic-and-unactionable-errors/bad-checksum/cpu_manager_state"})
	r = run(t, Options{Dir: dir})
	f = one(t, r, CodeCorrupt)
	if !strings.Contains(f.Summary, "corrupt checksum") || !strings.Contains(f.Summary, "(expected 1104188325, found 2479968155)") ||
		!strings.Contains(f.Meaning, "no pod is affected") {
		t.Errorf("%+v", f)
	}
	noDeleteAdvice(t, f)
}

// An invalid (torn) checkpoint with nothing left to read is the one case
// for "drain and move aside", with the exact path.
func TestInvalidDrainAndMoveAside(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "cpu_manager_state")
	if err := os.WriteFile(path, []byte(`{"policyName":"static","defaultCpu`), 0o600); err != nil {
		t.Fatal(err)
	}
	r := run(t, Options{Dir: dir})
	f := one(t, r, CodeInvalid)
	if !strings.Contains(f.Meaning, "not completely written") || !strings.Contains(f.Fix, "kubectl drain") ||
		!strings.Contains(f.Fix, "mv "+path+" "+filepath.Join(filepath.Dir(dir), "ckpt-backup")+"/") {
		t.Errorf("%+v", f)
	}
}

func TestSkippedChecks(t *testing.T) {
	dir := kubeletDir(t, map[string]string{"cpu_manager_state": "B07-cpu-stale-entries-deleted-pods/cpu_manager_state"})
	f := one(t, run(t, Options{Dir: dir}), CodeSkipped)
	if len(f.Details) != 4 {
		t.Errorf("%q", f.Details)
	}
	if _, err := Run(Options{Dir: filepath.Join(dir, "missing")}); !errors.Is(err, ErrDir) {
		t.Errorf("missing dir: %v", err)
	}
	if _, err := Run(Options{Dir: dir, KubeletVersion: "2.0"}); err == nil {
		t.Error("a bad version was accepted")
	}
}

func TestParseConfig(t *testing.T) {
	c := mustConfig(t, "B01-cpu-policy-none-to-static/kubelet-config.yaml")
	if c.CPUManagerPolicy != "static" || c.MemoryManagerPolicy != "None" || c.ReservedSystemCPUs != "0" {
		t.Errorf("%+v", c)
	}
	c, err := ParseConfig([]byte(`
kind: KubeletConfiguration
memoryManagerPolicy: Static
reservedSystemCPUs: 0,1
cpuManagerPolicyOptions:
  strict-cpu-reservation: "true"
featureGates:
  PodLevelResourceManagers: true
reservedMemory:
- numaNode: 1
  limits:
    memory: 1.5Gi
`))
	if err != nil {
		t.Fatal(err)
	}
	if on, set := c.Gate("PodLevelResourceManagers"); !on || !set || !c.StrictCPUReservation() || c.CPUManagerPolicy != "none" {
		t.Errorf("%+v", c)
	}
	if b, ok := c.reservedMemoryOn(1); !ok || b != 3<<29 {
		t.Errorf("reserved memory %d %v", b, ok)
	}
	for _, tc := range []struct{ reason, data string }{
		{"another kind", "kind: Pod\n"},
		{"not YAML", "a: [\n"},
		{"a bad quantity", "reservedMemory:\n- numaNode: 0\n  limits:\n    memory: lots\n"},
		{"an unknown CPU manager policy", "cpuManagerPolicy: 7\n"},
		{"an unknown memory manager policy", "memoryManagerPolicy: static\n"},
		{"reserved CPUs that do not parse", "reservedSystemCPUs: abc\n"},
		{"reserved CPUs out of range", "reservedSystemCPUs: 0-9999999\n"},
	} {
		if _, err := ParseConfig([]byte(tc.data)); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: %v", tc.reason, err)
		}
	}
}

func TestParseBytes(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want uint64
	}{{"1Gi", 1 << 30}, {"512M", 512e6}, {"1073741824", 1 << 30}, {"0.5Ki", 512}, {"1.1", 2}} {
		if got, err := parseBytes(tc.in); err != nil || got != tc.want {
			t.Errorf("%q: %d %v, want %d", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "-1Gi", "Gi", "1Qi", "99999999Ei"} {
		if _, err := parseBytes(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
