//go:build linux && amd64

package jail

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Parent/child protocol
//
// There is no re-exec and no handshake. The parent (the airlock process)
// prepares a childProgram (fork_unsafe.go): every path, struct, BPF filter
// and argument vector the child needs. One locked OS thread then clones
// the child with clone3(CLONE_VM|CLONE_VFORK|CLONE_PIDFD) into new user,
// mount, pid, ipc, uts, cgroup and (unless NetUnsafeHost) network
// namespaces. The thread is suspended until the child has run its program
// to execve (or failed); the child shares the parent's memory, so:
//
//   - a failing op stores {op index, errno} in the program's errBuf and
//     the child exits 127; the parent reads errBuf when vfork returns, so a
//     set-up error is reported with its step, never as the program's exit
//     status;
//   - nothing needs copying or synchronizing: the child writes its own
//     setgroups/uid_map/gid_map (a one-line map of its own effective ids,
//     which any user may write).
//
// Identity: inside the jail the program runs as the caller's uid and gid,
// mapped to themselves; a root caller is mapped to nobody (65534) instead.
// For that, the cloning thread (only it: credentials are per thread in
// Linux) drops its supplementary groups and sets its effective uid and gid
// to 65534 just for the clone, so the new user namespace belongs to nobody
// and the child can map itself; the thread restores them afterwards, and
// a thread that cannot is discarded. Because the child then lacks root's
// file access, a root parent opens and clones (open_tree) the bind sources
// itself and the child only attaches them.
//
// Cgroups: v2 uses CLONE_INTO_CGROUP; with v1 the child moves itself into
// the jail's cgroups (writing "0" to their cgroup.procs, which a root
// parent chowns to the jail's identity). The child then unshares its
// cgroup namespace, rooted at the jail's cgroups.
//
// Proxy (NetProxy only): the child creates the proxy's listening socket on
// 127.0.0.1:ProxyPort inside its network namespace and sends it over a
// unix socketpair with SCM_RIGHTS; the parent serves the egress proxy on
// it, so the jail reaches the network only through that socket.
//
// The program is pid 1 of its pid namespace: when it exits, the kernel
// kills every process left in the jail. The parent kills it through the
// pidfd on timeout or cancellation, and waits for it with wait4 on the OS
// thread that cloned it (PDEATHSIG follows the thread, which stays locked
// until the child is reaped). If the parent dies, PR_SET_PDEATHSIG (the
// child's first op, and again after its credential change) kills it.

var hostID = sync.OnceValues(func() (uid, gid int) { return os.Getuid(), os.Getgid() })

// cpuWatchEvery is how often the CPU-limit watchdog samples a cgroup's
// CPU usage.
const cpuWatchEvery = 20 * time.Millisecond

// unprivilegedID is the identity (inside and outside) of a jail started by
// root: "nobody".
const unprivilegedID = 65534

var capLastCap = sync.OnceValue(func() int {
	b, err := os.ReadFile("/proc/sys/kernel/cap_last_cap")
	if err != nil {
		return 40
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 40
	}
	return n
})

// entry is one node of the jail's tree after mount resolution.
type entry struct {
	kind    int // entryBind, entryTmpfs, entrySymlink
	src     string
	dst     string
	rw      bool
	isDir   bool
	size    int64
	symlink string
}

const (
	entryBind = iota
	entryTmpfs
	entrySymlink
)

// stageDir is the host directory the new root is mounted on inside the
// child's private mount namespace before pivot_root. Over-mounting it there
// is invisible to the host.
const stageDir = "/tmp"

// Run runs cfg.Args in a new jail and waits for it to exit.
//
// # Errors
//
// Run returns an error (and a Result with StatusInternal) when the jail
// cannot be set up: an invalid Config, a missing program or mount source,
// a kernel feature that is unavailable (wrapping ErrUnsupported), or a
// failing set-up step in the child (the error names the step). A program
// that runs and fails is not an error: see Result.Status.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	res := &Result{Status: StatusInternal, ExitCode: -1}
	if err := cfg.Validate(); err != nil {
		res.Message = err.Error()
		return res, err
	}
	err := run(ctx, &cfg, res)
	if err != nil {
		res.Status = StatusInternal
		res.Message = err.Error()
	}
	return res, err
}

// Supported is the cheap up-front check (Landlock, the newest kernel
// feature the jail needs). The error wraps ErrUnsupported and names the
// missing feature. Other missing features (user namespaces, seccomp, the
// mount API) surface as Run errors that also wrap ErrUnsupported and name
// them; Check inspects everything.
func Supported() error {
	if LandlockABI() < 1 {
		return fmt.Errorf("%w: Landlock is not enabled in this kernel", ErrUnsupported)
	}
	return nil
}

func run(ctx context.Context, cfg *Config, res *Result) (err error) {
	tr := newTracer()
	defer tr.phase("end")
	if err := Supported(); err != nil {
		return err
	}
	lim := cfg.Limits.WithDefaults()
	net := cfg.Net
	if net == "" {
		net = NetNone
	}

	prog, err := resolveProgram(cfg.Args[0])
	if err != nil {
		return err
	}
	entries, err := buildTree(cfg, prog)
	if err != nil {
		return err
	}
	tr.phase("tree")

	owned := fdSet{}
	defer owned.closeAll()
	var cleanups []func()
	defer func() {
		for i := len(cleanups) - 1; i >= 0; i-- {
			cleanups[i]()
		}
	}()

	// Cgroup.
	var cg *cgroup
	if cfg.Cgroup != CgroupOff {
		info := DetectCgroup()
		if info.Version == 0 && cfg.Cgroup == CgroupRequire {
			return fmt.Errorf("%w: cgroup required but %s", ErrUnsupported, info.Reason)
		}
		if info.Version != 0 {
			cg, err = newCgroup(info, lim)
			if err != nil {
				return err
			}
			cleanups = append(cleanups, cg.remove)
			res.Cgroup = true
		}
	}

	tr.phase("cgroup")
	// Descriptors handed to the child. They are duplicated (close-on-exec)
	// above every number the child could open before its dup3 ops, which
	// run after the mounts are done.
	files := []*os.File{cfg.Stdin, cfg.Stdout, cfg.Stderr}
	files = append(files, cfg.ExtraFiles...)
	var devnull *os.File
	for i, f := range files {
		if f == nil {
			if devnull == nil {
				devnull, err = os.OpenFile(os.DevNull, os.O_RDWR, 0)
				if err != nil {
					return err
				}
				cleanups = append(cleanups, func() { devnull.Close() })
			}
			files[i] = devnull
		}
	}
	base := 64
	if len(files)+8 > base {
		base = len(files) + 8
	}
	childFDs := make([]int, len(files))
	for i, f := range files {
		n, err := unix.FcntlInt(f.Fd(), unix.F_DUPFD_CLOEXEC, base)
		if err != nil {
			return fmt.Errorf("jail: dup: %w", err)
		}
		owned.add(n)
		childFDs[i] = n
	}
	var proxySock [2]int
	proxyW := -1
	if net == NetProxy {
		proxySock, err = unix.Socketpair(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("jail: socketpair: %w", err)
		}
		owned.add(proxySock[0], proxySock[1])
		proxyW = proxySock[1]
	}

	env := slices.Clone(cfg.Env)
	if net == NetProxy {
		u := "http://127.0.0.1:" + strconv.Itoa(ProxyPort)
		env = append(env, "HTTP_PROXY="+u, "HTTPS_PROXY="+u, "http_proxy="+u, "https_proxy="+u)
	}
	uid, gid := hostID()
	root := uid == 0
	if root {
		uid, gid = unprivilegedID, unprivilegedID
	}

	// A root parent clones the bind sources itself (see the protocol
	// comment); the child only attaches the detached trees.
	var trees []int
	if root {
		if trees, err = openTrees(entries, owned); err != nil {
			return err
		}
	}

	tr.phase("fds, trees")
	p := &childProgram{}
	b := &builder{p: p, cfg: cfg, lim: lim, net: net, entries: entries, root: root, uid: uid, gid: gid, cgroup: cg != nil, trees: trees}
	if cg != nil {
		b.procs = cg.procsFiles()
		if root {
			if err := cg.allowSelfMove(uid, gid); err != nil {
				return err
			}
		}
	}
	if err := b.build(prog, env, childFDs, proxyW); err != nil {
		return err
	}
	p.res = make([]uintptr, len(p.ops))
	if tr.on {
		defer p.traceOps()()
	}
	tr.phase("built")

	// The cgroup namespace is unshared by the child once it is in its
	// cgroups (see builder.build).
	flags := uint64(unix.CLONE_NEWUSER | unix.CLONE_NEWNS | unix.CLONE_NEWPID | unix.CLONE_NEWIPC |
		unix.CLONE_NEWUTS | unix.CLONE_PIDFD | unix.CLONE_VM | unix.CLONE_VFORK)
	if net != NetUnsafeHost {
		flags |= unix.CLONE_NEWNET
	}
	// The kernel writes the pidfd through a raw address: it must be heap
	// memory (in p), which does not move; a stack variable could be moved
	// by stack growth before the clone, and the pidfd lost.
	p.pidfd = -1
	ca := &cloneArgs{flags: flags, exitSignal: uint64(unix.SIGCHLD), pidfd: uint64(uintptr(unsafe.Pointer(&p.pidfd)))}
	if cg != nil && cg.version == 2 {
		ca.flags |= unix.CLONE_INTO_CGROUP
		ca.cgroup = uint64(cg.fd)
	}

	// The calling goroutine clones and waits on one locked OS thread:
	// PDEATHSIG fires when the cloning thread exits, so it must outlive the
	// child. A thread whose credentials could not be restored is never
	// reused: returning while locked makes the runtime end it (or, on the
	// main thread, keeps it wired to this goroutine).
	runtime.LockOSThread()
	clean := true
	defer func() {
		if clean {
			runtime.UnlockOSThread()
		}
	}()
	// ForkLock (held exclusively, as os/exec does) also serializes the
	// credential dance: the dumpable flag it clears belongs to the mm that
	// every thread and every vfork child of this process shares.
	syscall.ForkLock.Lock()
	dumpable, _ := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0)
	var (
		r     uintptr
		e     syscall.Errno
		start time.Time
	)
	if root {
		if err := dropThreadCreds(); err != nil {
			clean = false
			syscall.ForkLock.Unlock()
			return err
		}
	}
	start = time.Now()
	r, e = forkRun(ca, p)
	runtimeAfterFork()
	runtime.KeepAlive(p)
	runtime.KeepAlive(ca)
	if root {
		if restoreThreadCreds() != nil {
			clean = false
		}
	}
	// The credential changes and the child's PR_SET_DUMPABLE acted on the
	// mm this process shares with the child: put its flag back as it was.
	if d, err := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0); err == nil && d != dumpable {
		_ = unix.Prctl(unix.PR_SET_DUMPABLE, uintptr(dumpable), 0, 0, 0)
	}
	syscall.ForkLock.Unlock()
	if e != 0 {
		err := unsupported(fmt.Errorf("jail: clone3: %w", e))
		if !errors.Is(err, ErrUnsupported) && (e == unix.EPERM || e == unix.EACCES || e == unix.ENOSPC || e == unix.EUSERS) {
			return fmt.Errorf("%w: cannot create namespaces (%v); are unprivileged user namespaces enabled?", ErrUnsupported, err)
		}
		return err
	}
	pid := int(r)
	pfd := int(p.pidfd)
	tr.phase("execed")

	// kill may run from a timer or a context callback concurrently with
	// the end of the run; the mutex keeps it off a closed (and possibly
	// reused) pidfd.
	var killMu sync.Mutex
	pfdOpen := true
	kill := func() {
		killMu.Lock()
		if pfdOpen {
			_ = unix.PidfdSendSignal(pfd, unix.SIGKILL, nil, 0)
		}
		killMu.Unlock()
	}
	var status unix.WaitStatus
	var ru unix.Rusage
	wait := func() error {
		for {
			_, err := unix.Wait4(pid, &status, 0, &ru)
			if !errors.Is(err, unix.EINTR) {
				return err
			}
		}
	}
	reaped := false
	defer func() {
		if !reaped {
			kill()
			_ = wait()
		}
		killMu.Lock()
		pfdOpen = false
		unix.Close(pfd)
		killMu.Unlock()
	}()
	// The child has exec'd or failed: the descriptors it needed are its own.
	owned.close(childFDs...)
	owned.close(trees...)
	owned.close(proxyW)
	if e := syscall.Errno(p.errBuf[1]); e != 0 {
		i := int(p.errBuf[0])
		what := "unknown step"
		if i >= 0 && i < len(p.ops) {
			what = p.ops[i].what
		}
		err := fmt.Errorf("jail: set-up failed at %s: %w", what, e)
		if e == unix.ENOSYS || e == unix.EPERM || e == unix.EACCES || e == unix.EINVAL || e == unix.EOPNOTSUPP {
			err = unsupported(err)
		}
		return err
	}

	if net == NetProxy {
		ln, err := recvListener(proxySock[0])
		if err != nil {
			return err
		}
		go func() { _ = cfg.Proxy.Serve(ln) }()
		defer ln.Close()
	}

	var wallFired, cpuFired atomic.Bool
	timer := time.AfterFunc(lim.WallTime, func() { wallFired.Store(true); kill() })
	stopCtx := context.AfterFunc(ctx, kill)
	// With a cgroup that accounts CPU, the CPU limit covers the whole tree
	// with sub-second precision (RLIMIT_CPU is per process, whole seconds):
	// a watchdog samples the usage. Its first tick comes after
	// cpuWatchEvery, so short runs pay nothing.
	stopWatch := func() {}
	if cg != nil {
		if _, ok := cg.cpuUsage(); ok {
			stop := make(chan struct{})
			var watchDone sync.WaitGroup
			watchDone.Add(1)
			go func() {
				defer watchDone.Done()
				tk := time.NewTicker(cpuWatchEvery)
				defer tk.Stop()
				for {
					select {
					case <-stop:
						return
					case <-tk.C:
						if used, ok := cg.cpuUsage(); ok && used >= lim.CPUTime {
							cpuFired.Store(true)
							kill()
							return
						}
					}
				}
			}()
			stopWatch = func() { close(stop); watchDone.Wait() }
		}
	}
	werr := wait()
	reaped = true
	timer.Stop()
	stopCtx()
	stopWatch()
	tr.phase("reaped")
	res.WallTime = time.Since(start)
	if werr != nil {
		return fmt.Errorf("jail: wait: %w", werr)
	}
	res.CPUTime = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	res.MaxRSSBytes = ru.Maxrss * 1024
	var oom bool
	if cg != nil {
		peak, o, cpu, ok := cg.stats()
		// The cgroup peak misses file pages charged elsewhere (the
		// program's own binary), so report the larger of the two.
		if peak > res.MaxRSSBytes {
			res.MaxRSSBytes = peak
		}
		if ok {
			res.CPUTime = cpu
		}
		oom = o
	}
	wallTimedOut := wallFired.Load() && ctx.Err() == nil
	classify(res, status, lim, oom, wallTimedOut, ctx.Err())
	if cpuFired.Load() && ctx.Err() == nil && !oom {
		res.Status, res.Message = StatusTimeout, "CPU time limit exceeded"
	}
	return nil
}

// classify sets the status from how the program ended.
func classify(res *Result, ws unix.WaitStatus, lim Limits, oom, wallTimedOut bool, ctxErr error) {
	switch {
	case ws.Exited():
		res.ExitCode = ws.ExitStatus()
		res.Status = StatusOK
		if res.ExitCode != 0 {
			res.Status = StatusRuntime
			res.Message = fmt.Sprintf("exited with code %d", res.ExitCode)
		}
	case ws.Signaled():
		res.Signal = int(ws.Signal())
		res.Status = StatusSignal
		res.Message = fmt.Sprintf("killed by signal %d (%s)", res.Signal, unix.SignalName(ws.Signal()))
	}
	switch {
	case ctxErr != nil:
		res.Status = StatusSignal
		res.Message = "cancelled: " + ctxErr.Error()
	case wallTimedOut:
		res.Status = StatusTimeout
		res.Message = fmt.Sprintf("wall-clock timeout (%s) exceeded", lim.WallTime)
	case oom:
		res.Status = StatusMemory
		res.Message = "memory limit exceeded"
	// RLIMIT_CPU kills the first process with SIGKILL (the jail's pid 1
	// ignores SIGXCPU) at the limit, rounded up to a whole second. The
	// CPU time read back (rusage or cgroup) can trail the kernel's timer by
	// some tens of milliseconds per thread, hence the margin.
	case ws.Signaled() && (ws.Signal() == unix.SIGXCPU || ws.Signal() == unix.SIGKILL) && res.CPUTime >= lim.CPUTime*3/4:
		res.Status = StatusTimeout
		res.Message = "CPU time limit exceeded"
	}
}

// fdSet tracks the descriptors a run owns, so each is closed exactly once
// (closing a number twice could close another run's descriptor).
type fdSet map[int]bool

func (s fdSet) add(fds ...int) {
	for _, fd := range fds {
		s[fd] = true
	}
}

func (s fdSet) close(fds ...int) {
	for _, fd := range fds {
		if s[fd] {
			delete(s, fd)
			unix.Close(fd)
		}
	}
}

func (s fdSet) closeAll() {
	for fd := range s {
		unix.Close(fd)
	}
	clear(s)
}

func recvListener(sock int) (net.Listener, error) {
	buf := make([]byte, 1)
	oob := make([]byte, unix.CmsgSpace(4))
	_, oobn, _, _, err := unix.Recvmsg(sock, buf, oob, unix.MSG_CMSG_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("jail: receive proxy socket: %w", err)
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		return nil, fmt.Errorf("jail: receive proxy socket: bad control message")
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		return nil, fmt.Errorf("jail: receive proxy socket: bad rights")
	}
	f := os.NewFile(uintptr(fds[0]), "jail-proxy")
	defer f.Close()
	ln, err := net.FileListener(f)
	if err != nil {
		return nil, fmt.Errorf("jail: proxy listener: %w", err)
	}
	return ln, nil
}

// resolveProgram finds the program on the host and returns its real path.
func resolveProgram(name string) (string, error) {
	p := name
	if !strings.Contains(name, "/") {
		lp, err := exec.LookPath(name)
		if err != nil {
			return "", fmt.Errorf("jail: %w", err)
		}
		p = lp
	}
	p, err := filepath.Abs(p)
	if err != nil {
		return "", fmt.Errorf("jail: %w", err)
	}
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		return "", fmt.Errorf("jail: program: %w", err)
	}
	return real, nil
}

// buildTree resolves the defaults and cfg.Mounts into the entries of the
// jail's tree, parents before children.
func buildTree(cfg *Config, prog string) ([]entry, error) {
	var es []entry
	byDst := map[string]int{}
	put := func(e entry) {
		if i, ok := byDst[e.dst]; ok {
			es[i] = e
			return
		}
		byDst[e.dst] = len(es)
		es = append(es, e)
	}
	bind := func(src, dst string, rw bool) error {
		abs, err := filepath.Abs(src)
		if err != nil {
			return fmt.Errorf("jail: mount source: %w", err)
		}
		real, err := filepath.EvalSymlinks(abs)
		if err != nil {
			return fmt.Errorf("jail: mount source: %w", err)
		}
		st, err := os.Stat(real)
		if err != nil {
			return fmt.Errorf("jail: mount source: %w", err)
		}
		put(entry{kind: entryBind, src: real, dst: dst, rw: rw, isDir: st.IsDir()})
		return nil
	}
	if !cfg.NoDefaultMounts {
		for _, d := range []string{"/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"} {
			st, err := os.Lstat(d)
			if err != nil {
				continue
			}
			if st.Mode()&os.ModeSymlink != 0 {
				t, err := os.Readlink(d)
				if err != nil {
					return nil, fmt.Errorf("jail: %w", err)
				}
				put(entry{kind: entrySymlink, dst: d, symlink: t})
				continue
			}
			if err := bind(d, d, false); err != nil {
				return nil, err
			}
		}
		for _, d := range []string{"/etc/ssl", "/etc/ld.so.cache"} {
			if _, err := os.Stat(d); err == nil {
				if err := bind(d, d, false); err != nil {
					return nil, err
				}
			}
		}
		put(entry{kind: entryTmpfs, dst: "/tmp", rw: true, isDir: true, size: DefaultTmpfsBytes})
	}
	for _, m := range cfg.Mounts {
		switch m.Kind {
		case Tmpfs:
			size := m.SizeBytes
			if size == 0 {
				size = DefaultTmpfsBytes
			}
			put(entry{kind: entryTmpfs, dst: m.Dest, rw: true, isDir: true, size: size})
		case ReadOnlyBind, Bind:
			if err := bind(m.Source, m.Dest, m.Kind == Bind); err != nil {
				return nil, err
			}
		}
	}
	// The program's own directory, unless already visible.
	if !cfg.NoDefaultMounts || len(cfg.Mounts) == 0 {
		dir := filepath.Dir(prog)
		if !covered(es, dir) {
			if err := bind(dir, dir, false); err != nil {
				return nil, err
			}
		}
	}
	// Parents before children; reject anything below a symlink we create.
	slices.SortStableFunc(es, func(a, b entry) int { return strings.Count(a.dst, "/") - strings.Count(b.dst, "/") })
	for _, e := range es {
		for _, s := range es {
			if s.kind == entrySymlink && strings.HasPrefix(e.dst, s.dst+"/") {
				return nil, fmt.Errorf("jail: mount destination %s is below the symlink %s", e.dst, s.dst)
			}
		}
	}
	return es, nil
}

// covered reports whether dir is inside a mount of es (following the
// symlinks es creates).
func covered(es []entry, dir string) bool {
	for _, e := range es {
		if e.kind != entryBind || e.src != e.dst {
			continue
		}
		if dir == e.dst || strings.HasPrefix(dir, e.dst+"/") {
			return true
		}
	}
	return false
}

// builder turns a resolved tree and config into the child's program.
type builder struct {
	p        *childProgram
	cfg      *Config
	lim      Limits
	net      NetMode
	entries  []entry
	root     bool
	uid, gid int
	cgroup   bool
	procs    []string // v1 cgroup.procs files the child moves itself with
	trees    []int    // root caller: detached bind trees by entry, else nil
}

func mountAttr(rw bool) *unix.MountAttr {
	attr := &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV}
	if !rw {
		attr.Attr_set |= unix.MOUNT_ATTR_RDONLY
	}
	return attr
}

// openTrees opens each bind source (without following symlinks: they were
// resolved by buildTree, so one swapped in since fails the run) and clones
// it into a detached mount with its flags. The descriptors are close-on-exec
// and added to owned.
func openTrees(es []entry, owned fdSet) ([]int, error) {
	trees := make([]int, len(es))
	for i, e := range es {
		trees[i] = -1
		if e.kind != entryBind {
			continue
		}
		fd, err := unix.Openat2(unix.AT_FDCWD, e.src, &unix.OpenHow{Flags: unix.O_PATH | unix.O_CLOEXEC, Resolve: unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS})
		if err != nil {
			return nil, fmt.Errorf("jail: mount source %s: %w", e.src, err)
		}
		t, err := unix.OpenTree(fd, "", unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC|unix.AT_EMPTY_PATH|unix.AT_RECURSIVE)
		unix.Close(fd)
		if err != nil {
			return nil, fmt.Errorf("jail: clone mount %s: %w", e.src, err)
		}
		owned.add(t)
		trees[i] = t
		if err := unix.MountSetattr(t, "", unix.AT_EMPTY_PATH|unix.AT_RECURSIVE, mountAttr(e.rw)); err != nil {
			return nil, fmt.Errorf("jail: mount flags %s: %w", e.src, err)
		}
	}
	return trees, nil
}

// dropThreadCreds makes the calling (locked) thread's effective uid and
// gid nobody and empties its supplementary groups, keeping root as the
// real and saved ids so restoreThreadCreds can undo it. Raw system calls:
// the change must stay on this thread.
func dropThreadCreds() error {
	keep := ^uintptr(0)
	if _, _, e := unix.RawSyscall(unix.SYS_SETGROUPS, 0, 0, 0); e != 0 {
		return fmt.Errorf("jail: setgroups: %w", e)
	}
	if _, _, e := unix.RawSyscall(unix.SYS_SETRESGID, keep, unprivilegedID, keep); e != 0 {
		return fmt.Errorf("jail: setresgid: %w", e)
	}
	if _, _, e := unix.RawSyscall(unix.SYS_SETRESUID, keep, unprivilegedID, keep); e != 0 {
		return fmt.Errorf("jail: setresuid: %w", e)
	}
	return nil
}

var hostGroups = sync.OnceValue(func() []uint32 {
	gs, _ := unix.Getgroups()
	out := make([]uint32, len(gs))
	for i, g := range gs {
		out[i] = uint32(g)
	}
	return out
})

// restoreThreadCreds undoes dropThreadCreds and checks the result.
func restoreThreadCreds() error {
	keep := ^uintptr(0)
	unix.RawSyscall(unix.SYS_SETRESUID, keep, 0, keep)
	gid := uint32(os.Getgid())
	unix.RawSyscall(unix.SYS_SETRESGID, keep, uintptr(gid), keep)
	gs := hostGroups()
	var gp uintptr
	if len(gs) > 0 {
		gp = uintptr(unsafe.Pointer(&gs[0]))
	}
	unix.RawSyscall(unix.SYS_SETGROUPS, uintptr(len(gs)), gp, 0)
	var r, e, sv uint32
	unix.RawSyscall(unix.SYS_GETRESUID, uintptr(unsafe.Pointer(&r)), uintptr(unsafe.Pointer(&e)), uintptr(unsafe.Pointer(&sv)))
	if r != 0 || e != 0 || sv != 0 {
		return errors.New("jail: could not restore thread credentials")
	}
	unix.RawSyscall(unix.SYS_GETRESGID, uintptr(unsafe.Pointer(&r)), uintptr(unsafe.Pointer(&e)), uintptr(unsafe.Pointer(&sv)))
	if r != gid || e != gid || sv != gid {
		return errors.New("jail: could not restore thread credentials")
	}
	return nil
}

var devices = []string{"null", "zero", "full", "random", "urandom"}

func (b *builder) build(prog string, env []string, childFDs []int, proxyW int) error {
	p := b.p
	at := func(rel string) string { return stageDir + rel }
	p.add(op{nr: unix.SYS_PRCTL, args: [6]uintptr{unix.PR_SET_PDEATHSIG, uintptr(unix.SIGKILL)}, what: "prctl(PR_SET_PDEATHSIG)"})

	// An unprivileged caller's child opens every bind source in its new
	// mount namespace, with the caller's file access rights, without
	// following symlinks (they were resolved on the host; a symlink swapped
	// in since fails here), and clones it into a detached, flagged mount.
	// (A root caller did this in openTrees.)
	trees := make([]int16, len(b.entries))
	for i, e := range b.entries {
		if e.kind != entryBind || b.root {
			continue
		}
		how := &unix.OpenHow{Flags: unix.O_PATH | unix.O_CLOEXEC, Resolve: unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS}
		fd := p.add(op{nr: unix.SYS_OPENAT2, args: [6]uintptr{atFDCWD, p.cstr(e.src), p.ptr(unsafe.Pointer(how), how), unsafe.Sizeof(*how)}, what: "open mount source " + e.src})
		t := p.add(op{nr: unix.SYS_OPEN_TREE, args: [6]uintptr{0, p.cstr(""), unix.OPEN_TREE_CLONE | unix.OPEN_TREE_CLOEXEC | unix.AT_EMPTY_PATH | unix.AT_RECURSIVE}, ref: [6]int16{fd}, what: "clone mount " + e.src})
		attr := mountAttr(e.rw)
		p.add(op{nr: unix.SYS_MOUNT_SETATTR, args: [6]uintptr{0, p.cstr(""), unix.AT_EMPTY_PATH | unix.AT_RECURSIVE, p.ptr(unsafe.Pointer(attr), attr), unsafe.Sizeof(*attr)}, ref: [6]int16{t}, what: "set mount flags " + e.src})
		p.add(op{nr: unix.SYS_CLOSE, ref: [6]int16{fd}, what: "close"})
		trees[i] = t
	}
	devTrees := make([]int16, len(devices))
	for i, d := range devices {
		t := p.add(op{nr: unix.SYS_OPEN_TREE, args: [6]uintptr{atFDCWD, p.cstr("/dev/" + d), unix.OPEN_TREE_CLONE | unix.OPEN_TREE_CLOEXEC}, what: "clone /dev/" + d})
		attr := &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NOEXEC}
		p.add(op{nr: unix.SYS_MOUNT_SETATTR, args: [6]uintptr{0, p.cstr(""), unix.AT_EMPTY_PATH, p.ptr(unsafe.Pointer(attr), attr), unsafe.Sizeof(*attr)}, ref: [6]int16{t}, what: "set flags /dev/" + d})
		devTrees[i] = t
	}

	// Map the child's own effective ids (see the protocol comment). A
	// credential change (the cloning thread's) made the shared mm
	// non-dumpable, which makes /proc/self root-owned: undo that first.
	p.add(op{nr: unix.SYS_PRCTL, args: [6]uintptr{unix.PR_SET_DUMPABLE, 1}, what: "prctl(PR_SET_DUMPABLE)"})
	for _, w := range [][2]string{
		{"/proc/self/setgroups", "deny"},
		{"/proc/self/uid_map", fmt.Sprintf("%d %d 1", b.uid, b.uid)},
		{"/proc/self/gid_map", fmt.Sprintf("%d %d 1", b.gid, b.gid)},
	} {
		fd := p.add(op{nr: unix.SYS_OPENAT, args: [6]uintptr{atFDCWD, p.cstr(w[0]), unix.O_WRONLY | unix.O_CLOEXEC}, what: "open " + w[0]})
		p.add(op{nr: unix.SYS_WRITE, args: [6]uintptr{0, p.cstr(w[1]), uintptr(len(w[1]))}, ref: [6]int16{fd}, want: int64(len(w[1])), what: "write " + w[0]})
		p.add(op{nr: unix.SYS_CLOSE, ref: [6]int16{fd}, what: "close"})
	}
	if b.root {
		// The real and saved ids are still root's (unmapped here): make all
		// of them nobody. uid 0 is not mapped in this namespace, so this
		// does not clear the namespace capabilities the set-up still needs.
		p.add(op{nr: unix.SYS_SETRESGID, args: [6]uintptr{uintptr(b.gid), uintptr(b.gid), uintptr(b.gid)}, what: "setresgid"})
		p.add(op{nr: unix.SYS_SETRESUID, args: [6]uintptr{uintptr(b.uid), uintptr(b.uid), uintptr(b.uid)}, what: "setresuid"})
		// A credential change clears the parent-death signal.
		p.add(op{nr: unix.SYS_PRCTL, args: [6]uintptr{unix.PR_SET_PDEATHSIG, uintptr(unix.SIGKILL)}, what: "prctl(PR_SET_PDEATHSIG)"})
	}
	// Into the jail's v1 cgroups (v2: born there), then a cgroup namespace
	// rooted at them.
	for _, f := range b.procs {
		fd := p.add(op{nr: unix.SYS_OPENAT, args: [6]uintptr{atFDCWD, p.cstr(f), unix.O_WRONLY | unix.O_CLOEXEC}, what: "open " + f})
		p.add(op{nr: unix.SYS_WRITE, args: [6]uintptr{0, p.cstr("0"), 1}, ref: [6]int16{fd}, want: 1, what: "join cgroup " + f})
		p.add(op{nr: unix.SYS_CLOSE, ref: [6]int16{fd}, what: "close"})
	}
	p.add(op{nr: unix.SYS_UNSHARE, args: [6]uintptr{unix.CLONE_NEWCGROUP}, what: "unshare(CLONE_NEWCGROUP)"})
	p.add(op{nr: unix.SYS_SETSID, what: "setsid"})
	host := b.cfg.Hostname
	if host == "" {
		host = "airlock"
	}
	p.add(op{nr: unix.SYS_SETHOSTNAME, args: [6]uintptr{p.cstr(host), uintptr(len(host))}, what: "sethostname"})

	if b.net != NetUnsafeHost {
		// Bring loopback up.
		s := p.add(op{nr: unix.SYS_SOCKET, args: [6]uintptr{unix.AF_INET, unix.SOCK_DGRAM | unix.SOCK_CLOEXEC, 0}, what: "socket for lo"})
		ifr := &ifreqFlags{flags: unix.IFF_UP | unix.IFF_RUNNING}
		copy(ifr.name[:], "lo")
		p.add(op{nr: unix.SYS_IOCTL, args: [6]uintptr{0, unix.SIOCSIFFLAGS, p.ptr(unsafe.Pointer(ifr), ifr)}, ref: [6]int16{s}, what: "bring up lo"})
		p.add(op{nr: unix.SYS_CLOSE, ref: [6]int16{s}, what: "close"})
	}
	if b.net == NetProxy {
		s := p.add(op{nr: unix.SYS_SOCKET, args: [6]uintptr{unix.AF_INET, unix.SOCK_STREAM | unix.SOCK_CLOEXEC, 0}, what: "proxy socket"})
		sa := &unix.RawSockaddrInet4{Family: unix.AF_INET, Addr: [4]byte{127, 0, 0, 1}}
		sa.Port = uint16(ProxyPort>>8) | uint16(ProxyPort&0xff)<<8
		p.add(op{nr: unix.SYS_BIND, args: [6]uintptr{0, p.ptr(unsafe.Pointer(sa), sa), unix.SizeofSockaddrInet4}, ref: [6]int16{s}, what: "bind proxy socket"})
		p.add(op{nr: unix.SYS_LISTEN, args: [6]uintptr{0, 128}, ref: [6]int16{s}, what: "listen proxy socket"})
		m := newRightsMsg()
		p.keep = append(p.keep, m)
		p.ops[s-1].store = m.fd
		p.add(op{nr: unix.SYS_SENDMSG, args: [6]uintptr{uintptr(proxyW), uintptr(unsafe.Pointer(m.hdr)), 0}, want: 1, what: "send proxy socket"})
		p.add(op{nr: unix.SYS_CLOSE, ref: [6]int16{s}, what: "close"})
	}

	// The new root: a small tmpfs, read-only once populated.
	p.add(op{nr: unix.SYS_MOUNT, args: [6]uintptr{p.cstr("tmpfs"), p.cstr(stageDir), p.cstr("tmpfs"), unix.MS_NOSUID | unix.MS_NODEV, p.cstr("size=1M,nr_inodes=4096,mode=0755")}, what: "mount root tmpfs"})
	made := map[string]bool{"/": true}
	mkdir := func(dir string) {
		var chain []string
		for d := dir; !made[d]; d = path.Dir(d) {
			chain = append(chain, d)
		}
		for i := len(chain) - 1; i >= 0; i-- {
			d := chain[i]
			made[d] = true
			p.add(op{nr: unix.SYS_MKDIRAT, args: [6]uintptr{atFDCWD, p.cstr(at(d)), 0o755}, okErr: unix.EEXIST, what: "mkdir " + d})
		}
	}
	mkdir("/proc")
	mkdir("/dev")
	for i, e := range b.entries {
		switch e.kind {
		case entrySymlink:
			mkdir(path.Dir(e.dst))
			p.add(op{nr: unix.SYS_SYMLINKAT, args: [6]uintptr{p.cstr(e.symlink), atFDCWD, p.cstr(at(e.dst))}, what: "symlink " + e.dst})
			made[e.dst] = true
		case entryTmpfs:
			mkdir(e.dst)
			p.newMount("tmpfs", [][2]string{{"size", strconv.FormatInt(e.size, 10)}, {"mode", "1777"}}, unix.MOUNT_ATTR_NOSUID|unix.MOUNT_ATTR_NODEV, at(e.dst), e.dst)
		case entryBind:
			if e.isDir {
				mkdir(e.dst)
			} else {
				mkdir(path.Dir(e.dst))
				p.add(op{nr: unix.SYS_MKNODAT, args: [6]uintptr{atFDCWD, p.cstr(at(e.dst)), unix.S_IFREG | 0o644, 0}, okErr: unix.EEXIST, what: "create " + e.dst})
			}
			if b.root {
				tgt := p.target(at(e.dst), e.dst)
				p.add(op{nr: unix.SYS_MOVE_MOUNT, args: [6]uintptr{uintptr(b.trees[i]), p.cstr(""), 0, p.cstr(""), unix.MOVE_MOUNT_F_EMPTY_PATH | unix.MOVE_MOUNT_T_EMPTY_PATH}, ref: [6]int16{0, 0, tgt}, what: "mount " + e.src + " on " + e.dst})
				p.add(op{nr: unix.SYS_CLOSE, ref: [6]int16{tgt}, what: "close"})
			} else {
				tgt := p.target(at(e.dst), e.dst)
				p.add(op{nr: unix.SYS_MOVE_MOUNT, args: [6]uintptr{0, p.cstr(""), 0, p.cstr(""), unix.MOVE_MOUNT_F_EMPTY_PATH | unix.MOVE_MOUNT_T_EMPTY_PATH}, ref: [6]int16{trees[i], 0, tgt}, what: "mount " + e.src + " on " + e.dst})
				p.add(op{nr: unix.SYS_CLOSE, ref: [6]int16{tgt}, what: "close"})
				p.add(op{nr: unix.SYS_CLOSE, ref: [6]int16{trees[i]}, what: "close"})
			}
		}
	}
	for i, d := range devices {
		p.add(op{nr: unix.SYS_MKNODAT, args: [6]uintptr{atFDCWD, p.cstr(at("/dev/" + d)), unix.S_IFREG | 0o666, 0}, what: "create /dev/" + d})
		tgt := p.target(at("/dev/"+d), "/dev/"+d)
		p.add(op{nr: unix.SYS_MOVE_MOUNT, args: [6]uintptr{0, p.cstr(""), 0, p.cstr(""), unix.MOVE_MOUNT_F_EMPTY_PATH | unix.MOVE_MOUNT_T_EMPTY_PATH}, ref: [6]int16{devTrees[i], 0, tgt}, what: "mount /dev/" + d})
		p.add(op{nr: unix.SYS_CLOSE, ref: [6]int16{tgt}, what: "close"})
		p.add(op{nr: unix.SYS_CLOSE, ref: [6]int16{devTrees[i]}, what: "close"})
	}
	for _, l := range [][2]string{{"/proc/self/fd", "/dev/fd"}, {"/proc/self/fd/0", "/dev/stdin"}, {"/proc/self/fd/1", "/dev/stdout"}, {"/proc/self/fd/2", "/dev/stderr"}} {
		p.add(op{nr: unix.SYS_SYMLINKAT, args: [6]uintptr{p.cstr(l[0]), atFDCWD, p.cstr(at(l[1]))}, what: "symlink " + l[1]})
	}
	p.newMount("proc", nil, unix.MOUNT_ATTR_NOSUID|unix.MOUNT_ATTR_NODEV|unix.MOUNT_ATTR_NOEXEC, at("/proc"), "/proc")
	p.add(op{nr: unix.SYS_MOUNT, args: [6]uintptr{0, p.cstr(stageDir), 0, unix.MS_REMOUNT | unix.MS_BIND | unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV, 0}, what: "make root read-only"})

	// pivot_root(".", ".") stacks the old root under the new one; detach it.
	p.add(op{nr: unix.SYS_CHDIR, args: [6]uintptr{p.cstr(stageDir)}, what: "chdir new root"})
	p.add(op{nr: unix.SYS_PIVOT_ROOT, args: [6]uintptr{p.cstr("."), p.cstr(".")}, what: "pivot_root"})
	p.add(op{nr: unix.SYS_UMOUNT2, args: [6]uintptr{p.cstr("."), unix.MNT_DETACH}, what: "detach old root"})
	dir := b.cfg.Dir
	if dir == "" {
		dir = "/"
	}
	p.add(op{nr: unix.SYS_CHDIR, args: [6]uintptr{p.cstr(dir)}, what: "chdir " + dir})

	// Descriptors: 0, 1, 2 and ExtraFiles; everything else close-on-exec.
	for i, fd := range childFDs {
		p.add(op{nr: unix.SYS_DUP3, args: [6]uintptr{uintptr(fd), uintptr(i), 0}, what: "dup3 descriptor " + strconv.Itoa(i)})
	}
	p.add(op{nr: unix.SYS_CLOSE_RANGE, args: [6]uintptr{uintptr(len(childFDs)), ^uintptr(0), unix.CLOSE_RANGE_CLOEXEC}, what: "close_range"})

	p.add(op{nr: unix.SYS_PRCTL, args: [6]uintptr{unix.PR_SET_NO_NEW_PRIVS, 1}, what: "prctl(PR_SET_NO_NEW_PRIVS)"})

	// Landlock: read and execute the whole tree, write only where writable.
	const all = ^uint64(0)
	rules := []landlockRule{{path: "/", allowed: llRead}, {path: "/dev", allowed: llRead | unix.LANDLOCK_ACCESS_FS_WRITE_FILE | unix.LANDLOCK_ACCESS_FS_TRUNCATE | unix.LANDLOCK_ACCESS_FS_IOCTL_DEV}}
	for _, e := range b.entries {
		if e.rw && e.kind != entrySymlink {
			rules = append(rules, landlockRule{path: e.dst, allowed: all})
		}
	}
	p.addLandlock(LandlockABI(), rules, b.net)

	// Capabilities: empty the bounding and ambient sets, then all others.
	for c := 0; c <= capLastCap(); c++ {
		p.add(op{nr: unix.SYS_PRCTL, args: [6]uintptr{unix.PR_CAPBSET_DROP, uintptr(c)}, what: "drop capability " + strconv.Itoa(c)})
	}
	p.add(op{nr: unix.SYS_PRCTL, args: [6]uintptr{unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL}, what: "clear ambient capabilities"})
	hdr := &unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	capData := &[2]unix.CapUserData{}
	p.add(op{nr: unix.SYS_CAPSET, args: [6]uintptr{p.ptr(unsafe.Pointer(hdr), hdr), p.ptr(unsafe.Pointer(capData), capData)}, what: "capset"})

	// Limits last, so they bound the program and not the set-up.
	lim := b.lim
	cpu := uint64((lim.CPUTime + time.Second - 1) / time.Second)
	// RLIMIT_DATA is the memory fallback. With a cgroup it is lifted: the
	// cgroup kills (and so reports ML) where RLIMIT_DATA would fail an
	// mmap first (it counts mapped, not touched, memory: Go maps heap in
	// 64 MiB steps) and crash runtimes that do not expect that.
	data := uint64(lim.MemoryBytes)
	if b.cgroup {
		data = unix.RLIM_INFINITY
	}
	type rl struct {
		res int
		cur uint64
	}
	rls := []rl{
		{unix.RLIMIT_CPU, cpu},
		{unix.RLIMIT_DATA, data},
		// V8 and Go reserve tens of GiB of address space they never touch,
		// so the address-space cap is generous; RLIMIT_DATA (and the cgroup)
		// bound what is actually used.
		{unix.RLIMIT_AS, 1 << 40},
		{unix.RLIMIT_NOFILE, uint64(lim.OpenFiles)},
		{unix.RLIMIT_NPROC, uint64(lim.Processes)},
		{unix.RLIMIT_FSIZE, uint64(lim.FileSizeBytes)},
		{unix.RLIMIT_CORE, 0},
		{unix.RLIMIT_MEMLOCK, 0},
		{unix.RLIMIT_MSGQUEUE, 0},
	}
	for _, r := range rls {
		v := &unix.Rlimit{Cur: r.cur, Max: r.cur}
		p.add(op{nr: unix.SYS_PRLIMIT64, args: [6]uintptr{0, uintptr(r.res), p.ptr(unsafe.Pointer(v), v), 0}, what: "setrlimit " + strconv.Itoa(r.res)})
	}

	filter := buildSeccomp()
	fprog := &unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}
	p.keep = append(p.keep, filter)
	p.add(op{nr: unix.SYS_SECCOMP, args: [6]uintptr{unix.SECCOMP_SET_MODE_FILTER, 0, p.ptr(unsafe.Pointer(fprog), fprog)}, what: "seccomp"})

	argv := p.cstrv(b.cfg.Args)
	envv := p.cstrv(env)
	p.add(op{nr: unix.SYS_EXECVE, args: [6]uintptr{p.cstr(prog), argv, envv}, what: "execve " + prog})
	return nil
}

// target opens a mount point inside the new root without following any
// symlink (RESOLVE_NO_SYMLINKS): a symlink planted in a bind's content
// where a nested mount goes cannot redirect the mount. It returns the op
// whose result is the O_PATH descriptor.
func (p *childProgram) target(path, dst string) int16 {
	how := &unix.OpenHow{Flags: unix.O_PATH | unix.O_CLOEXEC, Resolve: unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS}
	return p.add(op{nr: unix.SYS_OPENAT2, args: [6]uintptr{atFDCWD, p.cstr(path), p.ptr(unsafe.Pointer(how), how), unsafe.Sizeof(*how)}, what: "open mount point " + dst})
}

// newMount mounts a new file system of type fstype with the new mount API
// (fsopen, fsconfig, fsmount) and attaches it on path through target.
func (p *childProgram) newMount(fstype string, opts [][2]string, attrs uintptr, path, dst string) {
	fs := p.add(op{nr: unix.SYS_FSOPEN, args: [6]uintptr{p.cstr(fstype), unix.FSOPEN_CLOEXEC}, what: "fsopen " + fstype})
	for _, o := range opts {
		p.add(op{nr: unix.SYS_FSCONFIG, args: [6]uintptr{0, unix.FSCONFIG_SET_STRING, p.cstr(o[0]), p.cstr(o[1]), 0}, ref: [6]int16{fs}, what: "fsconfig " + fstype + " " + o[0] + "=" + o[1]})
	}
	p.add(op{nr: unix.SYS_FSCONFIG, args: [6]uintptr{0, unix.FSCONFIG_CMD_CREATE, 0, 0, 0}, ref: [6]int16{fs}, what: "create " + fstype + " for " + dst})
	m := p.add(op{nr: unix.SYS_FSMOUNT, args: [6]uintptr{0, unix.FSMOUNT_CLOEXEC, attrs}, ref: [6]int16{fs}, what: "fsmount " + fstype})
	tgt := p.target(path, dst)
	p.add(op{nr: unix.SYS_MOVE_MOUNT, args: [6]uintptr{0, p.cstr(""), 0, p.cstr(""), unix.MOVE_MOUNT_F_EMPTY_PATH | unix.MOVE_MOUNT_T_EMPTY_PATH}, ref: [6]int16{m, 0, tgt}, what: "mount " + fstype + " on " + dst})
	for _, fd := range []int16{tgt, m, fs} {
		p.add(op{nr: unix.SYS_CLOSE, ref: [6]int16{fd}, what: "close"})
	}
}

// cstrv returns a NULL-terminated array of C strings.
func (p *childProgram) cstrv(ss []string) uintptr {
	v := make([]uintptr, len(ss)+1)
	for i, s := range ss {
		v[i] = p.cstr(s)
	}
	p.keep = append(p.keep, v)
	return uintptr(unsafe.Pointer(&v[0]))
}

// ifreqFlags is struct ifreq with ifr_flags.
type ifreqFlags struct {
	name  [unix.IFNAMSIZ]byte
	flags uint16
	_     [22]byte
}

// rightsMsg is a prepared sendmsg carrying one descriptor; the child
// stores the descriptor into *fd.
type rightsMsg struct {
	hdr  *unix.Msghdr
	iov  *unix.Iovec
	data *byte
	oob  []byte
	fd   *int32
}

func newRightsMsg() *rightsMsg {
	m := &rightsMsg{data: new(byte)}
	*m.data = 'L'
	m.oob = unix.UnixRights(0)
	// The descriptor is the last 4 bytes of the single cmsg.
	m.fd = (*int32)(unsafe.Pointer(&m.oob[unix.CmsgLen(0)]))
	m.iov = &unix.Iovec{Base: m.data, Len: 1}
	m.hdr = &unix.Msghdr{Iov: m.iov, Iovlen: 1, Control: &m.oob[0]}
	m.hdr.SetControllen(len(m.oob))
	return m
}

// tracer prints the set-up's phases on stderr when AIRLOCK_JAIL_TRACE is
// set (for profiling start-up; see RATIONALE.md).
type tracer struct {
	on bool
	t0 time.Time
}

func newTracer() tracer { return tracer{on: os.Getenv("AIRLOCK_JAIL_TRACE") != "", t0: time.Now()} }

func (t tracer) phase(s string) {
	if t.on {
		fmt.Fprintf(os.Stderr, "%8.3fms %s\n", float64(time.Since(t.t0).Microseconds())/1000, s)
	}
}

// traceOps makes the child stamp the time after each op into shared
// memory, and returns a function that prints the ops slower than 30 µs.
func (p *childProgram) traceOps() func() {
	mem, err := unix.Mmap(-1, 0, 16*len(p.ops), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_ANONYMOUS)
	if err != nil {
		return func() {}
	}
	p.trace = uintptr(unsafe.Pointer(&mem[0]))
	return func() {
		prev := int64(0)
		for i := range p.ops {
			ns := (*unix.Timespec)(unsafe.Pointer(&mem[16*i])).Nano()
			if ns == 0 {
				continue
			}
			if prev != 0 && ns-prev > 30000 {
				fmt.Fprintf(os.Stderr, "  op %3d %-40s %6.3fms\n", i, p.ops[i].what, float64(ns-prev)/1e6)
			}
			prev = ns
		}
		p.trace = 0
		_ = unix.Munmap(mem)
	}
}
