package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ckptkit/ckpt/kubelet"
)

// fixEnv is a node in a temporary directory: <root>/kubelet holding a copy
// of a case file, and a fake proc tree (empty: no kubelet runs).
type fixEnv struct {
	root, file, proc string
	orig             []byte
}

func newFixEnv(t *testing.T, src, name string) fixEnv {
	t.Helper()
	m, err := filepath.Glob(src)
	if err != nil || len(m) != 1 {
		t.Fatalf("%s: %v %v", src, m, err)
	}
	orig, err := os.ReadFile(m[0])
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	e := fixEnv{root: root, file: filepath.Join(root, "kubelet", name), proc: filepath.Join(root, "proc"), orig: orig}
	for _, d := range []string{filepath.Dir(e.file), e.proc} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(e.file, orig, 0o600); err != nil {
		t.Fatal(err)
	}
	return e
}

// kubeletRuns adds a kubelet process to the fake proc tree.
func (e fixEnv) kubeletRuns(t *testing.T) {
	t.Helper()
	d := filepath.Join(e.proc, "4242")
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(d, "comm"), []byte("kubelet\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func (e fixEnv) current(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(e.file)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// backups returns the backup files of the default backup directory (not
// the writers' lock file).
func (e fixEnv) backups(t *testing.T) []string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(e.root, "ckpt-backup", "[^.]*"))
	return m
}

func (e fixEnv) assertUntouched(t *testing.T) {
	t.Helper()
	if !bytes.Equal(e.current(t), e.orig) {
		t.Errorf("the file changed:\n%s", e.current(t))
	}
	if b := e.backups(t); len(b) != 0 {
		t.Errorf("backups made: %v", b)
	}
}

// assertWritten checks the file examines as kind/format and one backup
// holds the original.
func (e fixEnv) assertWritten(t *testing.T, format string) {
	t.Helper()
	res := kubelet.Examine(e.file, e.current(t))
	if res.Verdict != "valid" || res.Format != format {
		t.Errorf("written file: %s %s %v", res.Format, res.Verdict, res.Err)
	}
	b := e.backups(t)
	if len(b) != 1 {
		t.Fatalf("backups %v, want one", b)
	}
	if got, _ := os.ReadFile(b[0]); !bytes.Equal(got, e.orig) {
		t.Errorf("backup differs from the original")
	}
}

const casesDir = "../../testdata/cases/"

func TestMigrateB02(t *testing.T) {
	e := newFixEnv(t, casesDir+"B02*/cpu_manager_state", "cpu_manager_state")
	containers := casesDir + "B02-cpu-v1-legacy-checksum-typename/containers.json"

	out, stderr, code := runCkpt(t, "migrate", e.file, "--to-kubelet", "1.37", "--proc", e.proc)
	if code != exitUsage || !strings.Contains(stderr, "--containers") || !strings.Contains(stderr, "0123456789abcdef") {
		t.Errorf("without a map: exit %d\n%s%s", code, out, stderr)
	}
	bad := filepath.Join(t.TempDir(), "c.json")
	os.WriteFile(bad, []byte(`{"ffff":{"podUID":"p","containerName":"c"}}`), 0o644)
	if _, stderr, code := runCkpt(t, "migrate", e.file, "--to-kubelet", "1.37", "--containers", bad, "--proc", e.proc); code != exitUsage ||
		!strings.Contains(stderr, "not in the container map: 0123456789abcdef") {
		t.Errorf("a map without the container: exit %d %s", code, stderr)
	}
	// A dry run that shows changes exits 1, as for prune and repair.
	out, _, code = runCkpt(t, "migrate", e.file, "--to-kubelet", "1.37", "--containers", containers, "--proc", e.proc)
	if code != exitBad || !strings.Contains(out, "Dry run") || !strings.Contains(out, "layout V1 -> V4") {
		t.Errorf("dry run: exit %d\n%s", code, out)
	}
	e.assertUntouched(t)

	e.kubeletRuns(t)
	if _, stderr, code := runCkpt(t, "migrate", e.file, "--to-kubelet", "1.37", "--containers", containers, "--proc", e.proc, "--yes"); code != exitUsage ||
		!strings.Contains(stderr, "kubelet process is running") {
		t.Errorf("kubelet running: exit %d %s", code, stderr)
	}
	e.assertUntouched(t)

	out, stderr, code = runCkpt(t, "migrate", e.file, "--to-kubelet", "1.37", "--containers", containers, "--proc", e.proc, "--yes", "--force")
	if code != exitOK || !strings.Contains(out, "Written:") {
		t.Fatalf("--yes --force: exit %d\n%s%s", code, out, stderr)
	}
	e.assertWritten(t, "v4")
	// EXPECT: the migrated file holds the assignment {pod aaaaaaaa...: {app: 1-2}}.
	if !strings.Contains(string(e.current(t)), `"entries":{"aaaaaaaa-0000-4000-8000-00000000000a":{"app":"1-2"}}`) {
		t.Errorf("migrated file: %s", e.current(t))
	}
	if _, _, code := runCkpt(t, "compat", e.file, "--kubelet", "1.37"); code != exitOK {
		t.Errorf("kubelet 1.37 does not accept the migrated file")
	}
}

func TestMigrateB04Loss(t *testing.T) {
	e := newFixEnv(t, casesDir+"B04*/cpu_manager_state.v4-k137-podlvl", "cpu_manager_state")
	out, stderr, code := runCkpt(t, "migrate", e.file, "--to-kubelet", "1.35", "--proc", e.proc, "--yes")
	if code != exitBad || !strings.Contains(stderr, "pod-level CPU assignment of pod bbbbbbbb-0000-4000-8000-00000000000b (3-4)") ||
		!strings.Contains(stderr, "--allow-loss") {
		t.Errorf("loss: exit %d\n%s%s", code, out, stderr)
	}
	e.assertUntouched(t)
	bdir := filepath.Join(t.TempDir(), "my-backups")
	out, stderr, code = runCkpt(t, "migrate", e.file, "--to-kubelet", "1.35", "--proc", e.proc, "--yes", "--allow-loss", "--backup-dir", bdir)
	if code != exitOK || !strings.Contains(out, "LOST (--allow-loss):") || !strings.Contains(out, "CPUs 3-4 of the dropped pod-level assignments go back") {
		t.Fatalf("--allow-loss: exit %d\n%s%s", code, out, stderr)
	}
	if m, _ := filepath.Glob(filepath.Join(bdir, "cpu_manager_state.*")); len(m) != 1 {
		t.Errorf("backup in --backup-dir: %v", m)
	}
	if out, _, code := runCkpt(t, "compat", e.file, "--kubelet", "1.35"); code != exitOK || !strings.Contains(out, "ACCEPT") {
		t.Errorf("1.35 after migration: exit %d\n%s", code, out)
	}
}

func TestMigrateB18(t *testing.T) {
	e := newFixEnv(t, casesDir+"B18*/dra_manager_state", "dra_manager_state")
	out, stderr, code := runCkpt(t, "migrate", e.file, "--to-kubelet", "1.31", "--proc", e.proc, "--yes")
	if code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, out, stderr)
	}
	for _, w := range []string{"Dropped (no place for them in the new format):", "resource handle of driver gpu.example.com",
		"ClassName \"gpu-class\"", "Kubelet 1.31: accept"} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
	e.assertWritten(t, "crc32")
}

func TestMigrateB12(t *testing.T) {
	e := newFixEnv(t, casesDir+"B12*/kubelet_internal_checkpoint", "kubelet_internal_checkpoint")
	if _, stderr, code := runCkpt(t, "migrate", e.file, "--to-kubelet", "1.37", "--proc", e.proc, "--yes"); code != exitUsage ||
		!strings.Contains(stderr, "--numa") {
		t.Errorf("without --numa: exit %d %s", code, stderr)
	}
	e.assertUntouched(t)
	if out, stderr, code := runCkpt(t, "migrate", e.file, "--to-kubelet", "1.37", "--numa", "0", "--proc", e.proc, "--yes"); code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, out, stderr)
	}
	e.assertWritten(t, "v2")
	// EXPECT: never "0 allocations".
	if out, _, _ := runCkpt(t, "inspect", e.file); !strings.Contains(out, "1 allocation,") {
		t.Errorf("inspect of the migrated file:\n%s", out)
	}
}

func TestMigrateB01Policy(t *testing.T) {
	e := newFixEnv(t, casesDir+"B01*/cpu_manager_state", "cpu_manager_state")
	out, stderr, code := runCkpt(t, "migrate", e.file, "--to-kubelet", "1.37", "--policy", "static", "--proc", e.proc, "--yes", "-o", "json")
	if code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, out, stderr)
	}
	var got struct {
		From    string `json:"from"`
		To      string `json:"to"`
		Written bool   `json:"written"`
		Backup  string `json:"backup"`
		Lost    []string
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	if got.From != "v2" || got.To != "v4" || !got.Written || got.Backup == "" || len(got.Lost) != 0 {
		t.Errorf("%+v", got)
	}
	e.assertWritten(t, "v4")
	if !strings.Contains(string(e.current(t)), `"policyName":"static"`) {
		t.Errorf("policy not static: %s", e.current(t))
	}
	// And back: static -> none with no exclusive assignments is fine.
	if _, stderr, code := runCkpt(t, "migrate", e.file, "--to-kubelet", "1.37", "--policy", "none", "--proc", e.proc); code != exitBad {
		t.Errorf("static -> none without assignments: exit %d %s", code, stderr)
	}
	// static -> none with exclusive assignments is refused, naming them.
	e2 := newFixEnv(t, casesDir+"B04*/cpu_manager_state.v4-k137", "cpu_manager_state")
	if _, stderr, code := runCkpt(t, "migrate", e2.file, "--to-kubelet", "1.37", "--policy", "none", "--proc", e2.proc, "--yes"); code != exitBad ||
		!strings.Contains(stderr, "exclusive CPUs 1-2 of aaaaaaaa-0000-4000-8000-00000000000a/app") {
		t.Errorf("static -> none: exit %d %s", code, stderr)
	}
	e2.assertUntouched(t)
}

func TestMigrateUsage(t *testing.T) {
	e := newFixEnv(t, casesDir+"B04*/cpu_manager_state.v4-k137", "cpu_manager_state")
	for _, tc := range []struct {
		reason string
		args   []string
		code   int
	}{
		{"no target", []string{"migrate", e.file}, exitUsage},
		{"bad target", []string{"migrate", e.file, "--to-kubelet", "2.0"}, exitUsage},
		{"bad gate", []string{"migrate", e.file, "--to-kubelet", "1.37", "--feature-gates", "Nope=true"}, exitUsage},
		{"missing file", []string{"migrate", e.file + ".missing", "--to-kubelet", "1.37"}, exitUsage},
		{"already in the target format", []string{"migrate", e.file, "--to-kubelet", "1.37", "--yes", "--proc", e.proc}, exitOK},
	} {
		t.Run(tc.reason, func(t *testing.T) {
			if out, stderr, code := runCkpt(t, tc.args...); code != tc.code {
				t.Errorf("exit %d, want %d\n%s%s", code, tc.code, out, stderr)
			}
		})
	}
	e.assertUntouched(t)
}
