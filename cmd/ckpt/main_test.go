package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const cases = "../../testdata/cases"

// ckpt runs the command in-process and returns stdout, stderr and status.
func ckpt(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(args, &out, &errOut)
	return out.String(), errOut.String(), code
}

// records runs `verify -o json` and decodes its lines.
func records(t *testing.T, paths ...string) ([]record, int) {
	t.Helper()
	out, stderr, code := ckpt(t, append([]string{"verify", "-o", "json"}, paths...)...)
	var recs []record
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var r record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("line %q: %v (stderr %s)", sc.Text(), err, stderr)
		}
		recs = append(recs, r)
	}
	return recs, code
}

func one(t *testing.T, path string) (record, int) {
	t.Helper()
	recs, code := records(t, path)
	if len(recs) != 1 {
		t.Fatalf("%s: %d records, want 1", path, len(recs))
	}
	return recs[0], code
}

func TestVerifyKubeletGenerated(t *testing.T) {
	out, stderr, code := ckpt(t, "verify", "../../testdata/kubelet-generated")
	if code != exitOK {
		t.Fatalf("exit %d, stderr %s\n%s", code, stderr, out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 10 {
		t.Fatalf("%d lines, want 10:\n%s", len(lines), out)
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, "valid ") {
			t.Errorf("not valid: %s", l)
		}
	}
}

func TestVerifyExitStatus(t *testing.T) {
	dir := t.TempDir()
	notCkpt := filepath.Join(dir, "notes.txt")
	os.WriteFile(notCkpt, []byte("hello"), 0o644)
	jsonNotCkpt := filepath.Join(dir, "x.json")
	os.WriteFile(jsonNotCkpt, []byte(`{"a":1}`), 0o644)
	for _, tc := range []struct {
		reason string
		args   []string
		want   int
	}{
		{"valid files exit 0", []string{"verify", "../../testdata/kubelet-generated/dra/small/dra_manager_state"}, exitOK},
		{"a corrupt file exits 1", []string{"verify", "../../testdata/kubelet-vectors/cpumanager/v2-corrupt-checksum-1337.json"}, exitBad},
		{"an invalid file exits 1", []string{"verify", "../../testdata/kubelet-vectors/cpumanager/invalid-json.json"}, exitBad},
		{"an unknown file named explicitly exits 1", []string{"verify", notCkpt}, exitBad},
		{"unknown JSON named explicitly exits 1", []string{"verify", jsonNotCkpt}, exitBad},
		{"unknown files found in a directory are skipped", []string{"verify", dir}, exitOK},
		{"a missing path exits 2", []string{"verify", filepath.Join(dir, "missing")}, exitUsage},
		{"no path is a usage error", []string{"verify"}, exitUsage},
		{"an unknown output format is a usage error", []string{"verify", "-o", "yaml", dir}, exitUsage},
		{"an unknown command is a usage error", []string{"frobnicate"}, exitUsage},
		{"help exits 0", []string{"verify", "--help"}, exitOK},
	} {
		_, stderr, code := ckpt(t, tc.args...)
		if code != tc.want {
			t.Errorf("%s: exit %d, want %d (stderr %s)", tc.reason, code, tc.want, stderr)
		}
	}
}

func TestVerifyReportsLeftoverTempFiles(t *testing.T) {
	dir := t.TempDir()
	src, _ := os.ReadFile("../../testdata/kubelet-generated/cpumanager/small/cpu_manager_state")
	os.WriteFile(filepath.Join(dir, "cpu_manager_state"), src, 0o600)
	os.WriteFile(filepath.Join(dir, ".123456789"), src[:10], 0o600)
	recs, code := records(t, dir)
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	var leftovers int
	for _, r := range recs {
		if r.Finding == "leftover-temp-file" {
			leftovers++
		}
	}
	if leftovers != 1 || len(recs) != 2 {
		t.Fatalf("records %+v: want the checkpoint and one leftover", recs)
	}
}

func TestHelpHasExamples(t *testing.T) {
	for _, cmd := range []string{"verify", "inspect", "ls"} {
		out, _, code := ckpt(t, cmd, "--help")
		if code != exitOK || !strings.Contains(out, "Examples:") {
			t.Errorf("%s --help: exit %d, no example:\n%s", cmd, code, out)
		}
	}
}

func TestLs(t *testing.T) {
	out, _, code := ckpt(t, "ls", "../../testdata/kubelet-generated")
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 11 || !strings.HasPrefix(lines[0], "NAME") {
		t.Fatalf("want a header and 10 rows:\n%s", out)
	}
	if !strings.Contains(out, "cpumanager/realistic/cpu_manager_state") || !strings.Contains(out, "valid") {
		t.Errorf("rows lack names or verdicts:\n%s", out)
	}
}

// TestJSONOutputOnRefusal: with -o json, a command that refuses or fails
// before printing its report still prints one JSON document, with the
// error and the exit status.
func TestJSONOutputOnRefusal(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		reason string
		args   []string
		code   int
	}{
		{"migrate of a V1 file without --containers", []string{"migrate", "../../testdata/cases/B02-cpu-v1-legacy-checksum-typename/cpu_manager_state", "--to-kubelet", "1.37", "-o", "json"}, exitUsage},
		{"inspect of a missing file", []string{"inspect", "-o", "json", filepath.Join(dir, "cpu_manager_state")}, exitUsage},
		{"repair of an empty file", []string{"repair", "-o", "json", writeFile(t, dir, "memory_manager_state", "")}, 0},
	} {
		out, _, code := ckpt(t, tc.args...)
		if tc.code != 0 && code != tc.code {
			t.Errorf("%s: exit %d, want %d", tc.reason, code, tc.code)
		}
		if code == 0 {
			continue
		}
		var doc struct {
			Error      string `json:"error"`
			ExitStatus int    `json:"exitStatus"`
		}
		if err := json.Unmarshal([]byte(out), &doc); err != nil || doc.Error == "" || doc.ExitStatus != code {
			t.Errorf("%s: stdout %q is not a JSON error document (%v)", tc.reason, out, err)
		}
	}
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
