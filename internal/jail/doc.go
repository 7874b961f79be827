// Package jail runs a program in an unprivileged Linux kernel jail: new
// user, pid, mount, network, ipc, uts and cgroup namespaces, a fresh
// read-only root with only the binds it needs, seccomp, Landlock, no
// capabilities and limits. It needs no host privilege where unprivileged
// user namespaces are enabled; run as root, the jail still maps to nobody.
//
// Wiring:
//
//	res, err := jail.Run(ctx, jail.Config{
//		Args:   []string{"/usr/bin/python3", "/work/solution.py"},
//		Mounts: []jail.Mount{{Kind: jail.ReadOnlyBind, Source: "./solution", Dest: "/work"}},
//		Stdin:  in, Stdout: out, Stderr: errw,
//		Limits: jail.Limits{CPUTime: 2 * time.Second, MemoryBytes: 256 << 20},
//	})
//	// err: the jail could not be set up. res.Status: OK, RE, SG, TO, ML.
//
// Check reports what the host allows (airlock check prints it).
//
// # Security
//
// Inside: the caller's uid (nobody for root) with no capabilities and
// no_new_privs; only /usr, /bin, /sbin, /lib*, /etc/ssl, /etc/ld.so.cache,
// the program's directory, Config.Mounts, a 64 MiB /tmp, its own /proc and
// five device nodes; a seccomp deny list (Docker's default plus io_uring,
// keyctl, bpf, userfaultfd, perf_event_open, ptrace, process_vm_*, mount
// calls, unshare/setns/namespace clones, kexec, modules, TIOCSTI/TIOCLINUX,
// socket families other than unix/inet/inet6/netlink); Landlock (writes only
// to writable mounts, opens only inside the tree, TCP connect only to the
// proxy port, no abstract sockets or signals across the boundary); an empty
// network namespace, or with NetProxy a single listener served by the
// egress proxy outside. The program is pid 1: everything it starts dies
// with it, and the jail dies if the parent does.
//
// # Limits
//
// RLIMIT_CPU (whole seconds, per process), a wall clock, memory through a
// delegated cgroup (v2, or v1 as root) or else RLIMIT_DATA per process,
// processes through the pids cgroup and RLIMIT_NPROC (counted per jail),
// open files, file size, no core dumps. Without a cgroup, memory is per
// process and an out-of-memory death cannot be told from a crash (no ML).
//
// # Notes
//
// Linux on amd64 only (elsewhere Run returns ErrUnsupported). The kernel is
// shared: a kernel exploit through an allowed system call escapes. The
// child is set up without re-executing airlock (see fork_unsafe.go and
// RATIONALE.md); set AIRLOCK_JAIL_TRACE=1 to print the set-up's phases and
// slowest steps on stderr.
package jail
