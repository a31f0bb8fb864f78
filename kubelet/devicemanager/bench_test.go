package devicemanager

import (
	"os"
	"path/filepath"
	"testing"
)

func BenchmarkExamineRealistic(b *testing.B) {
	data, err := os.ReadFile(filepath.Join(testdata, "kubelet-generated", "devicemanager", "realistic", FileName))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for i := 0; i < b.N; i++ {
		Examine(data)
	}
}
