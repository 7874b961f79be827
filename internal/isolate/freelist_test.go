package isolate

import (
	"sync/atomic"
	"testing"
)

// Idle items are bounded across lists by their shared budget.
func TestFreeListBudgetSharedAcrossLists(t *testing.T) {
	var budget atomic.Int64
	budget.Store(3)
	a, b := freeList[int]{budget: &budget}, freeList[int]{budget: &budget}
	kept := 0
	for i := 0; i < 5; i++ {
		if a.push(i) {
			kept++
		}
		if b.push(i) {
			kept++
		}
	}
	if kept != 3 || budget.Load() != 0 {
		t.Fatalf("kept %d, budget left %d; want 3 kept, 0 left", kept, budget.Load())
	}
	if x, ok := a.pop(); !ok || budget.Load() != 1 {
		t.Fatalf("pop = %d, %v; budget %d", x, ok, budget.Load())
	}
	if !b.push(9) || b.push(10) {
		t.Fatal("a popped slot must be reusable by another list, and only one")
	}
}
