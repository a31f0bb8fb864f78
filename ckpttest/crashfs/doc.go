// Package crashfs is an in-memory file system (a storefs.FS) that simulates
// what a crash, a power loss or a kernel panic, can leave on disk, so that
// code writing through store.FileStore or the checkpoint manager can be
// crash-tested inside plain `go test`, without root, block devices or
// recorded traces.
//
// Plug it in with store.WithFS or checkpointmanager.WithFS, run a workload,
// and call CrashStates at any moment (or let Explore do it after every
// operation) to get every file system a crash at that moment could leave,
// each ready to be "rebooted" into: open a new store over it and check what
// it holds.
//
// # The model
//
// It follows what POSIX promises and what Linux file systems actually do,
// erring on the pessimistic side:
//
//  1. File data is durable only once fsynced. Data written since the last
//     successful Sync may be lost at a crash, wholly or in part: the writeback
//     may have reached any prefix of the dirty sectors (SectorSize, 512 B by
//     default, in offset order), and the file's size may be the old one or
//     the new one, with zeros where the data never arrived. So a write in
//     progress can be torn at sector granularity.
//  2. Directory entries (a create, a rename, an unlink, a mkdir) are durable
//     only once their directory is fsynced (SyncDir). Until then a crash
//     keeps a prefix of the directory's pending changes, in the order they
//     were made (as a journaling file system commits them); each directory
//     is independent of the others. Fsyncing a file does not make its name
//     durable. A rename is atomic: it survives wholly or not at all (within
//     one directory; across directories it is an unlink and a link that
//     survive independently).
//  3. A failed Sync (injected with Inject) reports its error once and drops
//     the file's dirty sectors, as Linux does since 4.13: the data stays
//     visible to readers, but it will never reach the disk, and a later
//     Sync succeeds without writing it. This is why fsync must not be
//     retried. A failed SyncDir leaves the directory's changes pending.
//  4. Locks (TryLock) and open files do not survive a crash.
//
// Permissions are recorded but not enforced, symbolic links are not
// modelled, and directories cannot be renamed (EXDEV). The FS is safe for
// concurrent use; Explore expects a sequential workload.
package crashfs
