//go:build !linux

package isolate

import (
	"runtime"
	"sync/atomic"
	"time"

	"github.com/tetratelabs/wazero/experimental"
)

// On systems other than Linux the engine cannot be created: instance
// memories rely on mmap/mincore and CPU limits on per-thread CPU clocks.
// These definitions only let the package (and the root package) compile;
// NewEngine fails with ErrUnsupportedOS.

type snapshotImage struct{ len int }

func newSnapshotImage([]byte) (*snapshotImage, error) { return nil, ErrUnsupportedOS }

type mmapMemory struct {
	region []byte
	used   int
	capHit atomic.Bool
}

type memPool struct {
	size  int
	image *snapshotImage
	free  freeList[[]byte]
	idle  freeList[*instance]
}

func (p *memPool) allocator(**mmapMemory) experimental.MemoryAllocator { return nil }

func (p *memPool) reset([]byte, int) error { return ErrUnsupportedOS }

type threadClock int32

func lockThread() threadClock { runtime.LockOSThread(); return 0 }

func (threadClock) now() time.Duration { return 0 }
