package dra

import (
	"encoding/json"
	"fmt"
	"hash/crc32"

	"github.com/ckptkit/ckpt/checkpointmanager/checksum"
	"github.com/ckptkit/ckpt/kubelet/check"
	s129 "github.com/ckptkit/ckpt/kubelet/dra/internal/fnv129/state"
	s130 "github.com/ckptkit/ckpt/kubelet/dra/internal/fnv130/state"
	smaster "github.com/ckptkit/ckpt/kubelet/dra/internal/fnvmaster/state"
	snoh "github.com/ckptkit/ckpt/kubelet/dra/internal/fnvnohandles/state"
)

// Rechecksum returns data with its checksum recomputed in format (one of
// the Format constants), for a file edited by hand: for FormatCRC32 the
// Data string is kept byte for byte and only Checksum changes; for a legacy
// shape the file is decoded into that shape's types and written again with
// the shape's checksum. Data that does not decode in that format gives an
// error wrapping check.ErrInvalid.
func Rechecksum(data []byte, format string) ([]byte, error) {
	if format == FormatCRC32 {
		var f fileV1
		if err := check.DecodeJSON(what, data, &f); err != nil {
			return nil, err
		}
		if _, err := decodeData(f.Data); err != nil {
			return nil, err
		}
		f.Checksum = crc32.ChecksumIEEE([]byte(f.Data))
		return marshalDRA(f)
	}
	switch format {
	case FormatFNV130:
		return rehash(data, s130.New, func(c *s130.DRAManagerCheckpoint) *checksum.Checksum { return &c.Checksum },
			(*s130.DRAManagerCheckpoint).Text)
	case FormatFNV129:
		return rehash(data, s129.New, func(c *s129.DRAManagerCheckpoint) *checksum.Checksum { return &c.Checksum },
			(*s129.DRAManagerCheckpoint).Text)
	case FormatFNVNoHandles:
		return rehash(data, snoh.New, func(c *snoh.DRAManagerCheckpoint) *checksum.Checksum { return &c.Checksum },
			(*snoh.DRAManagerCheckpoint).Text)
	case FormatFNVMaster:
		return rehash(data, smaster.New, func(c *smaster.DRAManagerCheckpoint) *checksum.Checksum { return &c.Checksum },
			(*smaster.DRAManagerCheckpoint).Text)
	}
	return nil, fmt.Errorf("%w: unknown DRA format %q", check.ErrInvalid, format)
}

// rehash decodes data into a fresh checkpoint, writes it, and hashes what a
// reader decodes from those bytes into its own fresh checkpoint (so that nil
// versus empty is what the reader will see), then writes that with the
// checksum set.
func rehash[T any](data []byte, fresh func() T, sum func(T) *checksum.Checksum, text func(T) string) ([]byte, error) {
	first := fresh()
	if err := check.DecodeJSON(what, data, first); err != nil {
		return nil, err
	}
	b, err := marshalDRA(first)
	if err != nil {
		return nil, err
	}
	seen := fresh()
	if err := json.Unmarshal(b, seen); err != nil {
		return nil, fmt.Errorf("re-read %s: %w", what, err)
	}
	*sum(seen) = 0
	*sum(seen) = checksum.Sum([]byte(text(seen)))
	return marshalDRA(seen)
}

func marshalDRA(v any) ([]byte, error) {
	out, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", what, err)
	}
	return out, nil
}
