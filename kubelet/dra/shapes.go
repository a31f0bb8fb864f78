package dra

import "github.com/ckptkit/ckpt/checkpointmanager/checksum"

// LegacyShapes returns the legacy (pre-1.31) formats under whose shape data
// verifies (FormatFNV130, FormatFNV129, FormatFNVNoHandles,
// FormatFNVMaster), in the order Examine tries them. A file without
// resource handles can verify under several shapes, and each is read by
// other kubelet versions, so kubelet/compat needs all of them rather than
// the one Examine reports. It returns nil for a file that is no legacy DRA
// checkpoint or verifies under no shape. It never panics.
func LegacyShapes(data []byte) (formats []string) {
	defer func() {
		if recover() != nil {
			formats = nil
		}
	}()
	if !isLegacy(data) {
		return nil
	}
	for _, s := range shapes {
		text, stored, _, err := s.decode(data)
		if err == nil && uint64(checksum.Sum([]byte(text))) == stored {
			formats = append(formats, s.format)
		}
	}
	return formats
}
