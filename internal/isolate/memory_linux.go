package isolate

import (
	"fmt"
	"os"
	"sync"
	"sync/atomic"

	"github.com/tetratelabs/wazero/experimental"
	"golang.org/x/sys/unix"
)

// snapshotImage is the engine's linear memory after initialisation, the
// state every execution starts from, split into pages: those with content
// (QuickJS's heap and static data) and those that are all zero (mostly the
// 1 MiB shadow stack).
type snapshotImage struct {
	b        []byte
	len      int
	nonZero  []int // page numbers with content
	zero     []int // page numbers that are all zero
	pageSize int
}

func newSnapshotImage(b []byte) (*snapshotImage, error) {
	ps := os.Getpagesize()
	if len(b)%ps != 0 {
		return nil, fmt.Errorf("snapshot of %d bytes is not a whole number of pages", len(b))
	}
	s := &snapshotImage{b: b, len: len(b), pageSize: ps}
	for p := 0; p < len(b)/ps; p++ {
		if allZero(b[p*ps : (p+1)*ps]) {
			s.zero = append(s.zero, p)
		} else {
			s.nonZero = append(s.nonZero, p)
		}
	}
	return s, nil
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// mmapMemory backs one instance's linear memory with a reservation of the
// step's memory cap. Growth past the cap fails (memory.grow returns -1) and
// is recorded in capHit.
type mmapMemory struct {
	region []byte
	used   int
	pool   *memPool
	capHit atomic.Bool
}

func (m *mmapMemory) Reallocate(size uint64) []byte {
	if size > uint64(len(m.region)) {
		m.capHit.Store(true)
		return nil
	}
	m.used = max(m.used, int(size))
	return m.region[:size]
}

func (m *mmapMemory) Free() { m.pool.put(m.region, m.used) }

// memPool recycles reservations of one size for one snapshot image. A
// region in the pool always holds exactly the image followed by zeros.
//
// # Security
//
// Returning a region restores it completely before anyone can reuse it:
// every page with image content is copied back; every other page is
// zeroed if mincore reports it resident, and otherwise released with
// MADV_DONTNEED, because "not resident" means either never touched or
// touched and since swapped out, and only the release discards a swapped
// page (on an untouched range it costs almost nothing). Released anonymous
// memory reads as zero. Beyond the image, used memory is zeroed or
// released the same way. Nothing of one execution is visible to the next.
type memPool struct {
	size  int
	image *snapshotImage
	free  freeList[[]byte]    // reset regions, for new instances
	idle  freeList[*instance] // reset instances, ready for reuse
	mu    sync.Mutex
	vec   []byte // mincore scratch, guarded by mu
}

const memclrLimit = 256 << 10

// allocator returns a wazero MemoryAllocator for one instantiation; the
// memory it creates is stored in *dst.
func (p *memPool) allocator(dst **mmapMemory) experimental.MemoryAllocator {
	return experimental.MemoryAllocatorFunc(func(_, _ uint64) experimental.LinearMemory {
		region, err := p.get()
		if err != nil {
			return nil
		}
		*dst = &mmapMemory{region: region, pool: p}
		return *dst
	})
}

func (p *memPool) get() ([]byte, error) {
	if r, ok := p.free.pop(); ok {
		return r, nil
	}
	if p.size < p.image.len {
		return nil, fmt.Errorf("memory cap %d below snapshot size %d", p.size, p.image.len)
	}
	r, err := unix.Mmap(-1, 0, p.size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_NORESERVE)
	if err != nil {
		return nil, err
	}
	ps := p.image.pageSize
	for _, pg := range p.image.nonZero {
		copy(r[pg*ps:(pg+1)*ps], p.image.b[pg*ps:])
	}
	return r, nil
}

// reset restores r to the image (up to used, which must not exceed it).
func (p *memPool) reset(r []byte, used int) error {
	if used > p.image.len {
		return fmt.Errorf("memory grew past the image")
	}
	img := p.image
	ps := img.pageSize
	for _, pg := range img.nonZero {
		copy(r[pg*ps:(pg+1)*ps], img.b[pg*ps:])
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.vec == nil {
		p.vec = make([]byte, img.len/ps)
	}
	if err := mincore(r[:img.len], p.vec); err != nil {
		return err
	}
	// Resident zero-image pages are cleared in place (they stay mapped for
	// the next step); runs of non-resident ones are released.
	run := -1 // first page of the current non-resident run
	release := func(end int) error {
		if run < 0 {
			return nil
		}
		err := unix.Madvise(r[run*ps:end*ps], unix.MADV_DONTNEED)
		run = -1
		return err
	}
	prev := -2
	for _, pg := range img.zero {
		if pg != prev+1 { // the zero pages are not contiguous here
			if err := release(prev + 1); err != nil {
				return err
			}
		}
		prev = pg
		if p.vec[pg]&1 != 0 {
			if err := release(pg); err != nil {
				return err
			}
			clear(r[pg*ps : (pg+1)*ps])
		} else if run < 0 {
			run = pg
		}
	}
	return release(prev + 1)
}

func (p *memPool) put(r []byte, used int) {
	lo := p.image.len
	if err := p.reset(r, min(used, lo)); err != nil {
		unix.Munmap(r)
		return
	}
	if used > lo {
		if used-lo <= memclrLimit {
			clear(r[lo:used])
		} else if err := unix.Madvise(r[lo:used], unix.MADV_DONTNEED); err != nil {
			unix.Munmap(r)
			return
		}
	}
	if !p.free.push(r) {
		unix.Munmap(r)
	}
}
