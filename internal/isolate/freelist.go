package isolate

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// freeList is a LIFO of reusable things (reset instances, memory regions).
// How many it keeps is bounded by a budget shared by every list of the same
// kind, across all pools and engines, so the idle memory the process holds
// stays bounded however many memory caps are in use.
type freeList[T any] struct {
	mu     sync.Mutex
	items  []T
	budget *atomic.Int64 // how many more may be kept, across lists
}

// Budgets: a few idle items per CPU; bursts beyond them are created and
// disposed of.
var (
	idleInstances, idleRegions atomic.Int64
)

func init() {
	n := int64(4 * runtime.GOMAXPROCS(0))
	idleInstances.Store(n)
	idleRegions.Store(n)
}

func (l *freeList[T]) pop() (T, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var zero T
	n := len(l.items)
	if n == 0 {
		return zero, false
	}
	x := l.items[n-1]
	l.items[n-1] = zero
	l.items = l.items[:n-1]
	l.budget.Add(1)
	return x, true
}

// push keeps x, or reports false when the budget is spent: the caller then
// disposes of x.
func (l *freeList[T]) push(x T) bool {
	if l.budget.Add(-1) < 0 {
		l.budget.Add(1)
		return false
	}
	l.mu.Lock()
	l.items = append(l.items, x)
	l.mu.Unlock()
	return true
}

// len reports how many items the list holds.
func (l *freeList[T]) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.items)
}
