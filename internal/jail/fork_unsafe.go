//go:build linux && amd64

package jail

import (
	"syscall"
	"unsafe"
)

// The jailed child is set up by a precomputed "syscall program" run in the
// forked child, between clone3 and execve, instead of by re-executing the
// airlock binary (see RATIONALE.md "Kernel jail"). The parent builds the
// program in ordinary Go: every path, struct and BPF filter the child needs
// is allocated before the fork. The child then only executes raw system
// calls from the list, exactly like syscall.forkAndExecInChild: no
// allocation, no calls to Go functions that could grow the stack, no locks.
//
// An op's arguments are fixed, except where ref names an earlier op whose
// result (usually a file descriptor opened in the child) is substituted.
// store, when set, receives the result as an int32 inside a struct that a
// later op passes to the kernel (a Landlock rule's parent_fd, an SCM_RIGHTS
// payload). Because the child is a fork without CLONE_VM, these writes land
// in the child's copy of memory only.

// op is one system call of the child's set-up program.
type op struct {
	nr    uintptr
	args  [6]uintptr
	ref   [6]int16      // ref[i] > 0: args[i] = result of op ref[i]-1
	store *int32        // if set, receives the result
	okErr syscall.Errno // an errno that counts as success (e.g. EEXIST)
	want  int64         // if >= 0, the result the call must return
	what  string        // description for error messages (parent only)
}

// childProgram is the whole child program plus the memory it references,
// kept alive until the fork is over.
type childProgram struct {
	ops  []op
	res  []uintptr
	keep []any
	// errBuf receives {op index, errno} from a child whose op failed
	// (the child shares the parent's memory).
	errBuf [2]uint32
	// pidfd receives the child's pidfd from clone3 (CLONE_PIDFD).
	pidfd int32
	// trace, when non-zero, is the address of a MAP_SHARED array of
	// timespecs; the child stamps one after each op (for profiling the
	// set-up, see AIRLOCK_JAIL_TRACE).
	trace uintptr
}

// cstr returns a NUL-terminated copy of s and keeps it alive.
func (p *childProgram) cstr(s string) uintptr {
	b := append([]byte(s), 0)
	p.keep = append(p.keep, b)
	return uintptr(unsafe.Pointer(&b[0]))
}

// ptr keeps v alive and returns its address.
func (p *childProgram) ptr(v unsafe.Pointer, keep any) uintptr {
	p.keep = append(p.keep, keep)
	return uintptr(v)
}

// add appends an op and returns its index (for ref).
func (p *childProgram) add(o op) int16 {
	if o.want == 0 {
		o.want = -1
	}
	p.ops = append(p.ops, o)
	return int16(len(p.ops))
}

// cloneArgs is struct clone_args (linux/sched.h), version 2.
type cloneArgs struct {
	flags      uint64
	pidfd      uint64
	childTID   uint64
	parentTID  uint64
	exitSignal uint64
	stack      uint64
	stackSize  uint64
	tls        uint64
	setTID     uint64
	setTIDSize uint64
	cgroup     uint64
}

//go:linkname runtimeBeforeFork syscall.runtime_BeforeFork
func runtimeBeforeFork()

//go:linkname runtimeAfterFork syscall.runtime_AfterFork
func runtimeAfterFork()

//go:linkname runtimeAfterForkInChild syscall.runtime_AfterForkInChild
func runtimeAfterForkInChild()

// vforkSyscall is implemented in vfork_linux_amd64.s.
func vforkSyscall(trap, a1, a2 uintptr) (r1 uintptr, err syscall.Errno)

// forkRun clones a child with args (which must include CLONE_VM and
// CLONE_VFORK) and runs p in it. The calling thread is suspended until the
// child has exec'd or exited; on return, p.errBuf[1] is the errno of the
// failed op (index p.errBuf[0]), or 0 if the program is running. The
// caller holds syscall.ForkLock and calls runtimeAfterFork.
//
// The child shares this goroutine's stack and the whole address space with
// the parent, and runs while the parent's other threads run. So, as in
// syscall.forkAndExecInChild1: the child never returns from this frame,
// and after runtimeBeforeFork it executes only raw system calls and plain
// memory operations (no allocation, no calls that could grow the stack, no
// race-detector instrumentation). The parent path uses nothing but the
// results of vforkSyscall, which it writes after the child is gone.
//
//go:noinline
//go:norace
//go:nocheckptr
func forkRun(args *cloneArgs, p *childProgram) (pid uintptr, err syscall.Errno) {
	var (
		i     int
		n     int
		o     *op
		a     [6]uintptr
		r1    uintptr
		e     syscall.Errno
		ops   []op
		res   []uintptr
		trace uintptr
		eb    *[2]uint32
	)
	ops = p.ops
	res = p.res
	n = len(ops)
	trace = p.trace
	eb = &p.errBuf

	runtimeBeforeFork()
	pid, err = vforkSyscall(unix_SYS_CLONE3, uintptr(unsafe.Pointer(args)), unsafe.Sizeof(*args))
	if err != 0 || pid != 0 {
		return
	}

	// In the child.
	runtimeAfterForkInChild()
	for i = 0; i < n; i++ {
		o = &ops[i]
		a = o.args
		if o.ref[0] > 0 {
			a[0] = res[o.ref[0]-1]
		}
		if o.ref[1] > 0 {
			a[1] = res[o.ref[1]-1]
		}
		if o.ref[2] > 0 {
			a[2] = res[o.ref[2]-1]
		}
		if o.ref[3] > 0 {
			a[3] = res[o.ref[3]-1]
		}
		if o.ref[4] > 0 {
			a[4] = res[o.ref[4]-1]
		}
		if o.ref[5] > 0 {
			a[5] = res[o.ref[5]-1]
		}
		r1, _, e = syscall.RawSyscall6(o.nr, a[0], a[1], a[2], a[3], a[4], a[5])
		if e != 0 && e != o.okErr {
			goto fail
		}
		if e == 0 && o.want >= 0 && int64(r1) != o.want {
			e = syscall.EPROTO
			goto fail
		}
		res[i] = r1
		if o.store != nil {
			*o.store = int32(r1)
		}
		if trace != 0 {
			syscall.RawSyscall(syscall.SYS_CLOCK_GETTIME, 1, trace+uintptr(i)*16, 0)
		}
	}
	// The last op is execve; reaching here means the program had none.
	e = syscall.ENOEXEC

fail:
	// Shared memory: the parent reads this when vfork returns.
	eb[0] = uint32(i)
	eb[1] = uint32(e)
	for {
		syscall.RawSyscall(syscall.SYS_EXIT_GROUP, 127, 0, 0)
	}
}

const unix_SYS_CLONE3 = 435

// atFDCWD is AT_FDCWD (-100) as a system call argument.
const atFDCWD = ^uintptr(99)
