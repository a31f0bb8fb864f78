package checkpointmanager

import (
	"fmt"
	"sync"
	"testing"
)

// TestKeyLocksBounded: entries exist only while held, so memory does not
// grow with the number of keys ever used.
func TestKeyLocksBounded(t *testing.T) {
	var l keyLocks
	var wg sync.WaitGroup
	counter := map[string]int{}
	var counterMu sync.Mutex
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				key := fmt.Sprintf("k%d", (g*7+i)%13)
				unlock := l.lock(key)
				counterMu.Lock()
				counter[key]++
				counterMu.Unlock()
				unlock()
			}
		})
	}
	wg.Wait()
	if n := l.size(); n != 0 {
		t.Errorf("%d lock entries left after all unlocked", n)
	}
	total := 0
	for _, n := range counter {
		total += n
	}
	if total != 8*200 {
		t.Errorf("counted %d operations, want %d", total, 8*200)
	}
}
