//go:build linux

// Command attack tries one escape or abuse from inside a jail and reports
// whether the jail stopped it. It is built by the jail tests.
//
// Output: one line "BLOCKED <detail>" (exit 0) or "ESCAPED <detail>"
// (exit 1). Attacks that must be stopped by a limit (fork bomb, memory,
// CPU, disk) run until the jail stops them.
package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

func blocked(format string, a ...any) {
	fmt.Printf("BLOCKED "+format+"\n", a...)
	os.Exit(0)
}

func escaped(format string, a ...any) {
	fmt.Printf("ESCAPED "+format+"\n", a...)
	os.Exit(1)
}

// want reports BLOCKED when err is one of the errnos, ESCAPED otherwise.
func want(what string, err error, errnos ...syscall.Errno) {
	for _, e := range errnos {
		if err == e {
			blocked("%s: %v", what, err)
		}
	}
	escaped("%s: got %v", what, err)
}

func main() {
	args := os.Args[1:]
	if len(args) == 0 {
		os.Exit(2)
	}
	arg := func(i int) string {
		if i < len(args) {
			return args[i]
		}
		return ""
	}
	switch args[0] {
	case "read": // read a host file
		b, err := os.ReadFile(arg(1))
		if err != nil {
			blocked("read %s: %v", arg(1), err)
		}
		escaped("read %s: %d bytes", arg(1), len(b))
	case "write": // create a file
		err := os.WriteFile(arg(1), []byte("x"), 0o644)
		if err != nil {
			blocked("write %s: %v", arg(1), err)
		}
		escaped("wrote %s", arg(1))
	case "procs": // count the processes visible in /proc
		es, _ := os.ReadDir("/proc")
		n := 0
		for _, e := range es {
			if _, err := strconv.Atoi(e.Name()); err == nil {
				n++
			}
		}
		if n > 3 {
			escaped("%d processes visible", n)
		}
		blocked("%d processes visible", n)
	case "proc-root": // reach the host through /proc/*/root and /proc/*/exe
		es, _ := os.ReadDir("/proc")
		for _, e := range es {
			if _, err := strconv.Atoi(e.Name()); err != nil {
				continue
			}
			for _, p := range []string{"/root/etc/shadow", "/root/etc/hostname", "/root/work", "/cwd/../../etc/shadow"} {
				if _, err := os.Stat("/proc/" + e.Name() + p); err == nil {
					escaped("reached /proc/%s%s", e.Name(), p)
				}
			}
			if f, err := os.OpenFile("/proc/"+e.Name()+"/exe", os.O_WRONLY, 0); err == nil {
				f.Close()
				escaped("opened /proc/%s/exe for writing", e.Name())
			}
		}
		blocked("no host path through /proc")
	case "ptrace": // attach to pid 1 (ourselves here) or the parent
		pid, _ := strconv.Atoi(arg(1))
		_, _, e := unix.RawSyscall6(unix.SYS_PTRACE, unix.PTRACE_ATTACH, uintptr(pid), 0, 0, 0, 0)
		want("ptrace attach", e, unix.EPERM)
	case "traceme":
		_, _, e := unix.RawSyscall6(unix.SYS_PTRACE, unix.PTRACE_TRACEME, 0, 0, 0, 0, 0)
		want("ptrace traceme", e, unix.EPERM)
	case "mount":
		want("mount tmpfs", unix.Mount("tmpfs", "/tmp", "tmpfs", 0, ""), unix.EPERM)
	case "umount":
		want("umount /proc", unix.Unmount("/proc", unix.MNT_DETACH), unix.EPERM)
	case "userns":
		want("unshare(CLONE_NEWUSER)", unix.Unshare(unix.CLONE_NEWUSER), unix.EPERM)
	case "clone-userns":
		_, _, e := unix.RawSyscall6(unix.SYS_CLONE, unix.CLONE_NEWUSER|uintptr(unix.SIGCHLD), 0, 0, 0, 0, 0)
		want("clone(CLONE_NEWUSER)", e, unix.EPERM)
	case "clone3":
		var a [11]uint64
		a[0] = unix.CLONE_NEWUSER
		a[4] = uint64(unix.SIGCHLD)
		_, _, e := unix.RawSyscall(unix.SYS_CLONE3, uintptr(unsafe.Pointer(&a[0])), 88, 0)
		want("clone3(CLONE_NEWUSER)", e, unix.ENOSYS, unix.EPERM)
	case "setns":
		fd, err := unix.Open("/proc/self/ns/net", unix.O_RDONLY, 0)
		if err != nil {
			blocked("open ns: %v", err)
		}
		want("setns", unix.Setns(fd, 0), unix.EPERM)
	case "keyctl":
		_, _, e := unix.RawSyscall6(unix.SYS_KEYCTL, unix.KEYCTL_GET_KEYRING_ID, uintptr(0xfffffffd), 0, 0, 0, 0)
		if e != unix.EPERM {
			escaped("keyctl: %v", e)
		}
		_, err := unix.AddKey("user", "airlock", []byte("x"), unix.KEY_SPEC_PROCESS_KEYRING)
		want("add_key", err, unix.EPERM)
	case "io_uring":
		var params [120]byte
		_, _, e := unix.RawSyscall(unix.SYS_IO_URING_SETUP, 8, uintptr(unsafe.Pointer(&params[0])), 0)
		want("io_uring_setup", e, unix.EPERM)
	case "bpf":
		_, _, e := unix.RawSyscall(unix.SYS_BPF, 0, 0, 0)
		want("bpf", e, unix.EPERM)
	case "userfaultfd":
		_, _, e := unix.RawSyscall(unix.SYS_USERFAULTFD, 0, 0, 0)
		want("userfaultfd", e, unix.EPERM)
	case "perf":
		_, _, e := unix.RawSyscall6(unix.SYS_PERF_EVENT_OPEN, 0, 0, ^uintptr(0), ^uintptr(0), 0, 0)
		want("perf_event_open", e, unix.EPERM)
	case "process_vm":
		_, _, e := unix.RawSyscall6(unix.SYS_PROCESS_VM_READV, 1, 0, 0, 0, 0, 0)
		want("process_vm_readv", e, unix.EPERM)
	case "tiocsti":
		c := byte('x')
		for _, fd := range []int{0, 1, 2} {
			_, _, e := unix.RawSyscall(unix.SYS_IOCTL, uintptr(fd), unix.TIOCSTI, uintptr(unsafe.Pointer(&c)))
			if e != unix.EPERM {
				escaped("TIOCSTI on fd %d: %v", fd, e)
			}
		}
		// The high bits of the request must not matter.
		_, _, e := unix.RawSyscall(unix.SYS_IOCTL, 0, 1<<32|unix.TIOCSTI, uintptr(unsafe.Pointer(&c)))
		want("TIOCSTI", e, unix.EPERM)
	case "tioclinux":
		c := byte(0)
		_, _, e := unix.RawSyscall(unix.SYS_IOCTL, 0, unix.TIOCLINUX, uintptr(unsafe.Pointer(&c)))
		want("TIOCLINUX", e, unix.EPERM)
	case "socket":
		fams := map[string]int{"vsock": unix.AF_VSOCK, "packet": unix.AF_PACKET, "alg": unix.AF_ALG, "key": unix.AF_KEY, "bluetooth": unix.AF_BLUETOOTH}
		typ := unix.SOCK_STREAM
		if arg(1) == "packet" || arg(1) == "key" {
			typ = unix.SOCK_RAW
		}
		if arg(1) == "alg" {
			typ = unix.SOCK_SEQPACKET
		}
		fd, err := unix.Socket(fams[arg(1)], typ, 0)
		if err == nil {
			unix.Close(fd)
		}
		want("socket("+arg(1)+")", err, unix.EAFNOSUPPORT)
	case "forkbomb":
		n := 0
		for i := 0; i < 10000; i++ {
			pid, _, e := unix.RawSyscall(unix.SYS_FORK, 0, 0, 0)
			if e != 0 {
				blocked("fork stopped after %d: %v", n, e)
			}
			if pid == 0 {
				for {
					time.Sleep(time.Hour)
				}
			}
			n++
		}
		escaped("forked %d processes", n)
	case "diskfill":
		f, err := os.Create(arg(1))
		if err != nil {
			escaped("create: %v", err)
		}
		buf := make([]byte, 1<<16)
		var total int64
		for total < 1<<30 {
			n, err := f.Write(buf)
			total += int64(n)
			if err != nil {
				fmt.Printf("BLOCKED wrote %d bytes: %v\n", total, err)
				os.Exit(0)
			}
		}
		escaped("wrote %d bytes", total)
	case "membomb":
		var keep [][]byte
		for i := 0; ; i++ {
			b := make([]byte, 16<<20)
			for j := 0; j < len(b); j += 4096 {
				b[j] = 1
			}
			keep = append(keep, b)
			if i > 1000 {
				escaped("allocated %d MiB", len(keep)*16)
			}
		}
	case "cpuloop":
		x := 0
		for {
			x++
		}
	case "sleep":
		time.Sleep(time.Hour)
	case "fds":
		es, err := os.ReadDir("/proc/self/fd")
		if err != nil {
			escaped("readdir: %v", err)
		}
		var extra []string
		for _, e := range es {
			fd, _ := strconv.Atoi(e.Name())
			if fd > 2 {
				t, _ := os.Readlink("/proc/self/fd/" + e.Name())
				if !strings.HasPrefix(t, "/proc/") && t != "" {
					extra = append(extra, e.Name()+"->"+t)
				}
			}
		}
		if len(extra) > 0 {
			escaped("inherited %v", extra)
		}
		blocked("only stdio")
	case "env":
		env := os.Environ()
		for _, kv := range env {
			if !strings.HasPrefix(kv, "ALLOWED=") {
				escaped("environment has %q", kv)
			}
		}
		blocked("environment %v", env)
	case "connect": // TCP connect to host:port
		c, err := net.DialTimeout("tcp", arg(1), 2*time.Second)
		if err != nil {
			blocked("connect %s: %v", arg(1), err)
		}
		c.Close()
		escaped("connected to %s", arg(1))
	case "proxyget": // GET a URL through $HTTP_PROXY; prints "STATUS BODY"
		pu, err := url.Parse(os.Getenv("HTTP_PROXY"))
		if err != nil || pu.Host == "" {
			escaped("no HTTP_PROXY: %v", err)
		}
		c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{Proxy: http.ProxyURL(pu)}}
		resp, err := c.Get(arg(1))
		if err != nil {
			fmt.Printf("ERROR %v\n", err)
			os.Exit(0)
		}
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
		resp.Body.Close()
		fmt.Printf("%d %s\n", resp.StatusCode, strings.TrimSpace(string(b)))
		os.Exit(0)
	case "abstract": // connect to a host abstract unix socket
		c, err := net.Dial("unix", "@"+arg(1))
		if err != nil {
			blocked("connect @%s: %v", arg(1), err)
		}
		c.Close()
		escaped("connected to @%s", arg(1))
	case "kill": // signal a host pid
		pid, _ := strconv.Atoi(arg(1))
		err := unix.Kill(pid, unix.SIGKILL)
		if err != nil {
			blocked("kill %d: %v", pid, err)
		}
		// pid may exist inside the jail's own pid namespace; then it was a
		// jail process, which is allowed, but host pids are never this small.
		escaped("kill %d succeeded", pid)
	case "killall":
		_ = unix.Kill(-1, unix.SIGKILL)
		blocked("kill(-1) only reaches the jail")
	case "caps":
		s, _ := os.ReadFile("/proc/self/status")
		for _, l := range strings.Split(string(s), "\n") {
			if strings.HasPrefix(l, "Cap") && !strings.HasSuffix(l, "0000000000000000") {
				escaped("capability left: %s", l)
			}
			if strings.HasPrefix(l, "NoNewPrivs:") && !strings.HasSuffix(l, "1") {
				escaped("%s", l)
			}
			if strings.HasPrefix(l, "Seccomp:") && !strings.HasSuffix(l, "2") {
				escaped("%s", l)
			}
		}
		blocked("no capabilities, no_new_privs, seccomp filter")
	case "uid":
		fmt.Printf("BLOCKED uid=%d gid=%d\n", os.Getuid(), os.Getgid())
	case "chroot-escape":
		// Classic chroot escape: needs CAP_SYS_CHROOT.
		if err := unix.Chroot("/tmp"); err != nil {
			blocked("chroot: %v", err)
		}
		escaped("chroot succeeded")
	default:
		os.Exit(2)
	}
}
