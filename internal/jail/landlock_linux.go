//go:build linux && amd64

package jail

import (
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// rulesetAttr is struct landlock_ruleset_attr up to ABI 6.
type rulesetAttr struct {
	fs, net, scoped uint64
}

// pathBeneathAttr is the packed struct landlock_path_beneath_attr; the
// kernel reads its first 12 bytes.
type pathBeneathAttr struct {
	allowed uint64
	fd      int32
	_       int32
}

// netPortAttr is struct landlock_net_port_attr.
type netPortAttr struct {
	allowed uint64
	port    uint64
}

var landlockABIOnce = sync.OnceValue(func() int {
	v, _, e := unix.Syscall(unix.SYS_LANDLOCK_CREATE_RULESET, 0, 0, unix.LANDLOCK_CREATE_RULESET_VERSION)
	if e != 0 {
		return 0
	}
	return int(v)
})

// LandlockABI returns the host's Landlock ABI version, 0 when Landlock is
// unavailable.
func LandlockABI() int { return landlockABIOnce() }

// Access-right sets.
const (
	llRead = unix.LANDLOCK_ACCESS_FS_EXECUTE | unix.LANDLOCK_ACCESS_FS_READ_FILE | unix.LANDLOCK_ACCESS_FS_READ_DIR
	llABI1 = 0x1fff // EXECUTE .. MAKE_SYM
)

// landlockFS returns the file-system rights handled at abi.
func landlockFS(abi int) uint64 {
	fs := uint64(llABI1)
	if abi >= 2 {
		fs |= unix.LANDLOCK_ACCESS_FS_REFER
	}
	if abi >= 3 {
		fs |= unix.LANDLOCK_ACCESS_FS_TRUNCATE
	}
	if abi >= 5 {
		fs |= unix.LANDLOCK_ACCESS_FS_IOCTL_DEV
	}
	return fs
}

// landlockRule is one path rule, evaluated inside the jail after
// pivot_root.
type landlockRule struct {
	path    string
	allowed uint64
}

// addLandlock appends the ops that confine the child with Landlock: the
// file system to the jail's own tree (read and execute everywhere, write
// only below writable mounts and the device nodes), TCP connect to the
// proxy port only (unless the host network is shared), and, from ABI 6,
// no abstract unix sockets or signals across the jail boundary.
func (p *childProgram) addLandlock(abi int, rules []landlockRule, net NetMode) {
	handled := landlockFS(abi)
	attr := &rulesetAttr{fs: handled}
	size := uintptr(8)
	if abi >= 4 {
		size = 16
		if net != NetUnsafeHost {
			attr.net = unix.LANDLOCK_ACCESS_NET_CONNECT_TCP
		}
	}
	if abi >= 6 {
		size = 24
		attr.scoped = unix.LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | unix.LANDLOCK_SCOPE_SIGNAL
	}
	rs := p.add(op{nr: unix.SYS_LANDLOCK_CREATE_RULESET, args: [6]uintptr{p.ptr(unsafe.Pointer(attr), attr), size, 0}, what: "landlock_create_ruleset"})
	for _, r := range rules {
		fd := p.add(op{nr: unix.SYS_OPENAT, args: [6]uintptr{atFDCWD, p.cstr(r.path), unix.O_PATH | unix.O_CLOEXEC}, what: "open " + r.path + " for landlock"})
		pb := &pathBeneathAttr{allowed: r.allowed & handled}
		p.ops[fd-1].store = &pb.fd
		p.add(op{nr: unix.SYS_LANDLOCK_ADD_RULE, args: [6]uintptr{0, unix.LANDLOCK_RULE_PATH_BENEATH, p.ptr(unsafe.Pointer(pb), pb), 0}, ref: [6]int16{rs}, what: "landlock rule " + r.path})
		p.add(op{nr: unix.SYS_CLOSE, ref: [6]int16{fd}, what: "close"})
	}
	if net == NetProxy && abi >= 4 {
		np := &netPortAttr{allowed: unix.LANDLOCK_ACCESS_NET_CONNECT_TCP, port: ProxyPort}
		p.add(op{nr: unix.SYS_LANDLOCK_ADD_RULE, args: [6]uintptr{0, 2 /* LANDLOCK_RULE_NET_PORT */, p.ptr(unsafe.Pointer(np), np), 0}, ref: [6]int16{rs}, what: "landlock proxy port rule"})
	}
	p.add(op{nr: unix.SYS_LANDLOCK_RESTRICT_SELF, args: [6]uintptr{0, 0}, ref: [6]int16{rs}, what: "landlock_restrict_self"})
	p.add(op{nr: unix.SYS_CLOSE, ref: [6]int16{rs}, what: "close"})
}
