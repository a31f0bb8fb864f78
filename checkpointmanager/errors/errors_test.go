package errors_test

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"

	cperrors "github.com/ckptkit/ckpt/checkpointmanager/errors"
)

// TestKubeletTexts pins the messages kubelet's callers and operators see;
// these are the only texts tested, because kubelet compatibility fixes them.
func TestKubeletTexts(t *testing.T) {
	tests := []struct {
		reason string
		err    error
		want   string
	}{
		{"not found, all versions", cperrors.ErrCheckpointNotFound, "checkpoint is not found"},
		{"1.33+ corruption error", &cperrors.CorruptCheckpointError{ActualCS: 1, ExpectedCS: 2}, "checkpoint is corrupted"},
		{"1.33+ corruption error as a value", cperrors.CorruptCheckpointError{}, "checkpoint is corrupted"},
		{"1.32 sentinel", cperrors.ErrCorruptCheckpoint, "checkpoint is corrupted"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("%s: Error() = %q, want %q", tt.reason, got, tt.want)
		}
	}
}

func TestCorruptCheckpointErrorIs(t *testing.T) {
	corrupt := &cperrors.CorruptCheckpointError{ActualCS: 10, ExpectedCS: 20}
	wrapped := fmt.Errorf("restore: %w", corrupt)
	tests := []struct {
		reason string
		err    error
		target error
		want   bool
	}{
		{"pointer matches a value target with other fields (kubelet 1.33 idiom)", corrupt, cperrors.CorruptCheckpointError{}, true},
		{"pointer matches a pointer target with other fields", corrupt, &cperrors.CorruptCheckpointError{ActualCS: 1}, true},
		{"matches the 1.32 sentinel", corrupt, cperrors.ErrCorruptCheckpoint, true},
		{"wrapped, matches the value target", wrapped, cperrors.CorruptCheckpointError{}, true},
		{"wrapped, matches the 1.32 sentinel", wrapped, cperrors.ErrCorruptCheckpoint, true},
		{"the sentinel matches the 1.33 target", cperrors.ErrCorruptCheckpoint, cperrors.CorruptCheckpointError{}, true},
		{"a value error matches too", cperrors.CorruptCheckpointError{ActualCS: 3}, cperrors.ErrCorruptCheckpoint, true},
		{"not found is not corruption", cperrors.ErrCheckpointNotFound, cperrors.CorruptCheckpointError{}, false},
		{"corruption is not not-found", corrupt, cperrors.ErrCheckpointNotFound, false},
		{"corruption is not another error", corrupt, fs.ErrNotExist, false},
	}
	for _, tt := range tests {
		if got := errors.Is(tt.err, tt.target); got != tt.want {
			t.Errorf("%s: errors.Is(%v, %#v) = %v, want %v", tt.reason, tt.err, tt.target, got, tt.want)
		}
	}
	var cs *cperrors.CorruptCheckpointError
	if !errors.As(wrapped, &cs) || cs.ActualCS != 10 || cs.ExpectedCS != 20 {
		t.Errorf("errors.As did not recover the checksums: %+v", cs)
	}
}

func TestCheckpointError(t *testing.T) {
	corrupt := &cperrors.CorruptCheckpointError{ActualCS: 10, ExpectedCS: 20}
	tests := []struct {
		reason string
		err    *cperrors.CheckpointError
		is     []error
		want   []string
		absent []string
	}{
		{
			reason: "corruption: op, key, path and both checksums",
			err:    &cperrors.CheckpointError{Op: "get", Key: "k", Path: "/d/k", Err: corrupt},
			is:     []error{cperrors.CorruptCheckpointError{}, cperrors.ErrCorruptCheckpoint},
			want:   []string{"get", `"k"`, "/d/k", "checkpoint is corrupted", "ActualCS=10", "ExpectedCS=20"},
		},
		{
			reason: "corruption as a value also shows the checksums",
			err:    &cperrors.CheckpointError{Op: "get", Key: "k", Err: fmt.Errorf("v: %w", cperrors.CorruptCheckpointError{ActualCS: 7, ExpectedCS: 8})},
			is:     []error{cperrors.ErrCorruptCheckpoint},
			want:   []string{"ActualCS=7", "ExpectedCS=8"},
		},
		{
			reason: "the 1.32 sentinel carries no checksums to show",
			err:    &cperrors.CheckpointError{Op: "get", Key: "k", Err: cperrors.ErrCorruptCheckpoint},
			is:     []error{cperrors.CorruptCheckpointError{}},
			want:   []string{"checkpoint is corrupted"},
			absent: []string{"ActualCS"},
		},
		{
			reason: "a cause that names the path: the path is said once",
			err:    &cperrors.CheckpointError{Op: "get", Key: "k", Path: "/d/k", Err: &fs.PathError{Op: "open", Path: "/d/k", Err: fs.ErrPermission}},
			is:     []error{fs.ErrPermission},
			want:   []string{"get", `"k"`, "open /d/k"},
			absent: []string{"(/d/k)"},
		},
		{
			reason: "a nil cause does not panic",
			err:    &cperrors.CheckpointError{Op: "list", Path: "/d"},
			want:   []string{"list", "/d"},
		},
	}
	for _, tt := range tests {
		msg := tt.err.Error()
		for _, target := range tt.is {
			if !errors.Is(tt.err, target) {
				t.Errorf("%s: errors.Is(%v, %v) = false", tt.reason, tt.err, target)
			}
		}
		for _, w := range tt.want {
			if !strings.Contains(msg, w) {
				t.Errorf("%s: %q lacks %q", tt.reason, msg, w)
			}
		}
		for _, a := range tt.absent {
			if strings.Contains(msg, a) {
				t.Errorf("%s: %q contains %q", tt.reason, msg, a)
			}
		}
	}
}

func ExampleCorruptCheckpointError() {
	// What a checkpoint's VerifyChecksum returns (kubelet 1.33+).
	var err error = &cperrors.CorruptCheckpointError{ActualCS: 354655845, ExpectedCS: 1}
	err = fmt.Errorf("restore cpu manager state: %w", err)

	fmt.Println(errors.Is(err, cperrors.CorruptCheckpointError{})) // kubelet 1.33+ idiom
	fmt.Println(errors.Is(err, cperrors.ErrCorruptCheckpoint))     // for code written against 1.32
	var cs *cperrors.CorruptCheckpointError
	if errors.As(err, &cs) {
		fmt.Println(cs.ActualCS, cs.ExpectedCS)
	}
	// Output:
	// true
	// true
	// 354655845 1
}
