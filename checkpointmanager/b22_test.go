//go:build unix

package checkpointmanager_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ckptkit/ckpt/checkpointmanager"
	cperrors "github.com/ckptkit/ckpt/checkpointmanager/errors"
	"github.com/ckptkit/ckpt/store"
)

// draCheckpoint is kubelet's dra_manager_state (1.31+): {"Data":"...",
// "Checksum":crc32}, reduced to what the test needs.
type draCheckpoint struct {
	Data     string
	Checksum uint32
}

type draData struct {
	Kind               string      `json:"kind"`
	APIVersion         string      `json:"apiVersion"`
	ClaimInfoStateList []claimInfo `json:"ClaimInfoStateList"`
}

type claimInfo struct {
	ClaimUID  string
	ClaimName string
	Namespace string
}

func (c *draCheckpoint) MarshalCheckpoint() ([]byte, error) {
	c.Checksum = crc32.ChecksumIEEE([]byte(c.Data))
	return json.Marshal(*c)
}

func (c *draCheckpoint) UnmarshalCheckpoint(blob []byte) error { return json.Unmarshal(blob, c) }

func (c *draCheckpoint) VerifyChecksum() error {
	if sum := crc32.ChecksumIEEE([]byte(c.Data)); sum != c.Checksum {
		return &cperrors.CorruptCheckpointError{ActualCS: uint64(sum), ExpectedCS: uint64(c.Checksum)}
	}
	return nil
}

func (c *draCheckpoint) claims() (draData, error) {
	var d draData
	err := json.Unmarshal([]byte(c.Data), &d)
	return d, err
}

func (c *draCheckpoint) setClaims(d draData) error {
	data, err := json.Marshal(d)
	c.Data = string(data)
	return err
}

func newDRA() *draCheckpoint { return &draCheckpoint{} }

// addClaim is the read-modify-write of one Prepare.
func addClaim(uid string) func(*draCheckpoint, bool) error {
	return func(cp *draCheckpoint, _ bool) error {
		d, err := cp.claims()
		if err != nil {
			return err
		}
		d.ClaimInfoStateList = append(d.ClaimInfoStateList, claimInfo{ClaimUID: uid, ClaimName: "claim-" + uid, Namespace: "default"})
		return cp.setClaims(d)
	}
}

// removeEndingIn0 is the cleanup: it drops the claims whose UID ends in 0.
func removeEndingIn0(cp *draCheckpoint, _ bool) error {
	d, err := cp.claims()
	if err != nil {
		return err
	}
	kept := d.ClaimInfoStateList[:0]
	for _, c := range d.ClaimInfoStateList {
		if !strings.HasSuffix(c.ClaimUID, "0") {
			kept = append(kept, c)
		}
	}
	d.ClaimInfoStateList = kept
	return cp.setClaims(d)
}

const (
	b22Key      = "dra_manager_state"
	b22ChildEnv = "CKPT_TEST_B22_CHILD" // "dir|name|killAt"
	b22Claims   = 50
)

// b22Manager is a manager whose lock waits are long: a process competing
// with a busy one may wait for the directory lock for a while (flock
// polling is not fair), but never without bound.
func b22Manager(dir string) (checkpointmanager.CheckpointManager, error) {
	fs, err := store.NewFileStore(dir, store.WithLockTimeout(time.Minute))
	if err != nil {
		return nil, err
	}
	return checkpointmanager.NewCheckpointManagerWithOptions(dir, checkpointmanager.WithStore(fs))
}

// TestB22Child is the child process of TestB22ConcurrentReadModifyWrite:
// it adds its claims one Update at a time, printing "ack <uid>" after each;
// with killAt > 0 it announces "in-update <uid>" inside that update and
// waits there to be killed.
func TestB22Child(t *testing.T) {
	env := os.Getenv(b22ChildEnv)
	if env == "" {
		t.Skip("the child process of TestB22ConcurrentReadModifyWrite")
	}
	parts := strings.Split(env, "|")
	killAt, _ := strconv.Atoi(parts[2])
	m, err := b22Manager(parts[0])
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(2)
	}
	for i := 1; i <= b22Claims; i++ {
		uid := fmt.Sprintf("%s-%02d", parts[1], i)
		change := addClaim(uid)
		if i == killAt {
			change = func(cp *draCheckpoint, found bool) error {
				fmt.Println("in-update", uid)
				select {} // killed here, holding the lock, before the write
			}
		}
		if _, err := checkpointmanager.Update(m, b22Key, newDRA, change); err != nil {
			fmt.Println("error:", err)
			os.Exit(2)
		}
		fmt.Println("ack", uid)
	}
	os.Exit(0)
}

// TestB22ConcurrentReadModifyWrite: 16 goroutines and 2 processes add 50
// claims each by read-modify-write while a cleanup removes the claims whose
// UID ends in 0 and readers read; one process is killed in the middle of an
// update. No update is lost: the final checkpoint verifies and holds
// exactly the acknowledged claims that do not end in 0.
func TestB22ConcurrentReadModifyWrite(t *testing.T) {
	if os.Getenv(b22ChildEnv) != "" {
		t.Skip("in the child")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Skipf("cannot re-execute the test binary: %v", err)
	}
	dir := t.TempDir()
	copyVector(t, filepath.Join(testdata, "cases/B22-dra-plugin-race-stale-prepare", b22Key), dir, b22Key)
	m, err := b22Manager(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.GetCheckpoint(b22Key, newDRA()); err != nil {
		t.Fatalf("the case's checkpoint does not verify: %v", err)
	}

	var mu sync.Mutex
	acked := map[string]bool{}
	ack := func(uid string) { mu.Lock(); acked[uid] = true; mu.Unlock() }

	// Two processes; the second is killed in the middle of its 25th
	// update, holding the lock.
	type child struct {
		cmd  *exec.Cmd
		done chan error
	}
	var children []child
	for i, killAt := range []int{0, 25} {
		cmd := exec.Command(exe, "-test.run=^TestB22Child$", "-test.count=1")
		cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s|p%d|%d", b22ChildEnv, dir, i, killAt))
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		c := child{cmd: cmd, done: make(chan error, 1)}
		go func() {
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				line := sc.Text()
				switch {
				case strings.HasPrefix(line, "ack "):
					ack(strings.TrimPrefix(line, "ack "))
				case strings.HasPrefix(line, "in-update "):
					// Killed in the middle of an update.
					cmd.Process.Signal(syscall.SIGKILL)
				case strings.HasPrefix(line, "error:"):
					t.Errorf("child p%d: %s", i, line)
				}
			}
			c.done <- cmd.Wait()
		}()
		children = append(children, c)
	}

	var writers, background sync.WaitGroup
	for g := range 16 {
		writers.Go(func() {
			for i := 1; i <= b22Claims; i++ {
				uid := fmt.Sprintf("g%02d-%02d", g, i)
				if _, err := checkpointmanager.Update(m, b22Key, newDRA, addClaim(uid)); err != nil {
					t.Errorf("goroutine %d: %v", g, err)
					return
				}
				ack(uid)
			}
		})
	}
	var stop atomic.Bool
	var reads atomic.Int64
	background.Go(func() { // the cleanup
		for !stop.Load() {
			if _, err := checkpointmanager.Update(m, b22Key, newDRA, removeEndingIn0); err != nil {
				t.Errorf("cleanup: %v", err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
	for range 2 { // readers never see a partial or unverifiable file
		background.Go(func() {
			for !stop.Load() {
				if err := m.GetCheckpoint(b22Key, newDRA()); err != nil {
					t.Errorf("reader: %v", err)
				}
				reads.Add(1)
				time.Sleep(2 * time.Millisecond)
			}
		})
	}
	writers.Wait()
	for i, c := range children {
		err := <-c.done
		var exitErr *exec.ExitError
		if i == 1 && !(errors.As(err, &exitErr) && !exitErr.Exited()) {
			t.Errorf("child p1 was not killed: %v", err)
		}
		if i == 0 && err != nil {
			t.Errorf("child p0: %v", err)
		}
	}
	stop.Store(true)
	background.Wait()
	if _, err := checkpointmanager.Update(m, b22Key, newDRA, removeEndingIn0); err != nil {
		t.Fatal(err)
	}

	final := newDRA()
	if err := m.GetCheckpoint(b22Key, final); err != nil {
		t.Fatalf("the final checkpoint does not verify: %v", err)
	}
	d, err := final.claims()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, c := range d.ClaimInfoStateList {
		if got[c.ClaimUID] {
			t.Errorf("claim %s twice", c.ClaimUID)
		}
		got[c.ClaimUID] = true
	}
	want := 0
	for uid := range acked {
		if strings.HasSuffix(uid, "0") {
			continue
		}
		want++
		if !got[uid] {
			t.Errorf("acknowledged claim %s lost", uid)
		}
	}
	// 16*50 + 50 + 24 acknowledged (the killed process got 24 through),
	// a tenth of them ending in 0: 874 acknowledged, 787 kept.
	if len(acked) != 874 || want != 787 {
		t.Errorf("%d claims acknowledged, %d to keep; want 874 and 787", len(acked), want)
	}
	if len(got) != want {
		t.Errorf("final checkpoint holds %d claims, want exactly the %d acknowledged ones not ending in 0 (the killed update's claim must not appear)", len(got), want)
	}
	if got["p1-25"] {
		t.Error("the claim of the killed update was written")
	}
	if names := dirNames(t, dir); len(names) != 1 || names[0] != b22Key {
		t.Errorf("directory holds %v, want only the checkpoint", names)
	}
	t.Logf("final claims %d, reads %d", len(got), reads.Load())
}
