package dockershim

import (
	"strconv"

	"github.com/ckptkit/ckpt/checkpointmanager/checksum"
)

func fnvText(text string) string { return strconv.FormatUint(uint64(checksum.Sum([]byte(text))), 10) }
