package store

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"

	"github.com/ckptkit/ckpt/ckpttest/crashfs"
)

// FuzzTempNames: a temporary name made for any valid key is recognised as
// ours, fits in 255 bytes and is never a valid key; no name is both a
// temporary name of ours and a key.
func FuzzTempNames(f *testing.F) {
	for _, seed := range []string{"a", "cpu_manager_state", strings.Repeat("k", MaxKeyLength), ".a.ckpt-tmp-0123456789abcdef", "a.ckpt-tmp-0123456789abcdef", "..ckpt-tmp-0123456789abcdef", ".ckpt.lock", ""} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if isOwnTemp(s) && ValidateKey(s) == nil {
			t.Fatalf("%q is both a temporary name and a key", s)
		}
		if isOwnTemp(LockFileName) || ValidateKey(LockFileName) == nil {
			t.Fatal("the lock file name is a temporary name or a key")
		}
		if ValidateKey(s) != nil {
			return
		}
		name := "." + s[:min(len(s), tempKeyPrefix)] + tempMarker + "0123456789abcdef"
		if !isOwnTemp(name) || len(name) > 255 || ValidateKey(name) == nil {
			t.Fatalf("temporary name %q of key %q: ours=%v len=%d", name, s, isOwnTemp(name), len(name))
		}
	})
}

// FuzzStoreOps runs a sequence of operations decoded from the input on a
// FileStore over crashfs and on a map: they agree, invalid keys are
// refused, and nothing is ever created outside the store's directory.
func FuzzStoreOps(f *testing.F) {
	f.Add([]byte("w a 1\nw b 22\nr a\nd a\nl\nu b +\nr b\n"))
	f.Add([]byte("w ../x 1\nw .hidden 2\nw a/b 3\nr ..\nd /etc\nw " + strings.Repeat("k", 251) + " v\n"))
	f.Add([]byte("w .ckpt.lock x\nw a.ckpt-tmp-0123456789abcdef y\nl\n"))
	f.Fuzz(func(t *testing.T, script []byte) {
		fsys := crashfs.New()
		s, err := NewFileStore("/d", WithFS(fsys))
		if err != nil {
			t.Fatal(err)
		}
		model := map[string]string{}
		for _, line := range strings.Split(string(script), "\n") {
			op, rest, _ := strings.Cut(line, " ")
			key, value, _ := strings.Cut(rest, " ")
			valid := ValidateKey(key) == nil
			var err error
			switch op {
			case "w":
				err = s.Write(key, []byte(value))
				if valid && err == nil {
					model[key] = value
				}
			case "u":
				err = s.Update(key, func(old []byte, found bool) ([]byte, error) {
					if want, ok := model[key]; ok != found || want != string(old) {
						return nil, fmt.Errorf("update of %q saw %q/%v, model %q/%v", key, old, found, want, ok)
					}
					return append(old, value...), nil
				})
				if valid && err == nil {
					model[key] += value
				}
			case "d":
				err = s.Delete(key)
				if valid && err == nil {
					delete(model, key)
				}
			case "r":
				var got []byte
				got, err = s.Read(key)
				want, ok := model[key]
				if valid && (ok != (err == nil) || ok && string(got) != want) {
					t.Fatalf("Read(%q) = %q, %v; model %q, %v", key, got, err, want, ok)
				}
				if !ok && valid && !errors.Is(err, ErrKeyNotFound) {
					t.Fatalf("Read(%q) of a missing key = %v", key, err)
				}
			case "l":
				keys, err := s.List()
				if err != nil || len(keys) != len(model) {
					t.Fatalf("List = %v, %v; model %v", keys, err, model)
				}
				continue
			default:
				continue
			}
			if !valid && !errors.Is(err, ErrInvalidKey) {
				t.Fatalf("%s of invalid key %q = %v, want ErrInvalidKey", op, key, err)
			}
			if valid && err != nil && !(op == "r" && errors.Is(err, ErrKeyNotFound)) {
				t.Fatalf("%s %q: %v", op, key, err)
			}
		}
		// Nothing outside /d; inside, only keys and the lock file.
		root, err := fsys.ReadDir("/")
		if err != nil || len(root) != 1 || root[0].Name() != "d" {
			t.Fatalf("the root holds %v, %v", root, err)
		}
		entries, err := fsys.ReadDir("/d")
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if _, ok := model[e.Name()]; !ok && e.Name() != LockFileName {
				t.Fatalf("unexpected %s in the directory", e.Name())
			}
			if e.Type()&fs.ModeType != 0 {
				t.Fatalf("%s is not a regular file", e.Name())
			}
			data, _ := fsys.ReadFile("/d/"+e.Name(), 1<<20)
			if e.Name() != LockFileName && !bytes.Equal(data, []byte(model[e.Name()])) {
				t.Fatalf("%s holds %q, model %q", e.Name(), data, model[e.Name()])
			}
		}
	})
}
