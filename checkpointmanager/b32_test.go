package checkpointmanager_test

import (
	"fmt"
	"io/fs"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/ckptkit/ckpt/checkpointmanager"
	"github.com/ckptkit/ckpt/kubelet/allocation"
	"github.com/ckptkit/ckpt/store/storefs"
)

// renameCounter is the real file system, counting renames and fsyncs.
type renameCounter struct {
	storefs.OS
	renames, syncs *atomic.Int64
}

func (c renameCounter) Rename(oldpath, newpath string) error {
	c.renames.Add(1)
	return c.OS.Rename(oldpath, newpath)
}

func (c renameCounter) SyncDir(dir string) error {
	c.syncs.Add(1)
	return c.OS.SyncDir(dir)
}

func (c renameCounter) OpenFile(name string, flag int, perm fs.FileMode) (storefs.File, error) {
	f, err := c.OS.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return syncCounter{f, c.syncs}, nil
}

type syncCounter struct {
	storefs.File
	syncs *atomic.Int64
}

func (f syncCounter) Sync() error {
	f.syncs.Add(1)
	return f.File.Sync()
}

// allocationCheckpoint is the allocation manager's checkpoint through
// ckpt's format package.
type allocationCheckpoint struct {
	info allocation.PodResourceCheckpointInfo
}

func (c *allocationCheckpoint) MarshalCheckpoint() ([]byte, error) { return allocation.Encode(c.info) }
func (c *allocationCheckpoint) UnmarshalCheckpoint(blob []byte) error {
	info, err := allocation.Decode(blob)
	if err != nil {
		return err
	}
	c.info = *info
	return nil
}
func (c *allocationCheckpoint) VerifyChecksum() error { return nil }

// TestB32WriteAmplification is case B32 (testdata/cases/B32-...): admitting
// a pod with ten containers as one logical update costs exactly one rename
// (and two fsyncs: file and directory), and re-applying the same state a
// hundred times costs none, with WithSkipUnchanged.
func TestB32WriteAmplification(t *testing.T) {
	const key = "allocated_pods_state"
	dir := t.TempDir()
	copyVector(t, filepath.Join(testdata, "cases/B32-write-amplification-performance", key+".start"), dir, key)
	counter := renameCounter{renames: new(atomic.Int64), syncs: new(atomic.Int64)}
	m, err := checkpointmanager.NewCheckpointManagerWithOptions(dir,
		checkpointmanager.WithFS(counter), checkpointmanager.WithSkipUnchanged())
	if err != nil {
		t.Fatal(err)
	}
	cp := &allocationCheckpoint{}
	if err := m.GetCheckpoint(key, cp); err != nil {
		t.Fatal(err)
	}

	// Step 1: one logical update admits a pod with 10 containers.
	pod := allocation.PodResourceInfo{ContainerResources: map[string]allocation.ResourceRequirements{}}
	for i := range 10 {
		pod.ContainerResources[fmt.Sprintf("c%d", i)] = allocation.ResourceRequirements{
			Requests: allocation.ResourceList{"cpu": "100m", "memory": "64Mi"},
		}
	}
	cp.info.Entries["bbbbbbbb-0000-4000-8000-00000000000b"] = pod
	if err := m.CreateCheckpoint(key, cp); err != nil {
		t.Fatal(err)
	}
	if r, s := counter.renames.Load(), counter.syncs.Load(); r != 1 || s != 2 {
		t.Errorf("step 1: %d renames and %d fsyncs, want 1 and 2", r, s)
	}

	// Step 2: the same state re-applied 100 times.
	for range 100 {
		if err := m.CreateCheckpoint(key, cp); err != nil {
			t.Fatal(err)
		}
	}
	if r, s := counter.renames.Load(), counter.syncs.Load(); r != 1 || s != 2 {
		t.Errorf("step 2: %d renames and %d fsyncs in all, want still 1 and 2", r, s)
	}

	// The state on disk is the updated one.
	again := &allocationCheckpoint{}
	if err := m.GetCheckpoint(key, again); err != nil {
		t.Fatal(err)
	}
	if len(again.info.Entries) != 2 || len(again.info.Entries["bbbbbbbb-0000-4000-8000-00000000000b"].ContainerResources) != 10 {
		t.Errorf("stored state: %+v", again.info)
	}
}
