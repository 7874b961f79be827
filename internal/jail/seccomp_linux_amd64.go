package jail

import "golang.org/x/sys/unix"

// auditArch is the only system call ABI the filter allows; 32-bit
// (int 0x80) calls, whose numbers differ, kill the process.
const auditArch = unix.AUDIT_ARCH_X86_64

// deniedSyscalls fail with EPERM. It is Docker's default profile's deny
// list (every call absent from its allow list on amd64) plus the calls the
// jail must never allow: io_uring, userfaultfd, keyctl, bpf,
// perf_event_open, ptrace and process_vm_*, every mount-API call, unshare
// and setns, kexec and module loading. clone and clone3, ioctl, socket and
// personality are filtered on their arguments (see buildSeccomp).
var deniedSyscalls = []uintptr{
	// Docker default profile denials.
	unix.SYS_ACCT, unix.SYS_ADD_KEY, unix.SYS_BPF, unix.SYS_CLOCK_ADJTIME,
	unix.SYS_CLOCK_SETTIME, unix.SYS_CREATE_MODULE, unix.SYS_DELETE_MODULE,
	unix.SYS_FINIT_MODULE, unix.SYS_GET_KERNEL_SYMS, unix.SYS_GET_MEMPOLICY,
	unix.SYS_INIT_MODULE, unix.SYS_IOPERM, unix.SYS_IOPL, unix.SYS_KCMP,
	unix.SYS_KEXEC_FILE_LOAD, unix.SYS_KEXEC_LOAD, unix.SYS_KEYCTL,
	unix.SYS_LOOKUP_DCOOKIE, unix.SYS_MBIND, unix.SYS_MOUNT, unix.SYS_MOVE_PAGES,
	unix.SYS_NAME_TO_HANDLE_AT, unix.SYS_NFSSERVCTL, unix.SYS_OPEN_BY_HANDLE_AT,
	unix.SYS_PERF_EVENT_OPEN, unix.SYS_PIVOT_ROOT, unix.SYS_PROCESS_VM_READV,
	unix.SYS_PROCESS_VM_WRITEV, unix.SYS_PTRACE, unix.SYS_QUERY_MODULE,
	unix.SYS_QUOTACTL, unix.SYS_REBOOT, unix.SYS_REQUEST_KEY,
	unix.SYS_SET_MEMPOLICY, unix.SYS_SETNS, unix.SYS_SETTIMEOFDAY,
	unix.SYS_SWAPON, unix.SYS_SWAPOFF, unix.SYS_SYSFS, unix.SYS__SYSCTL,
	unix.SYS_UMOUNT2, unix.SYS_UNSHARE, unix.SYS_USELIB, unix.SYS_USERFAULTFD,
	unix.SYS_USTAT, unix.SYS_AFS_SYSCALL, unix.SYS_SYSLOG, unix.SYS_VHANGUP,
	unix.SYS_TUXCALL, unix.SYS_SECURITY, unix.SYS_GETPMSG, unix.SYS_PUTPMSG,
	unix.SYS_EPOLL_CTL_OLD, unix.SYS_EPOLL_WAIT_OLD, unix.SYS_MODIFY_LDT,
	unix.SYS_FANOTIFY_INIT, unix.SYS_QUOTACTL_FD,
	// The new mount API.
	unix.SYS_OPEN_TREE, unix.SYS_MOVE_MOUNT, unix.SYS_FSOPEN, unix.SYS_FSCONFIG,
	unix.SYS_FSMOUNT, unix.SYS_FSPICK, unix.SYS_MOUNT_SETATTR, 467, /* open_tree_attr */
	// io_uring bypasses the filter for the operations it performs.
	unix.SYS_IO_URING_SETUP, unix.SYS_IO_URING_ENTER, unix.SYS_IO_URING_REGISTER,
	// Taking another process's descriptors is ptrace-like.
	unix.SYS_PIDFD_GETFD,
}

// Argument-filtered system calls.
const (
	sysIoctl       = unix.SYS_IOCTL
	sysSocket      = unix.SYS_SOCKET
	sysSocketpair  = unix.SYS_SOCKETPAIR
	sysClone       = unix.SYS_CLONE
	sysClone3      = unix.SYS_CLONE3
	sysPersonality = unix.SYS_PERSONALITY
	// x32 system calls have this bit set; they are refused.
	x32SyscallBit = 0x40000000
)
