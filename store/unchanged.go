package store

import (
	"bytes"
	"io/fs"
	"sync"
	"time"
)

// This file is WithSkipUnchanged: a Write whose bytes equal what this store
// last wrote durably under the key, to a file that is still the one it
// wrote, does nothing at all (case B32: a re-apply of the same state costs
// no rename and no fsync).
//
// The file must be the one written, not just a file with the same content:
// the skip promises that the bytes are on disk, which only a durable write
// of our own established (another writer, kubelet among them, may have put
// the same bytes there without the directory fsync). A file is identified
// by what a rename carries along and any other write changes: device,
// inode, size, modification and change times (fileIdentity). Each write
// makes a new temporary file, so a replacement by anyone has another inode;
// writing in place changes the times.

// written is what a store remembers of its last durable write of each key.
type written struct {
	mu   sync.Mutex
	keys map[string]writtenFile
}

type writtenFile struct {
	data []byte
	id   fileID
}

// fileID identifies a file's inode and content version.
type fileID struct {
	dev, ino     uint64
	size         int64
	mtime, ctime time.Time
}

// identify returns the identity of the file info describes, or false where
// the file system does not tell (the skip is then never taken).
func identify(info fs.FileInfo) (fileID, bool) {
	dev, ino, ctime, ok := inode(info)
	if !ok || !info.Mode().IsRegular() {
		return fileID{}, false
	}
	return fileID{dev: dev, ino: ino, size: info.Size(), mtime: info.ModTime(), ctime: ctime}, true
}

// unchanged reports whether writing data under key can be skipped: the last
// durable write of key by this store had these bytes, and path is still
// that file.
func (s *FileStore) unchanged(key, path string, data []byte) bool {
	s.written.mu.Lock()
	w, ok := s.written.keys[key]
	s.written.mu.Unlock()
	if !ok || !bytes.Equal(w.data, data) {
		return false
	}
	info, err := s.opts.fs.Lstat(path)
	if err != nil {
		return false
	}
	id, ok := identify(info)
	return ok && id == w.id
}

// remember records a durable write of data under key to the file whose
// identity is id (taken from the temporary file before its rename, so that
// a concurrent replacement cannot be mistaken for it).
func (s *FileStore) remember(key string, data []byte, id fileID, ok bool) {
	s.written.mu.Lock()
	defer s.written.mu.Unlock()
	if !ok {
		delete(s.written.keys, key)
		return
	}
	if s.written.keys == nil {
		s.written.keys = make(map[string]writtenFile)
	}
	s.written.keys[key] = writtenFile{data: bytes.Clone(data), id: id}
}

// forget drops what the store remembers of key.
func (s *FileStore) forget(key string) {
	s.written.mu.Lock()
	delete(s.written.keys, key)
	s.written.mu.Unlock()
}
