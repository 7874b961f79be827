//go:build linux && amd64

package jail

import (
	"golang.org/x/sys/unix"
)

// seccomp_data offsets (linux/seccomp.h), little-endian.
const (
	offNr   = 0
	offArch = 4
	offArg0 = 16
	offArg1 = 24
)

// BPF opcodes used below.
const (
	bpfLdAbsW = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
	bpfJeqK   = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
	bpfJgeK   = unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K
	bpfJsetK  = unix.BPF_JMP | unix.BPF_JSET | unix.BPF_K
	bpfRetK   = unix.BPF_RET | unix.BPF_K
)

const (
	retAllow = unix.SECCOMP_RET_ALLOW
	retKill  = unix.SECCOMP_RET_KILL_PROCESS
	retEPERM = unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)
	retNoSys = unix.SECCOMP_RET_ERRNO | uint32(unix.ENOSYS)
	retNoAF  = unix.SECCOMP_RET_ERRNO | uint32(unix.EAFNOSUPPORT)
)

// Terminal-injection ioctls: TIOCSTI pushes input into a terminal the
// jail shares with a host shell; TIOCLINUX can do the same on a console.
var deniedIoctls = []uint32{unix.TIOCSTI, unix.TIOCLINUX}

// allowedFamilies are the only socket families a jailed program may open.
// Everything else (AF_VSOCK, AF_PACKET, AF_ALG, AF_KEY, AF_BLUETOOTH, ...)
// fails with EAFNOSUPPORT.
var allowedFamilies = []uint32{unix.AF_UNIX, unix.AF_INET, unix.AF_INET6, unix.AF_NETLINK}

// nsCloneFlags are the clone flags that create namespaces.
const nsCloneFlags = unix.CLONE_NEWNS | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC |
	unix.CLONE_NEWUSER | unix.CLONE_NEWPID | unix.CLONE_NEWNET | unix.CLONE_NEWCGROUP |
	unix.CLONE_NEWTIME

// allowedPersonalities are the personality(2) values Docker allows.
var allowedPersonalities = []uint32{0, 8, 0x20000, 0x20008, 0xffffffff}

// buildSeccomp returns the jail's seccomp filter: a deny list with
// argument checks, in classic BPF.
func buildSeccomp() []unix.SockFilter {
	var p []unix.SockFilter
	stmt := func(code uint16, k uint32) { p = append(p, unix.SockFilter{Code: code, K: k}) }
	jump := func(code uint16, k uint32, jt, jf uint8) {
		p = append(p, unix.SockFilter{Code: code, K: k, Jt: jt, Jf: jf})
	}
	// Wrong ABI: kill.
	stmt(bpfLdAbsW, offArch)
	jump(bpfJeqK, auditArch, 1, 0)
	stmt(bpfRetK, retKill)
	stmt(bpfLdAbsW, offNr)
	jump(bpfJgeK, x32SyscallBit, 0, 1)
	stmt(bpfRetK, retEPERM)
	for _, nr := range deniedSyscalls {
		jump(bpfJeqK, uint32(nr), 0, 1)
		stmt(bpfRetK, retEPERM)
	}
	// clone3 passes its flags in memory the filter cannot read: ENOSYS
	// makes libc fall back to clone, whose flags are checked.
	jump(bpfJeqK, sysClone3, 0, 1)
	stmt(bpfRetK, retNoSys)

	// clone: no new namespaces.
	jump(bpfJeqK, sysClone, 0, 4)
	stmt(bpfLdAbsW, offArg0)
	jump(bpfJsetK, nsCloneFlags, 0, 1)
	stmt(bpfRetK, retEPERM)
	stmt(bpfRetK, retAllow)

	// ioctl: no terminal injection. Only the low 32 bits of the request
	// matter to the kernel.
	n := len(deniedIoctls)
	jump(bpfJeqK, sysIoctl, 0, uint8(2*n+2))
	stmt(bpfLdAbsW, offArg1)
	for _, req := range deniedIoctls {
		jump(bpfJeqK, req, 0, 1)
		stmt(bpfRetK, retEPERM)
	}
	stmt(bpfRetK, retAllow)

	// socket and socketpair: allowed families only.
	n = len(allowedFamilies)
	for _, nr := range []uint32{sysSocket, sysSocketpair} {
		jump(bpfJeqK, nr, 0, uint8(n+3))
		stmt(bpfLdAbsW, offArg0)
		for i, af := range allowedFamilies {
			jump(bpfJeqK, af, uint8(n-i), 0)
		}
		stmt(bpfRetK, retNoAF)
		stmt(bpfRetK, retAllow)
	}

	// personality: the values Docker allows.
	n = len(allowedPersonalities)
	jump(bpfJeqK, sysPersonality, 0, uint8(n+3))
	stmt(bpfLdAbsW, offArg0)
	for i, v := range allowedPersonalities {
		jump(bpfJeqK, v, uint8(n-i), 0)
	}
	stmt(bpfRetK, retEPERM)
	stmt(bpfRetK, retAllow)

	stmt(bpfRetK, retAllow)
	return p
}
