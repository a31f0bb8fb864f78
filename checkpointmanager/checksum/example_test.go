package checksum_test

import (
	"errors"
	"fmt"

	"github.com/ckptkit/ckpt/checkpointmanager/checksum"
	cmerrors "github.com/ckptkit/ckpt/checkpointmanager/errors"
)

type state struct {
	PolicyName string
	Entries    map[string]string
	Checksum   checksum.Checksum
}

func ExampleNew() {
	s := &state{PolicyName: "none", Entries: map[string]string{}}
	fmt.Println(checksum.Text(s))
	fmt.Println(checksum.New(s))
	// Output:
	// (*checksum_test.state){PolicyName:(string)none Entries:(map[string]string)map[] Checksum:(checksum.Checksum)0}
	// 1319019655
}

func ExampleChecksum_Verify() {
	s := &state{PolicyName: "static"}
	stored := checksum.Checksum(1234)
	err := stored.Verify(s)
	var corrupt *cmerrors.CorruptCheckpointError
	if errors.As(err, &corrupt) {
		fmt.Println(err, corrupt.ExpectedCS, corrupt.ActualCS == uint64(checksum.New(s)))
	}
	// Output: checkpoint is corrupted 1234 true
}

func ExampleOfString() {
	data := `{"policyName":"none","defaultCPUSet":"4-6"}`
	fmt.Println(checksum.OfString(data) == checksum.New(data))
	// Output: true
}
