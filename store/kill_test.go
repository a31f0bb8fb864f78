//go:build unix

package store_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ckptkit/ckpt/store"
)

// killChildEnv, when set to a directory, turns TestKillChild into the child
// process of TestKillDuringWrites: it writes checkpoints into that directory
// until it is killed.
const killChildEnv = "CKPT_TEST_KILL_CHILD_DIR"

var killKeys = []string{"cpu_manager_state", "memory_manager_state", "kubelet_internal_checkpoint", "dra_manager_state"}

// killValue is a self-checking value: a header naming key, sequence number,
// payload length and the payload's FNV-32a, then the payload (up to 192
// KiB, so that a write spans many pages).
func killValue(key string, seq int) []byte {
	n := (seq * 7919) % (192 << 10)
	payload := bytes.Repeat([]byte{byte('a' + seq%26)}, n)
	h := fnv.New32a()
	h.Write(payload)
	return append(fmt.Appendf(nil, "key=%s seq=%d len=%d fnv=%08x\n", key, seq, n, h.Sum32()), payload...)
}

// checkKillValue parses and verifies a value, returning its sequence number.
func checkKillValue(key string, data []byte) (int, error) {
	header, payload, ok := bytes.Cut(data, []byte("\n"))
	if !ok {
		return 0, fmt.Errorf("no header in %d bytes", len(data))
	}
	var k string
	var seq, n int
	var sum uint32
	if _, err := fmt.Sscanf(string(header), "key=%s seq=%d len=%d fnv=%x", &k, &seq, &n, &sum); err != nil {
		return 0, fmt.Errorf("header %q: %w", header, err)
	}
	h := fnv.New32a()
	h.Write(payload)
	if k != key || n != len(payload) || h.Sum32() != sum {
		return 0, fmt.Errorf("torn value: header %q, payload of %d bytes with fnv %08x", header, len(payload), h.Sum32())
	}
	return seq, nil
}

// TestKillChild is the child process of TestKillDuringWrites; on its own
// it does nothing.
func TestKillChild(t *testing.T) {
	dir := os.Getenv(killChildEnv)
	if dir == "" {
		t.Skip("the child process of TestKillDuringWrites")
	}
	s, err := store.NewFileStore(dir, store.WithStaleTempAge(-1)) // leave the evidence to the parent
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(2)
	}
	seq := 0
	for _, key := range killKeys {
		if data, err := s.Read(key); err == nil {
			if n, err := checkKillValue(key, data); err == nil {
				seq = max(seq, n)
			}
		}
	}
	fmt.Println("ready")
	for i := 0; ; i++ {
		seq++
		key := killKeys[i%len(killKeys)]
		if i%3 == 2 {
			err = s.Update(key, func([]byte, bool) ([]byte, error) { return killValue(key, seq), nil })
		} else {
			err = s.Write(key, killValue(key, seq))
		}
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(2)
		}
	}
}

// TestKillDuringWrites kills a real process writing checkpoints with
// SIGKILL at random moments: every key always holds a whole value, old or
// new, and never goes back; no temporary file is listed; the next
// NewFileStore removes the temporary files the kill left.
func TestKillDuringWrites(t *testing.T) {
	if os.Getenv(killChildEnv) != "" {
		t.Skip("in the child")
	}
	kills, budget := 200, 10*time.Second // the budget bounds a slow machine
	if testing.Short() {
		kills = 20
	}
	exe, err := os.Executable()
	if err != nil {
		t.Skipf("cannot re-execute the test binary: %v", err)
	}
	dir := t.TempDir()
	s, err := store.NewFileStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range killKeys {
		if err := s.Write(key, killValue(key, 0)); err != nil {
			t.Fatal(err)
		}
	}
	seed := time.Now().UnixNano()
	rng := rand.New(rand.NewPCG(uint64(seed), 0))
	t.Logf("random seed %d", seed)
	lastSeq := map[string]int{}
	start := time.Now()
	done, leftovers := 0, 0
	for ; done < kills && time.Since(start) < budget; done++ {
		cmd := exec.Command(exe, "-test.run=^TestKillChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), killChildEnv+"="+dir)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		ready := make(chan string, 1)
		go func() {
			line, _ := bufio.NewReader(out).ReadString('\n')
			ready <- line
		}()
		select {
		case line := <-ready:
			if strings.TrimSpace(line) != "ready" {
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatalf("child %d: %q", done, line)
			}
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("child %d did not start", done)
		}
		time.Sleep(time.Duration(rng.IntN(8000)) * time.Microsecond)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		var exitErr *exec.ExitError
		if err := cmd.Wait(); !errors.As(err, &exitErr) {
			t.Fatalf("child %d ended with %v, want killed (did it fail?)", done, err)
		}

		// What the kill left, before anyone cleans up.
		raw, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range raw {
			if ownTemp.MatchString(e.Name()) {
				leftovers++
			}
		}
		lister, err := store.NewFileStore(dir, store.WithStaleTempAge(-1))
		if err != nil {
			t.Fatal(err)
		}
		if keys, err := lister.List(); err != nil || len(keys) != len(killKeys) {
			t.Fatalf("kill %d: List = %v, %v; want exactly the %d keys", done, keys, err, len(killKeys))
		}
		// The next open cleans up.
		opened, err := store.NewFileStore(dir)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ = os.ReadDir(dir)
		for _, e := range raw {
			if strings.HasPrefix(e.Name(), ".") && e.Name() != store.LockFileName {
				t.Errorf("kill %d: %s left after NewFileStore", done, e.Name())
			}
		}
		for _, key := range killKeys {
			data, err := opened.Read(key)
			if err != nil {
				t.Fatalf("kill %d: Read(%s): %v", done, key, err)
			}
			seq, err := checkKillValue(key, data)
			if err != nil {
				t.Fatalf("kill %d: key %s: %v", done, key, err)
			}
			if seq < lastSeq[key] {
				t.Fatalf("kill %d: key %s went back from seq %d to %d", done, key, lastSeq[key], seq)
			}
			lastSeq[key] = seq
		}
	}
	if done < min(kills, 50) {
		t.Errorf("only %d kills within %v", done, budget)
	}
	writes := 0
	for _, seq := range lastSeq {
		writes = max(writes, seq)
	}
	fmt.Printf("kill test: %d SIGKILLs of a writing process in %v (about %d writes); the kills left %d temporary files, all removed by the next open; every key whole\n",
		done, time.Since(start).Round(time.Millisecond), writes, leftovers)
}

// lockChildEnv, when set to a directory, turns TestLockHolderChild into a
// process that holds the directory lock (inside an Update) until killed.
const lockChildEnv = "CKPT_TEST_LOCK_CHILD_DIR"

// TestLockHolderChild is the child process of TestLockAcrossProcesses.
func TestLockHolderChild(t *testing.T) {
	dir := os.Getenv(lockChildEnv)
	if dir == "" {
		t.Skip("the child process of TestLockAcrossProcesses")
	}
	s, err := store.NewFileStore(dir)
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(2)
	}
	err = s.Update("state", func([]byte, bool) ([]byte, error) {
		fmt.Println("locked")
		select {} // hold the lock until killed
	})
	fmt.Println("error:", err)
	os.Exit(2)
}

// TestLockAcrossProcesses: another process holding the directory lock
// makes a write wait, then fail at the timeout with an error naming the
// directory and the holder's PID; once the holder dies (even by SIGKILL)
// the lock is free at once.
func TestLockAcrossProcesses(t *testing.T) {
	if os.Getenv(lockChildEnv) != "" {
		t.Skip("in the child")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Skipf("cannot re-execute the test binary: %v", err)
	}
	dir := t.TempDir()
	cmd := exec.Command(exe, "-test.run=^TestLockHolderChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), lockChildEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, _ := bufio.NewReader(out).ReadString('\n')
	if strings.TrimSpace(line) != "locked" {
		t.Fatalf("child: %q", line)
	}
	s, err := store.NewFileStore(dir, store.WithLockTimeout(200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	err = s.Write("other", []byte("v"))
	var lockErr *store.LockError
	if !errors.Is(err, store.ErrLockTimeout) || !errors.As(err, &lockErr) || lockErr.HolderPID != cmd.Process.Pid || lockErr.Dir != dir {
		t.Fatalf("Write while another process holds the lock = %v, want a *LockError naming %s and pid %d", err, dir, cmd.Process.Pid)
	}
	t.Logf("the waiter's error: %v", err)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if err := s.Write("other", []byte("v")); err != nil {
		t.Errorf("Write after the holder died: %v", err)
	}
}
