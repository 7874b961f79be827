package isolate

import (
	"container/heap"
	"time"
)

// timerQueue holds the guest's timers by deadline. The guest keeps the
// callbacks; the host keeps only ids and deadlines.
type timerQueue struct {
	h    timerHeap
	byID map[int64]*timerEntry
	seq  uint64
}

type timerEntry struct {
	id       int64
	deadline time.Time
	seq      uint64 // FIFO among equal deadlines
	index    int
}

func (q *timerQueue) has(id int64) bool { _, ok := q.byID[id]; return ok }

// add (re)arms timer id to fire after ms milliseconds.
func (q *timerQueue) add(id int64, ms float64) {
	if q.byID == nil {
		q.byID = make(map[int64]*timerEntry)
	}
	q.remove(id)
	q.seq++
	t := &timerEntry{id: id, deadline: time.Now().Add(time.Duration(ms * float64(time.Millisecond))), seq: q.seq}
	q.byID[id] = t
	heap.Push(&q.h, t)
}

func (q *timerQueue) remove(id int64) {
	if t, ok := q.byID[id]; ok {
		heap.Remove(&q.h, t.index)
		delete(q.byID, id)
	}
}

// next returns the earliest timer without removing it, or nil.
func (q *timerQueue) next() *timerEntry {
	if len(q.h) == 0 {
		return nil
	}
	return q.h[0]
}

func (q *timerQueue) pop() *timerEntry {
	t := heap.Pop(&q.h).(*timerEntry)
	delete(q.byID, t.id)
	return t
}

type timerHeap []*timerEntry

func (h timerHeap) Len() int { return len(h) }
func (h timerHeap) Less(i, j int) bool {
	if h[i].deadline.Equal(h[j].deadline) {
		return h[i].seq < h[j].seq
	}
	return h[i].deadline.Before(h[j].deadline)
}
func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *timerHeap) Push(x any) {
	t := x.(*timerEntry)
	t.index = len(*h)
	*h = append(*h, t)
}
func (h *timerHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	*h = old[:len(old)-1]
	return t
}
