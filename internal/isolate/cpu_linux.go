package isolate

import (
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

// threadClock is the CPU-time clock of one OS thread, readable from any
// thread of the process (Linux's per-thread CPU clock id, as built by
// pthread_getcpuclockid).
type threadClock int32

// lockThread pins the calling goroutine to its OS thread and returns that
// thread's CPU clock. Undo with runtime.UnlockOSThread.
func lockThread() threadClock {
	runtime.LockOSThread()
	tid := unix.Gettid()
	return threadClock((^int32(tid))<<3 | 6) // CPUCLOCK_SCHED | CPUCLOCK_PERTHREAD_MASK
}

func (c threadClock) now() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(int32(c), &ts); err != nil {
		return 0
	}
	return time.Duration(ts.Nano())
}
