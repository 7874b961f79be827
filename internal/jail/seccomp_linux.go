//go:build linux && amd64

package jail

import (
	"slices"

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
// argument checks, in classic BPF. After the ABI checks, the system call
// number is found by binary search (JGE over the sorted numbers), so the
// filter runs a dozen instructions per call instead of a hundred and the
// kernel builds its per-syscall cache quickly when the filter is attached.
func buildSeccomp() []unix.SockFilter {
	var p []unix.SockFilter
	stmt := func(code uint16, k uint32) { p = append(p, unix.SockFilter{Code: code, K: k}) }
	jump := func(code uint16, k uint32, jt, jf uint8) {
		p = append(p, unix.SockFilter{Code: code, K: k, Jt: jt, Jf: jf})
	}
	// Wrong ABI: kill. x32 numbers: EPERM.
	stmt(bpfLdAbsW, offArch)
	jump(bpfJeqK, auditArch, 1, 0)
	stmt(bpfRetK, retKill)
	stmt(bpfLdAbsW, offNr)
	jump(bpfJgeK, x32SyscallBit, 0, 1)
	stmt(bpfRetK, retEPERM)

	rules := map[uint32][]unix.SockFilter{}
	for _, nr := range deniedSyscalls {
		rules[uint32(nr)] = []unix.SockFilter{{Code: bpfRetK, K: retEPERM}}
	}
	// clone3 passes its flags in memory the filter cannot read: ENOSYS
	// makes libc fall back to clone, whose flags are checked.
	rules[sysClone3] = []unix.SockFilter{{Code: bpfRetK, K: retNoSys}}
	// clone: no new namespaces.
	rules[sysClone] = []unix.SockFilter{
		{Code: bpfLdAbsW, K: offArg0},
		{Code: bpfJsetK, K: nsCloneFlags, Jt: 0, Jf: 1},
		{Code: bpfRetK, K: retEPERM},
		{Code: bpfRetK, K: retAllow},
	}
	// ioctl: no terminal injection. Only the low 32 bits of the request
	// matter to the kernel.
	ioctl := []unix.SockFilter{{Code: bpfLdAbsW, K: offArg1}}
	for _, req := range deniedIoctls {
		ioctl = append(ioctl, unix.SockFilter{Code: bpfJeqK, K: req, Jt: 0, Jf: 1}, unix.SockFilter{Code: bpfRetK, K: retEPERM})
	}
	rules[sysIoctl] = append(ioctl, unix.SockFilter{Code: bpfRetK, K: retAllow})
	// socket and socketpair: allowed families only; personality: the
	// values Docker allows.
	oneOf := func(vals []uint32, deny uint32) []unix.SockFilter {
		n := len(vals)
		out := []unix.SockFilter{{Code: bpfLdAbsW, K: offArg0}}
		for i, v := range vals {
			out = append(out, unix.SockFilter{Code: bpfJeqK, K: v, Jt: uint8(n - i), Jf: 0})
		}
		return append(out, unix.SockFilter{Code: bpfRetK, K: deny}, unix.SockFilter{Code: bpfRetK, K: retAllow})
	}
	rules[sysSocket] = oneOf(allowedFamilies, retNoAF)
	rules[sysSocketpair] = oneOf(allowedFamilies, retNoAF)
	rules[sysPersonality] = oneOf(allowedPersonalities, retEPERM)

	nrs := make([]uint32, 0, len(rules))
	for nr := range rules {
		nrs = append(nrs, nr)
	}
	slices.Sort(nrs)
	return append(p, searchTree(nrs, rules)...)
}

// searchTree returns code that, with the system call number in A, runs
// the rule of that number or allows the call. Every rule ends in a return,
// so subtrees are self-contained and jumps stay short.
func searchTree(nrs []uint32, rules map[uint32][]unix.SockFilter) []unix.SockFilter {
	if len(nrs) <= 3 {
		var out []unix.SockFilter
		for _, nr := range nrs {
			r := rules[nr]
			out = append(out, unix.SockFilter{Code: bpfJeqK, K: nr, Jt: 0, Jf: uint8(len(r))})
			out = append(out, r...)
		}
		return append(out, unix.SockFilter{Code: bpfRetK, K: retAllow})
	}
	mid := len(nrs) / 2
	left := searchTree(nrs[:mid], rules)
	right := searchTree(nrs[mid:], rules)
	if len(left) > 255 {
		panic("jail: seccomp subtree too large for a BPF jump")
	}
	out := []unix.SockFilter{{Code: bpfJgeK, K: nrs[mid], Jt: uint8(len(left)), Jf: 0}}
	out = append(out, left...)
	return append(out, right...)
}
