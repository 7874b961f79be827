package jail

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path"
	"strconv"
	"strings"
	"time"
)

// MountKind says how a Mount is made.
type MountKind int

// Mount kinds.
const (
	// ReadOnlyBind binds a host path read-only (recursively).
	ReadOnlyBind MountKind = iota
	// Bind binds a host path writable. Use only for paths the program may
	// modify.
	Bind
	// Tmpfs mounts a fresh, size-capped tmpfs.
	Tmpfs
)

// Mount is one entry of the jail's file system.
type Mount struct {
	Kind MountKind
	// Source is the host path (binds only). Symlinks in it are resolved on
	// the host when the jail starts; the resolved path is then opened
	// inside the jail's mount namespace with RESOLVE_NO_SYMLINKS, so a
	// symlink swapped in meanwhile fails the run instead of redirecting it.
	Source string
	// Dest is the absolute path inside the jail. Zero value: Source.
	Dest string
	// SizeBytes caps a Tmpfs. Zero value: DefaultTmpfsBytes.
	SizeBytes int64
}

// DefaultTmpfsBytes is the size of a Tmpfs mount whose SizeBytes is zero.
const DefaultTmpfsBytes = 64 << 20

// ParseMountSpec parses the CLI forms SRC[:DST] (binds) and DST[:size=N]
// (tmpfs; N in bytes or with a K, M or G suffix).
func ParseMountSpec(kind MountKind, spec string) (Mount, error) {
	m := Mount{Kind: kind}
	if kind == Tmpfs {
		dst, opt, _ := strings.Cut(spec, ":")
		m.Dest = dst
		if opt != "" {
			v, ok := strings.CutPrefix(opt, "size=")
			if !ok {
				return m, fmt.Errorf("tmpfs %q: unknown option %q (want size=N)", spec, opt)
			}
			n, err := ParseSize(v)
			if err != nil {
				return m, fmt.Errorf("tmpfs %q: %w", spec, err)
			}
			m.SizeBytes = n
		}
	} else {
		m.Source, m.Dest, _ = strings.Cut(spec, ":")
	}
	return m, m.validate()
}

// ParseSize parses a byte count with an optional K, M or G suffix
// (binary multiples).
func ParseSize(s string) (int64, error) {
	mult := int64(1)
	switch {
	case strings.HasSuffix(s, "K"), strings.HasSuffix(s, "k"):
		mult = 1 << 10
	case strings.HasSuffix(s, "M"), strings.HasSuffix(s, "m"):
		mult = 1 << 20
	case strings.HasSuffix(s, "G"), strings.HasSuffix(s, "g"):
		mult = 1 << 30
	}
	if mult != 1 {
		s = s[:len(s)-1]
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 || n > (1<<50)/mult {
		return 0, fmt.Errorf("invalid size %q", s)
	}
	return n * mult, nil
}

func (m *Mount) validate() error {
	if m.Dest == "" {
		m.Dest = m.Source
	}
	if m.Kind != Tmpfs && m.Source == "" {
		return fmt.Errorf("bind mount needs a source")
	}
	if !path.IsAbs(m.Dest) || path.Clean(m.Dest) != m.Dest {
		return fmt.Errorf("mount destination %q must be an absolute, clean path", m.Dest)
	}
	// /proc and /dev are the jail's own; a tmpfs on /dev/shm (POSIX shared
	// memory) is the one exception.
	shm := m.Kind == Tmpfs && m.Dest == "/dev/shm"
	if m.Dest == "/" || m.Dest == "/proc" || strings.HasPrefix(m.Dest, "/proc/") || m.Dest == "/dev" || (strings.HasPrefix(m.Dest, "/dev/") && !shm) {
		return fmt.Errorf("mount destination %q is reserved", m.Dest)
	}
	if m.SizeBytes < 0 {
		return fmt.Errorf("tmpfs size must be positive")
	}
	return nil
}

// NetMode is the network given to the jail.
type NetMode string

// Network modes.
const (
	// NetNone: an empty network namespace with only loopback.
	NetNone NetMode = "none"
	// NetProxy: an empty network namespace whose only way out is an HTTP
	// proxy listening on 127.0.0.1:ProxyPort inside the jail, served by
	// Config.Proxy in the parent. HTTP_PROXY and HTTPS_PROXY point at it.
	NetProxy NetMode = "proxy"
	// NetUnsafeHost shares the host's network namespace. The jail can then
	// reach anything the host can, including cloud metadata endpoints.
	NetUnsafeHost NetMode = "unsafe-host"
)

// ProxyPort is the loopback port of the proxy inside a NetProxy jail.
const ProxyPort = 3128

// ProxyServer serves an HTTP proxy on a listener. *egress.Proxy is one.
type ProxyServer interface {
	Serve(ln net.Listener) error
}

// Limits bound a jailed run. A zero field means the default; no limit is
// ever off.
type Limits struct {
	// CPUTime caps the CPU time of the jail's first process (RLIMIT_CPU,
	// whole seconds, rounded up) and, with a cgroup, of the whole tree.
	// Zero value: 10s.
	CPUTime time.Duration
	// WallTime caps the elapsed time; the whole tree is killed when it
	// passes. Zero value: 30s.
	WallTime time.Duration
	// MemoryBytes caps memory: a cgroup memory limit when the host
	// delegates one, else RLIMIT_AS per process. Zero value: 512 MiB.
	MemoryBytes int64
	// Processes caps the processes (and threads) of the jail: pids cgroup,
	// and RLIMIT_NPROC counted inside the jail's own user namespace.
	// Zero value: 64.
	Processes int
	// OpenFiles caps descriptors per process (RLIMIT_NOFILE). Zero: 256.
	OpenFiles int
	// FileSizeBytes caps the size of a written file (RLIMIT_FSIZE).
	// Zero value: 64 MiB.
	FileSizeBytes int64
	// CPUs caps the CPU bandwidth of the whole jail, in CPUs (1.5 = one
	// and a half cores' worth of time per period), with a cgroup's cpu
	// controller when delegated; without one it is not enforced. Zero
	// value: 1.
	CPUs float64
}

// Defaults of Limits.
const (
	DefaultCPUTime       = 10 * time.Second
	DefaultWallTime      = 30 * time.Second
	DefaultMemoryBytes   = 512 << 20
	DefaultProcesses     = 64
	DefaultOpenFiles     = 256
	DefaultFileSizeBytes = 64 << 20
	DefaultCPUs          = 1
)

// WithDefaults returns l with zero fields replaced by defaults.
func (l Limits) WithDefaults() Limits {
	if l.CPUTime == 0 {
		l.CPUTime = DefaultCPUTime
	}
	if l.WallTime == 0 {
		l.WallTime = DefaultWallTime
	}
	if l.MemoryBytes == 0 {
		l.MemoryBytes = DefaultMemoryBytes
	}
	if l.Processes == 0 {
		l.Processes = DefaultProcesses
	}
	if l.OpenFiles == 0 {
		l.OpenFiles = DefaultOpenFiles
	}
	if l.FileSizeBytes == 0 {
		l.FileSizeBytes = DefaultFileSizeBytes
	}
	if l.CPUs == 0 {
		l.CPUs = DefaultCPUs
	}
	return l
}

// CgroupMode says whether a run uses a cgroup.
type CgroupMode string

// Cgroup modes.
const (
	// CgroupAuto uses a cgroup when the host delegates one, else the
	// rlimit fallback.
	CgroupAuto CgroupMode = ""
	// CgroupOff uses rlimits only.
	CgroupOff CgroupMode = "off"
	// CgroupRequire fails the run when no cgroup is delegated.
	CgroupRequire CgroupMode = "require"
)

// Config describes one jailed run.
type Config struct {
	// Args is the command line; Args[0] is the program, looked up in the
	// host's PATH when it has no slash. Required.
	Args []string
	// Env is the whole environment of the program. Zero value: empty.
	Env []string
	// Dir is the working directory inside the jail. Zero value: "/".
	Dir string
	// Mounts are added after the defaults (read-only /usr, /lib*, /bin,
	// /sbin, /etc/ssl, /etc/ld.so.cache, the program's directory, and a
	// 64 MiB tmpfs on /tmp). A later mount on the same Dest replaces an
	// earlier one.
	Mounts []Mount
	// NoDefaultMounts leaves out the default mounts.
	NoDefaultMounts bool
	// Stdin, Stdout and Stderr become descriptors 0, 1 and 2. Zero value:
	// /dev/null.
	Stdin, Stdout, Stderr *os.File
	// ExtraFiles become descriptors 3, 4, ... inside the jail. No other
	// descriptor of the host process is inherited.
	ExtraFiles []*os.File
	// Limits bound the run.
	Limits Limits
	// Cgroup selects cgroup use. Zero value: CgroupAuto.
	Cgroup CgroupMode
	// Net is the network mode. Zero value: NetNone.
	Net NetMode
	// Proxy serves the proxy of a NetProxy jail. Required with NetProxy.
	Proxy ProxyServer
	// Hostname inside the jail. Zero value: "airlock".
	Hostname string
}

// Status is the outcome class of a run, as in ioi/isolate's meta file.
type Status string

// Statuses.
const (
	StatusOK       Status = "OK" // exited with code 0
	StatusRuntime  Status = "RE" // exited with a non-zero code
	StatusSignal   Status = "SG" // killed by a signal
	StatusTimeout  Status = "TO" // CPU or wall-clock limit
	StatusMemory   Status = "ML" // memory limit (cgroup OOM kill)
	StatusInternal Status = "XX" // the jail itself failed
)

// Result is the outcome of a run (isolate's "meta").
type Result struct {
	Status Status `json:"status"`
	// ExitCode is the exit code when the program exited, else -1.
	ExitCode int `json:"exitcode"`
	// Signal is the number of the signal that killed it, else 0.
	Signal int `json:"signal,omitempty"`
	// CPUTime is user+system time of the jail (cgroup when used, else
	// rusage of the first process and the children it waited for).
	CPUTime time.Duration `json:"-"`
	// WallTime is the time from clone to exit.
	WallTime time.Duration `json:"-"`
	// MaxRSSBytes is the peak memory (cgroup peak when used, else max RSS).
	MaxRSSBytes int64 `json:"max_rss_bytes"`
	// Cgroup is true when the limits were enforced by a cgroup.
	Cgroup bool `json:"cgroup"`
	// Message explains a status other than OK.
	Message string `json:"message,omitempty"`
}

// Meta returns the result in isolate's "key:value" meta-file format.
func (r *Result) Meta() string {
	var b strings.Builder
	fmt.Fprintf(&b, "status:%s\n", r.Status)
	if r.ExitCode >= 0 {
		fmt.Fprintf(&b, "exitcode:%d\n", r.ExitCode)
	}
	if r.Signal != 0 {
		fmt.Fprintf(&b, "exitsig:%d\n", r.Signal)
	}
	fmt.Fprintf(&b, "time:%.3f\n", r.CPUTime.Seconds())
	fmt.Fprintf(&b, "time-wall:%.3f\n", r.WallTime.Seconds())
	fmt.Fprintf(&b, "max-rss:%d\n", r.MaxRSSBytes/1024)
	fmt.Fprintf(&b, "cgroup:%t\n", r.Cgroup)
	if r.Message != "" {
		fmt.Fprintf(&b, "message:%s\n", strings.ReplaceAll(r.Message, "\n", " "))
	}
	return b.String()
}

// ErrUnsupported is returned where the jail cannot run at all (not Linux,
// or a kernel feature it needs is missing). Check wraps it with the
// missing feature's name.
var ErrUnsupported = errors.New("jail: unsupported on this host")

// Validate checks c.
func (c *Config) Validate() error {
	var errs []error
	if len(c.Args) == 0 || c.Args[0] == "" {
		errs = append(errs, errors.New("jail: no command"))
	}
	for i := range c.Mounts {
		if err := c.Mounts[i].validate(); err != nil {
			errs = append(errs, fmt.Errorf("jail: %w", err))
		}
	}
	switch c.Net {
	case "", NetNone, NetUnsafeHost:
	case NetProxy:
		if c.Proxy == nil {
			errs = append(errs, errors.New("jail: net=proxy needs a proxy server"))
		}
	default:
		errs = append(errs, fmt.Errorf("jail: unknown net mode %q (want none, proxy or unsafe-host)", c.Net))
	}
	switch c.Cgroup {
	case CgroupAuto, CgroupOff, CgroupRequire:
	default:
		errs = append(errs, fmt.Errorf("jail: unknown cgroup mode %q", c.Cgroup))
	}
	if c.Dir != "" && !path.IsAbs(c.Dir) {
		errs = append(errs, fmt.Errorf("jail: working directory %q must be absolute", c.Dir))
	}
	l := c.Limits
	if l.CPUTime < 0 || l.WallTime < 0 || l.MemoryBytes < 0 || l.Processes < 0 || l.OpenFiles < 0 || l.FileSizeBytes < 0 || l.CPUs < 0 {
		errs = append(errs, errors.New("jail: limits must not be negative"))
	}
	if l.CPUs != 0 && l.CPUs < 0.01 {
		errs = append(errs, errors.New("jail: CPUs must be at least 0.01"))
	}
	for _, kv := range c.Env {
		if !strings.Contains(kv, "=") || strings.ContainsRune(kv, 0) {
			errs = append(errs, fmt.Errorf("jail: bad environment entry %q", kv))
		}
	}
	return errors.Join(errs...)
}
