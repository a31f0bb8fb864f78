package safewrite

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ckptkit/ckpt/store"
	"github.com/ckptkit/ckpt/store/storefs"
)

var fixedNow = func() time.Time { return time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC) }

// layout makes <root>/kubelet/<name> holding content and an empty fake proc
// tree, and returns the file and the proc root.
func layout(t *testing.T, name string, content []byte) (path, proc string) {
	t.Helper()
	root := t.TempDir()
	dir := filepath.Join(root, "kubelet")
	proc = filepath.Join(root, "proc")
	for _, d := range []string{dir, proc} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	path = filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, content, 0o600); err != nil {
		t.Fatal(err)
	}
	return path, proc
}

// addProc adds a process to a fake proc tree.
func addProc(t *testing.T, proc string, pid, comm, cmdline string) {
	t.Helper()
	d := filepath.Join(proc, pid)
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	if comm != "" {
		if err := os.WriteFile(filepath.Join(d, "comm"), []byte(comm+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if cmdline != "" {
		if err := os.WriteFile(filepath.Join(d, "cmdline"), []byte(strings.ReplaceAll(cmdline, " ", "\x00")+"\x00"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// assertNoTemp fails when the directory holds a temporary file (a dot file
// other than the store's lock file).
func assertNoTemp(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") && e.Name() != store.LockFileName {
			t.Errorf("leftover temporary file %s", e.Name())
		}
	}
}

func TestReplaceSucceeds(t *testing.T) {
	orig, next := []byte(`{"old":1}`), []byte(`{"new":2}`)
	path, proc := layout(t, "cpu_manager_state", orig)
	addProc(t, proc, "1", "systemd", "/sbin/init")
	var verified []byte
	rep, err := Replace(path, next, func(b []byte) error { verified = b; return nil },
		Options{ProcRoot: proc, Now: fixedNow})
	if err != nil {
		t.Fatalf("Replace: %v", err)
	}
	if got := mustRead(t, path); !bytes.Equal(got, next) {
		t.Errorf("file = %q, want %q", got, next)
	}
	if !bytes.Equal(verified, next) {
		t.Errorf("verify saw %q, want %q", verified, next)
	}
	wantBackup := filepath.Join(filepath.Dir(filepath.Dir(path)), "ckpt-backup", "cpu_manager_state.20260304T050607Z")
	if rep.Backup != wantBackup {
		t.Errorf("backup = %s, want %s", rep.Backup, wantBackup)
	}
	if got := mustRead(t, rep.Backup); !bytes.Equal(got, orig) {
		t.Errorf("backup = %q, want the original %q", got, orig)
	}
	if fi, err := os.Stat(rep.Backup); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("backup mode = %v (%v), want 0600", fi.Mode(), err)
	}
	if rep.Bytes != len(next) || rep.Path != path {
		t.Errorf("report = %+v", rep)
	}
	assertNoTemp(t, filepath.Dir(path))

	// A second replacement in the same second gets a backup of its own.
	rep2, err := Replace(path, orig, nil, Options{ProcRoot: proc, Now: fixedNow})
	if err != nil {
		t.Fatalf("second Replace: %v", err)
	}
	if rep2.Backup != wantBackup+".1" {
		t.Errorf("second backup = %s, want %s.1", rep2.Backup, wantBackup)
	}
	if got := mustRead(t, rep2.Backup); !bytes.Equal(got, next) {
		t.Errorf("second backup = %q, want %q", got, next)
	}
}

// TestReplaceBareFileName: run from inside kubelet's directory with the
// file's bare name, as the runbook does.
func TestReplaceBareFileName(t *testing.T) {
	orig, next := []byte(`{"old":1}`), []byte(`{"new":2}`)
	path, proc := layout(t, "cpu_manager_state", orig)
	t.Chdir(filepath.Dir(path))
	if _, err := Replace("cpu_manager_state", next, nil, Options{ProcRoot: proc, Now: fixedNow}); err != nil {
		t.Fatalf("Replace with a bare file name: %v", err)
	}
	if got := mustRead(t, path); !bytes.Equal(got, next) {
		t.Errorf("file = %q, want %q", got, next)
	}
	assertNoTemp(t, filepath.Dir(path))
}

func TestReplaceKubeletRunning(t *testing.T) {
	tests := []struct {
		reason  string
		procs   [][3]string // pid, comm, cmdline
		force   bool
		wantErr error
		pids    []int
	}{
		{reason: "no kubelet: writes", procs: [][3]string{{"1", "systemd", "/sbin/init"}, {"77", "containerd", "/usr/bin/containerd"}}},
		{reason: "kubelet by comm: refuses", procs: [][3]string{{"1", "systemd", ""}, {"4242", "kubelet", "/usr/bin/kubelet --config x"}}, wantErr: ErrKubeletRunning, pids: []int{4242}},
		{reason: "kubelet by command line only (comm unreadable)", procs: [][3]string{{"99", "", "/usr/local/bin/kubelet --v=2"}}, wantErr: ErrKubeletRunning, pids: []int{99}},
		{reason: "hyperkube kubelet counts", procs: [][3]string{{"5", "hyperkube", "/hyperkube kubelet --v=2"}}, wantErr: ErrKubeletRunning, pids: []int{5}},
		{reason: "a process merely mentioning kubelet is not kubelet", procs: [][3]string{{"6", "bash", "/bin/bash -c kubelet"}, {"7", "kubelet-wrapper", "/bin/kubelet-wrapper"}}},
		{reason: "MicroK8s kubelite counts", procs: [][3]string{{"8", "kubelite", "/snap/microk8s/current/kubelite --v=2"}}, wantErr: ErrKubeletRunning, pids: []int{8}},
		{reason: "k3s server runs kubelet inside", procs: [][3]string{{"9", "k3s-server", "/usr/local/bin/k3s server"}}, wantErr: ErrKubeletRunning, pids: []int{9}},
		{reason: "k3s agent by command line", procs: [][3]string{{"10", "", "/usr/local/bin/k3s\x00agent"}}, wantErr: ErrKubeletRunning, pids: []int{10}},
		{reason: "other k3s subcommands are not kubelet", procs: [][3]string{{"11", "k3s", "/usr/local/bin/k3s\x00kubectl"}}},
		{reason: "non-numeric entries are ignored", procs: [][3]string{{"self", "kubelet", ""}}},
		{reason: "kubelet running but forced: writes", procs: [][3]string{{"4242", "kubelet", ""}}, force: true},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			orig := []byte("orig")
			path, proc := layout(t, "memory_manager_state", orig)
			for _, p := range tt.procs {
				addProc(t, proc, p[0], p[1], p[2])
			}
			_, err := Replace(path, []byte("next"), nil, Options{ProcRoot: proc, Force: tt.force, Now: fixedNow})
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr != nil {
				var kr *KubeletRunningError
				if !errors.As(err, &kr) || !equalInts(kr.PIDs, tt.pids) {
					t.Errorf("KubeletRunningError = %+v, want pids %v", kr, tt.pids)
				}
				if got := mustRead(t, path); !bytes.Equal(got, orig) {
					t.Errorf("file changed to %q although refused", got)
				}
				if _, err := os.Stat(filepath.Join(filepath.Dir(filepath.Dir(path)), "ckpt-backup")); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("backup directory made although refused: %v", err)
				}
			} else if got := mustRead(t, path); string(got) != "next" {
				t.Errorf("file = %q, want next", got)
			}
		})
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestReplaceProcUnavailable(t *testing.T) {
	path, _ := layout(t, "x", []byte("orig"))
	_, err := Replace(path, []byte("next"), nil, Options{ProcRoot: filepath.Join(t.TempDir(), "missing")})
	if !errors.Is(err, ErrProcUnavailable) {
		t.Fatalf("err = %v, want ErrProcUnavailable", err)
	}
	if got := mustRead(t, path); string(got) != "orig" {
		t.Errorf("file changed to %q", got)
	}
}

func TestReplaceFailedVerifyRestores(t *testing.T) {
	orig := []byte(`{"policyName":"none"}`)
	path, proc := layout(t, "cpu_manager_state", orig)
	errBad := errors.New("verdict corrupt")
	rep, err := Replace(path, []byte(`{"policyName":"static"}`), func([]byte) error { return errBad },
		Options{ProcRoot: proc, Now: fixedNow})
	if !errors.Is(err, ErrVerify) || !errors.Is(err, errBad) {
		t.Fatalf("err = %v, want ErrVerify wrapping the cause", err)
	}
	var ve *VerifyError
	if !errors.As(err, &ve) || !ve.Restored || ve.Backup != rep.Backup {
		t.Errorf("VerifyError = %+v, want Restored with backup %s", ve, rep.Backup)
	}
	if got := mustRead(t, path); !bytes.Equal(got, orig) {
		t.Errorf("file = %q, want the original restored", got)
	}
	if got := mustRead(t, rep.Backup); !bytes.Equal(got, orig) {
		t.Errorf("backup = %q, want the original", got)
	}
	assertNoTemp(t, filepath.Dir(path))
}

// faultFS fails the Sync of files it opens (the temporary file of a write)
// while armed.
type faultFS struct {
	storefs.OS
	armed *bool
}

type faultFile struct{ storefs.File }

var errInjected = errors.New("injected fsync failure")

func (faultFile) Sync() error { return errInjected }

func (f faultFS) OpenFile(name string, flag int, perm fs.FileMode) (storefs.File, error) {
	file, err := f.OS.OpenFile(name, flag, perm)
	if err != nil || !*f.armed {
		return file, err
	}
	return faultFile{file}, nil
}

func TestReplaceFailedWriteLeavesOriginal(t *testing.T) {
	armed := true
	storeOptions = []store.Option{store.WithFS(faultFS{armed: &armed})}
	t.Cleanup(func() { storeOptions = nil })
	orig := []byte("original bytes")
	path, proc := layout(t, "kubelet_internal_checkpoint", orig)
	rep, err := Replace(path, []byte("new bytes"), nil, Options{ProcRoot: proc, Now: fixedNow})
	if !errors.Is(err, ErrWrite) || !errors.Is(err, errInjected) {
		t.Fatalf("err = %v, want ErrWrite wrapping the injected failure", err)
	}
	if got := mustRead(t, path); !bytes.Equal(got, orig) {
		t.Errorf("file = %q, want the original", got)
	}
	if got := mustRead(t, rep.Backup); !bytes.Equal(got, orig) {
		t.Errorf("backup = %q, want the original", got)
	}
	assertNoTemp(t, filepath.Dir(path))
}

func TestReplaceRefusals(t *testing.T) {
	tests := []struct {
		reason  string
		setup   func(t *testing.T, path string) (target string, opts Options)
		wantErr error
	}{
		{
			reason: "missing file",
			setup: func(t *testing.T, path string) (string, Options) {
				return path + ".missing", Options{}
			},
			wantErr: ErrNotRegular,
		},
		{
			reason: "directory",
			setup: func(t *testing.T, path string) (string, Options) {
				return filepath.Dir(path), Options{}
			},
			wantErr: ErrNotRegular,
		},
		{
			reason: "symbolic link",
			setup: func(t *testing.T, path string) (string, Options) {
				link := path + "-link"
				if err := os.Symlink(path, link); err != nil {
					t.Skip(err)
				}
				return link, Options{}
			},
			wantErr: ErrNotRegular,
		},
		{
			reason: "backup directory is the checkpoint's own directory",
			setup: func(t *testing.T, path string) (string, Options) {
				return path, Options{BackupDir: filepath.Dir(path)}
			},
			wantErr: ErrBackup,
		},
		{
			reason: "backup directory inside kubelet's root (review item 11: only the checkpoint's own directory was refused)",
			setup: func(t *testing.T, path string) (string, Options) {
				return path, Options{BackupDir: filepath.Join(filepath.Dir(path), "sub", "backups")}
			},
			wantErr: ErrBackup,
		},
		{
			reason: "the kubelet root as backup directory of the device checkpoint (kubelet lists it)",
			setup: func(t *testing.T, path string) (string, Options) {
				dev := filepath.Join(filepath.Dir(path), "device-plugins", "kubelet_internal_checkpoint")
				if err := os.MkdirAll(filepath.Dir(dev), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(dev, []byte("orig"), 0o600); err != nil {
					t.Fatal(err)
				}
				return dev, Options{BackupDir: filepath.Dir(path)}
			},
			wantErr: ErrBackup,
		},
		{
			reason: "a symbolic link that leads into kubelet's root",
			setup: func(t *testing.T, path string) (string, Options) {
				link := filepath.Join(t.TempDir(), "link")
				if err := os.Symlink(filepath.Dir(path), link); err != nil {
					t.Skip(err)
				}
				return path, Options{BackupDir: filepath.Join(link, "backups")}
			},
			wantErr: ErrBackup,
		},
		{
			reason: "backup directory is a file",
			setup: func(t *testing.T, path string) (string, Options) {
				f := filepath.Join(t.TempDir(), "file")
				if err := os.WriteFile(f, nil, 0o600); err != nil {
					t.Fatal(err)
				}
				return path, Options{BackupDir: f}
			},
			wantErr: ErrBackup,
		},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			path, proc := layout(t, "dra_manager_state", []byte("orig"))
			target, opts := tt.setup(t, path)
			opts.ProcRoot, opts.Now = proc, fixedNow
			if _, err := Replace(target, []byte("next"), nil, opts); !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if got := mustRead(t, path); string(got) != "orig" {
				t.Errorf("file changed to %q", got)
			}
			if tt.wantErr == ErrBackup {
				if got := mustRead(t, target); string(got) != "orig" {
					t.Errorf("target changed to %q", got)
				}
			}
			if _, err := os.Stat(filepath.Join(filepath.Dir(path), "sub")); err == nil {
				t.Errorf("a backup directory was made inside kubelet's root")
			}
		})
	}
}

// Review item 15: the store's lock file stayed in kubelet's directory (and
// in device-plugins/, where kubelet's device manager deletes files it does
// not know). Replace writes without the store's lock and takes its own in
// the backup directory.
func TestReplaceLeavesNoLockFileInKubeletDirs(t *testing.T) {
	for _, tc := range []struct{ reason, name string }{
		{"a checkpoint in the root", "cpu_manager_state"},
		{"the device checkpoint in device-plugins/", filepath.Join("device-plugins", "kubelet_internal_checkpoint")},
	} {
		t.Run(tc.reason, func(t *testing.T) {
			path, proc := layout(t, tc.name, []byte("orig"))
			rep, err := Replace(path, []byte("next"), nil, Options{ProcRoot: proc, Now: fixedNow})
			if err != nil {
				t.Fatal(err)
			}
			root := KubeletRoot(path)
			for _, dir := range []string{root, filepath.Join(root, "device-plugins")} {
				entries, _ := os.ReadDir(dir)
				for _, e := range entries {
					if strings.HasPrefix(e.Name(), ".") {
						t.Errorf("%s left in %s", e.Name(), dir)
					}
				}
			}
			if _, err := os.Stat(filepath.Join(filepath.Dir(rep.Backup), LockFileName)); err != nil {
				t.Errorf("no writers' lock in the backup directory: %v", err)
			}
		})
	}
}

// Two ckpt writers never interleave: while one holds the lock in the backup
// directory, another fails with ErrLocked and changes nothing.
func TestReplaceLockedByAnotherWriter(t *testing.T) {
	path, proc := layout(t, "cpu_manager_state", []byte("orig"))
	bdir := backupDir(path, Options{})
	if err := os.MkdirAll(bdir, 0o700); err != nil {
		t.Fatal(err)
	}
	unlock, err := lockBackupDir(bdir)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	saved := lockWait
	lockWait = 100 * time.Millisecond
	t.Cleanup(func() { lockWait = saved })
	if _, err := Replace(path, []byte("next"), nil, Options{ProcRoot: proc, Now: fixedNow}); !errors.Is(err, ErrLocked) {
		t.Skipf("err = %v (no advisory locks on this system?)", err)
	}
	if got := mustRead(t, path); string(got) != "orig" {
		t.Errorf("file changed to %q", got)
	}
}

func TestReplaceCustomBackupDir(t *testing.T) {
	path, proc := layout(t, "allocated_pods_state", []byte("orig"))
	bdir := filepath.Join(t.TempDir(), "deep", "backups")
	rep, err := Replace(path, []byte("next"), nil, Options{ProcRoot: proc, BackupDir: bdir, Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	if want := BackupPath(path, Options{BackupDir: bdir}, fixedNow()); rep.Backup != want {
		t.Errorf("backup = %s, want %s", rep.Backup, want)
	}
	if got := mustRead(t, rep.Backup); string(got) != "orig" {
		t.Errorf("backup = %q", got)
	}
}

func TestBackupOfDeviceCheckpointLeavesKubeletRoot(t *testing.T) {
	for _, tc := range []struct {
		reason, path, want string
	}{
		{"a checkpoint in the root goes beside the root", "/var/lib/kubelet/cpu_manager_state", "/var/lib/ckpt-backup"},
		{"the device checkpoint goes beside the root too, not into it", "/var/lib/kubelet/device-plugins/kubelet_internal_checkpoint", "/var/lib/ckpt-backup"},
	} {
		if got := filepath.Dir(BackupPath(tc.path, Options{}, time.Unix(0, 0))); got != tc.want {
			t.Errorf("%s: backup in %s, want %s", tc.reason, got, tc.want)
		}
	}
}
