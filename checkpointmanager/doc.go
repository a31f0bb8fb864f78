// Package checkpointmanager is a drop-in replacement for kubelet's
// pkg/kubelet/checkpointmanager: the same Checkpoint and CheckpointManager
// interfaces, the same NewCheckpointManager, the same files on disk and (with
// the checksum package) the same checksums. Code using kubelet's package
// migrates by changing import paths only:
//
//	k8s.io/kubernetes/pkg/kubelet/checkpointmanager          -> github.com/ckptkit/ckpt/checkpointmanager
//	k8s.io/kubernetes/pkg/kubelet/checkpointmanager/checksum -> github.com/ckptkit/ckpt/checkpointmanager/checksum
//	k8s.io/kubernetes/pkg/kubelet/checkpointmanager/errors   -> github.com/ckptkit/ckpt/checkpointmanager/errors
//
// # Behaviour kept from kubelet
//
//  1. Keys follow kubelet's grammar, ^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$,
//     at most 250 characters; each key is a file of that name in the
//     checkpoint directory, which is created (0755) when missing.
//  2. GetCheckpoint reads the file, calls UnmarshalCheckpoint on the caller's
//     object and, if that succeeded, VerifyChecksum, and returns the first
//     error. The object is filled in place, so constructor-made empty maps
//     stay empty maps (which the checksums of kubelet's formats depend on)
//     and memory the object points to receives the data. What happens to
//     the object on error is difference 8 below.
//  3. A missing checkpoint returns errors.ErrCheckpointNotFound itself, not
//     wrapped, so the kubelet idiom err == errors.ErrCheckpointNotFound keeps
//     working (errors.Is works too).
//  4. RemoveCheckpoint of a missing key is not an error. ListCheckpoints skips
//     names starting with ".", such as temporary files.
//  5. Files are written as kubelet writes them: MarshalCheckpoint's bytes,
//     mode 0600, through a "."-prefixed temporary file and a rename.
//
// # Deliberate differences
//
//  1. Durability: a write also fsyncs the directory after the rename, so a
//     checkpoint that CreateCheckpoint reported as written survives a power
//     loss (see store.FileStore).
//  2. Concurrency: operations on different keys run in parallel; operations on
//     one key are serialized. Kubelet holds one manager-wide mutex across
//     read, decode and verify. The per-key lock here covers the store
//     operation; MarshalCheckpoint, UnmarshalCheckpoint and VerifyChecksum run
//     outside it, on the caller's own object.
//  3. Errors: every error except not-found is a *errors.CheckpointError naming
//     the operation, key and path and wrapping the cause with %w (the errno,
//     store.ErrInvalidKey, store.ErrTooLarge, a *errors.CorruptCheckpointError,
//     ...); its message adds both checksums to kubelet's "checkpoint is
//     corrupted". Test with errors.Is and errors.As: kubelet 1.32-era
//     comparisons err == errors.ErrCorruptCheckpoint must become
//     errors.Is(err, errors.ErrCorruptCheckpoint).
//  4. Bounded reads: GetCheckpoint refuses a file larger than
//     DefaultMaxCheckpointSize (64 MiB; see WithMaxCheckpointSize) with an
//     error wrapping store.ErrTooLarge, and a key naming a directory, FIFO,
//     socket or device with one wrapping store.ErrNotRegular (kubelet would
//     block forever on a FIFO).
//  5. ListCheckpoints returns only regular files (and symbolic links to
//     them) whose names are valid keys, sorted; kubelet also lists
//     directories and sockets, which GetCheckpoint could never read. A
//     missing directory lists as empty.
//  6. A nil Checkpoint (or a nil pointer in the interface) is an error
//     wrapping ErrNilCheckpoint instead of a panic.
//  7. The manager's own leftover temporary files ("." + key + ".ckpt-tmp-" +
//     16 hex digits) are removed when it is created: all of them when no
//     writer holds the directory lock, else those older than a minute.
//     Kubelet's ("." + digits) are left alone.
//  8. A failed GetCheckpoint leaves the caller's object untouched. Kubelet
//     leaves it half-filled. The manager snapshots the object before filling
//     it: the pointees, map contents and slice backing arrays reachable from
//     it (but not mutexes and atomics). When decoding or verification fails,
//     it restores every one of them, keeping the same maps and pointers. So a caller may retry, fall back or
//     keep serving the state it had. Code ported from kubelet that inspects
//     the half-filled object after a failure needs WithInPlaceGet:
//     cpumanager V4 and memorymanager V3 decide from a non-empty "data"
//     whether to fall back to an older format. Without the option, such code
//     would silently fall back where kubelet refuses.
//  9. Writes take the directory's advisory lock: shared for CreateCheckpoint
//     and RemoveCheckpoint, exclusive for Update. The lock is the sidecar
//     file ".ckpt.lock" (see store.LockFileName), and every wait is bounded
//     by a timeout. Update is an all-or-nothing read-modify-write that no
//     other goroutine or process can interleave with.
//
// # Testing
//
// WithFS runs the manager over any storefs.FS: ckpttest/crashfs simulates
// crashes (power loss) to prove that code using the manager recovers;
// docs/durability.md states the guarantees being tested. The testing
// package holds MemStore for unit tests.
package checkpointmanager
