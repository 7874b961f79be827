//go:build linux && amd64

package jail

import (
	"encoding/binary"
	"testing"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// TestSeccompFilterDecisions runs the filter in a BPF interpreter over
// crafted seccomp_data, so every rule is checked without a kernel.
func TestSeccompFilterDecisions(t *testing.T) {
	var prog []bpf.RawInstruction
	for _, f := range buildSeccomp() {
		prog = append(prog, bpf.RawInstruction{Op: f.Code, Jt: f.Jt, Jf: f.Jf, K: f.K})
	}
	insns, ok := bpf.Disassemble(prog)
	if !ok {
		t.Fatal("filter does not disassemble")
	}
	vm, err := bpf.NewVM(insns)
	if err != nil {
		t.Fatal(err)
	}
	// The kernel loads seccomp_data words in host order (little-endian
	// here, low half of each 64-bit argument first); x/net/bpf loads
	// network order, so each 32-bit word is written big-endian.
	eval := func(arch uint32, nr uint32, args ...uint64) uint32 {
		d := make([]byte, 64)
		binary.BigEndian.PutUint32(d[0:], nr)
		binary.BigEndian.PutUint32(d[4:], arch)
		for i, a := range args {
			binary.BigEndian.PutUint32(d[16+8*i:], uint32(a))
			binary.BigEndian.PutUint32(d[20+8*i:], uint32(a>>32))
		}
		v, err := vm.Run(d)
		if err != nil {
			t.Fatal(err)
		}
		return uint32(v)
	}
	x := uint32(unix.AUDIT_ARCH_X86_64)
	for _, tc := range []struct {
		name string
		arch uint32
		nr   uint32
		args []uint64
		want uint32
	}{
		{"read allowed", x, unix.SYS_READ, nil, retAllow},
		{"execve allowed", x, unix.SYS_EXECVE, nil, retAllow},
		{"landlock allowed (programs may restrict themselves)", x, unix.SYS_LANDLOCK_RESTRICT_SELF, nil, retAllow},
		{"ptrace", x, unix.SYS_PTRACE, nil, retEPERM},
		{"keyctl", x, unix.SYS_KEYCTL, nil, retEPERM},
		{"io_uring_setup", x, unix.SYS_IO_URING_SETUP, nil, retEPERM},
		{"bpf", x, unix.SYS_BPF, nil, retEPERM},
		{"mount", x, unix.SYS_MOUNT, nil, retEPERM},
		{"open_tree", x, unix.SYS_OPEN_TREE, nil, retEPERM},
		{"unshare", x, unix.SYS_UNSHARE, nil, retEPERM},
		{"setns", x, unix.SYS_SETNS, nil, retEPERM},
		{"kexec_load", x, unix.SYS_KEXEC_LOAD, nil, retEPERM},
		{"finit_module", x, unix.SYS_FINIT_MODULE, nil, retEPERM},
		{"userfaultfd", x, unix.SYS_USERFAULTFD, nil, retEPERM},
		{"perf_event_open", x, unix.SYS_PERF_EVENT_OPEN, nil, retEPERM},
		{"process_vm_writev", x, unix.SYS_PROCESS_VM_WRITEV, nil, retEPERM},
		{"clone thread allowed", x, unix.SYS_CLONE, []uint64{unix.CLONE_VM | unix.CLONE_THREAD}, retAllow},
		{"clone new user namespace", x, unix.SYS_CLONE, []uint64{unix.CLONE_NEWUSER}, retEPERM},
		{"clone new net namespace", x, unix.SYS_CLONE, []uint64{unix.CLONE_NEWNET}, retEPERM},
		{"clone3 falls back", x, unix.SYS_CLONE3, nil, retNoSys},
		{"ioctl TCGETS allowed", x, unix.SYS_IOCTL, []uint64{0, unix.TCGETS}, retAllow},
		{"ioctl TIOCSTI", x, unix.SYS_IOCTL, []uint64{0, unix.TIOCSTI}, retEPERM},
		{"ioctl TIOCSTI high bits", x, unix.SYS_IOCTL, []uint64{0, 1<<32 | unix.TIOCSTI}, retEPERM},
		{"ioctl TIOCLINUX", x, unix.SYS_IOCTL, []uint64{0, unix.TIOCLINUX}, retEPERM},
		{"socket inet6", x, unix.SYS_SOCKET, []uint64{unix.AF_INET6}, retAllow},
		{"socket unix", x, unix.SYS_SOCKET, []uint64{unix.AF_UNIX}, retAllow},
		{"socket vsock", x, unix.SYS_SOCKET, []uint64{unix.AF_VSOCK}, retNoAF},
		{"socket packet", x, unix.SYS_SOCKET, []uint64{unix.AF_PACKET}, retNoAF},
		{"socket alg", x, unix.SYS_SOCKET, []uint64{unix.AF_ALG}, retNoAF},
		{"socketpair vsock", x, unix.SYS_SOCKETPAIR, []uint64{unix.AF_VSOCK}, retNoAF},
		{"personality query", x, unix.SYS_PERSONALITY, []uint64{0xffffffff}, retAllow},
		{"personality READ_IMPLIES_EXEC", x, unix.SYS_PERSONALITY, []uint64{0x0400000}, retEPERM},
		{"x32 system call", x, unix.SYS_READ | x32SyscallBit, nil, retEPERM},
		{"i386 int 0x80", unix.AUDIT_ARCH_I386, 1, nil, retKill},
		{"highest number allowed", x, 1023, nil, retAllow},
	} {
		if got := eval(tc.arch, tc.nr, tc.args...); got != tc.want {
			t.Errorf("%s: got %#x, want %#x", tc.name, got, tc.want)
		}
	}
	// Every listed denial is denied.
	for _, nr := range deniedSyscalls {
		if got := eval(x, uint32(nr)); got != retEPERM {
			t.Errorf("syscall %d: got %#x", nr, got)
		}
	}
	t.Logf("filter: %d instructions", len(prog))
}
