package kubelet

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/ckptkit/ckpt/kubelet/check"
)

// DefaultMaxSize is the largest file ExamineFile and Scan read (64 MiB). A
// kubelet checkpoint of a full node is a few hundred kilobytes; a larger
// file is reported rather than read, so a damaged or hostile file cannot
// exhaust memory.
const DefaultMaxSize = 64 << 20

// ErrTooLarge is wrapped by the error for a file larger than the limit.
var ErrTooLarge = errors.New("file larger than the size limit")

// ErrNotRegular is wrapped by the error for a path that is not a regular
// file (a directory, socket or device given where a file is expected).
var ErrNotRegular = errors.New("not a regular file")

// File is one examined file.
type File struct {
	// Path is the file's path as given or as found.
	Path string
	// Size and ModTime come from the file's metadata.
	Size    int64
	ModTime time.Time
	// Result is what examining the bytes found (zero when ReadErr is set).
	Result check.Result
	// ReadErr is set when the file could not be read.
	ReadErr error
}

// ReadFile reads a regular file of at most max bytes (DefaultMaxSize when
// max <= 0). Errors name the path and wrap the cause (fs.ErrNotExist,
// fs.ErrPermission, ErrTooLarge, ErrNotRegular).
func ReadFile(path string, max int64) ([]byte, fs.FileInfo, error) {
	if max <= 0 {
		max = DefaultMaxSize
	}
	// Stat before opening: opening a FIFO for reading would block until a
	// writer appears.
	info, err := os.Stat(path)
	if err != nil {
		return nil, nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, info, fmt.Errorf("%s: %w (%s)", path, ErrNotRegular, describeType(info.Mode()))
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, info, err
	}
	defer f.Close()
	if info, err = f.Stat(); err != nil {
		return nil, nil, err
	}
	if !info.Mode().IsRegular() { // replaced between the two looks
		return nil, info, fmt.Errorf("%s: %w (%s)", path, ErrNotRegular, describeType(info.Mode()))
	}
	if info.Size() > max {
		return nil, info, fmt.Errorf("%s: %w: %d bytes, limit %d", path, ErrTooLarge, info.Size(), max)
	}
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, info, fmt.Errorf("read %s: %w", path, err)
	}
	if int64(len(data)) > max {
		return nil, info, fmt.Errorf("%s: %w: grew past %d bytes while read", path, ErrTooLarge, max)
	}
	return data, info, nil
}

// describeType names a file type in words.
func describeType(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	}
	return "not a regular file"
}

// ExamineFile reads and examines one file. The error is non-nil only when
// the file cannot be read; a damaged file is a Result, not an error.
func ExamineFile(path string) (File, error) {
	data, info, err := ReadFile(path, 0)
	if err != nil {
		f := File{Path: path, ReadErr: err}
		if info == nil {
			info, _ = os.Lstat(path)
		}
		if info != nil {
			f.Size, f.ModTime = info.Size(), info.ModTime()
		}
		return f, err
	}
	return File{Path: path, Size: info.Size(), ModTime: info.ModTime(), Result: Examine(path, data)}, nil
}

// Finding is something found beside the checkpoints that is not itself a
// checkpoint, such as a leftover temporary file of an interrupted write.
type Finding struct {
	// Path of the file.
	Path string
	// Finding is a short stable name: "leftover-temp-file".
	Finding string
	// Detail says what it means, in words.
	Detail string
	// Size of the file in bytes.
	Size int64
}

// Scan is the result of examining a directory.
type Scan struct {
	// Files are the checkpoint files found, in path order.
	Files []File
	// Findings are the other things worth an operator's attention.
	Findings []Finding
}

// skipDirs are directories under a kubelet root that hold no checkpoint of
// kubelet's own and can be large (pod volumes, certificates, sockets,
// container checkpoint archives).
var skipDirs = map[string]bool{
	"pods": true, "pki": true, "plugins_registry": true, "pod-resources": true, "checkpoints": true,
}

// ScanDir examines the checkpoint files under dir: every file with a name
// kubelet uses for a checkpoint, the dockershim sandbox checkpoints, and any
// other regular, non-dot file whose content detects as a checkpoint.
// Dot-prefixed regular files beside them are kubelet's temporary files of
// interrupted writes and are reported as findings. Symbolic links are not
// followed. Files that cannot be read are included with ReadErr set.
func ScanDir(dir string) (Scan, error) {
	var s Scan
	info, err := os.Stat(dir)
	if err != nil {
		return s, err
	}
	if !info.IsDir() {
		return s, fmt.Errorf("%s: not a directory", dir)
	}
	// A kubelet root is often a symbolic link (/var/lib/kubelet ->
	// /data/kubelet): walk where it points, and report paths under the name
	// given. Links below the root are not followed into directories.
	root := dir
	if resolved, err := filepath.EvalSymlinks(dir); err == nil && resolved != filepath.Clean(dir) {
		root = resolved
	}
	shown := func(path string) string {
		if root == dir {
			return path
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return path
		}
		return filepath.Join(dir, rel)
	}
	err = filepath.WalkDir(root, func(walked string, d fs.DirEntry, err error) error {
		path := shown(walked)
		if err != nil {
			if walked == root {
				return err
			}
			s.Files = append(s.Files, File{Path: path, ReadErr: err})
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		name := d.Name()
		if d.IsDir() {
			if walked != root && (strings.HasPrefix(name, ".") || skipDirs[name]) {
				return fs.SkipDir
			}
			if walked != root && kindFromName(name) != check.KindUnknown {
				// A directory where kubelet expects its checkpoint file.
				f, _ := ExamineFile(path)
				s.Files = append(s.Files, f)
				return fs.SkipDir
			}
			return nil
		}
		// A file is examined whatever its content when kubelet names its
		// checkpoints so; any other file only when it detects as one.
		known := kindFromName(name) != check.KindUnknown || filepath.Base(filepath.Dir(walked)) == "sandbox"
		if !d.Type().IsRegular() {
			// Kubelet reads its checkpoints through symbolic links, and
			// fails on anything else under their names: report those.
			if known && !strings.HasPrefix(name, ".") {
				f, _ := ExamineFile(path)
				s.Files = append(s.Files, f)
			}
			return nil
		}
		if strings.HasPrefix(name, ".") {
			if fi, err := d.Info(); err == nil && isTempName(name) {
				s.Findings = append(s.Findings, Finding{Path: path, Finding: "leftover-temp-file", Size: fi.Size(),
					Detail: "temporary file of an interrupted checkpoint write; kubelet never reads it and it is safe to remove"})
			}
			return nil
		}
		if !known {
			// Other files are examined only when they may be checkpoints:
			// they start with a JSON object and are not too large to be one.
			if fi, err := d.Info(); err != nil || fi.Size() > DefaultMaxSize || !looksLikeJSON(path) {
				return nil
			}
		}
		f, err := ExamineFile(path)
		if err != nil || known || f.Result.Kind != check.KindUnknown {
			s.Files = append(s.Files, f)
		}
		return nil
	})
	slices.SortFunc(s.Files, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
	return s, err
}

// isTempName reports whether a dot-file name is a temporary file of a
// checkpoint store: kubelet's os.CreateTemp(dir, ".") names ("." followed by
// digits) and this module's store names (".<key>.tmp-..." and similar).
func isTempName(name string) bool {
	rest := name[1:]
	if rest == "" {
		return false
	}
	digits := true
	for _, c := range rest {
		if c < '0' || c > '9' {
			digits = false
			break
		}
	}
	return digits || strings.Contains(rest, ".tmp") || strings.Contains(rest, "ckpt-tmp")
}

// looksLikeJSON peeks at the start of a file: only files that start with a
// JSON object are worth reading whole.
func looksLikeJSON(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return true // let ExamineFile report the error
	}
	defer f.Close()
	buf := make([]byte, 64)
	n, _ := io.ReadFull(f, buf)
	b := bytes.TrimLeft(buf[:n], " \t\r\n")
	return len(b) > 0 && b[0] == '{'
}
