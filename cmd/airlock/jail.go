package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/airlockhq/airlock/internal/jail"
	"github.com/airlockhq/airlock/internal/step"
)

func init() {
	register("jail", "run a program in an unprivileged kernel jail", jailMain)
}

// multiFlag collects a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// sizeFlag parses sizes like 64M.
type sizeFlag struct{ v *int64 }

func (s sizeFlag) String() string {
	if s.v == nil {
		return ""
	}
	return fmt.Sprint(*s.v)
}
func (s sizeFlag) Set(v string) error {
	n, err := jail.ParseSize(v)
	if err != nil {
		return err
	}
	*s.v = n
	return nil
}

// Exit codes of airlock jail (the program's own exit code otherwise).
const (
	exitJailSignal = 128 // + signal number, like a shell
)

func jailMain(e env, args []string) int {
	fs := flag.NewFlagSet("airlock jail", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintln(e.stderr, "usage: airlock jail [flags] -- CMD [ARGS...]")
		fmt.Fprintln(e.stderr, "\nRuns CMD in fresh user, pid, mount, net, ipc, uts and cgroup namespaces with seccomp,\nLandlock, no capabilities and limits. Exit status: CMD's, 128+N if killed by signal N,\nor airlock's own codes (2 usage, 9 unavailable, 70 internal, 124 CPU/wall limit, 3 memory).")
		fmt.Fprintln(e.stderr, "\nflags:")
		fs.PrintDefaults()
	}
	var (
		roBinds, binds, tmpfs, envs, passEnv multiFlag
		cfg                                  jail.Config
		jsonOut                              bool
		metaFile, netMode, cgroupMode        string
		noDefaults                           bool
	)
	fs.Var(&roBinds, "ro-bind", "bind host `SRC[:DST]` read-only (repeatable)")
	fs.Var(&binds, "bind", "bind host `SRC[:DST]` writable (repeatable)")
	fs.Var(&tmpfs, "tmpfs", "mount a tmpfs at `DST[:size=64M]` (repeatable)")
	fs.Var(&envs, "env", "set `K=V` in the program's environment (repeatable)")
	fs.Var(&passEnv, "pass-env", "pass the host's variable `K` (repeatable)")
	fs.BoolVar(&jsonOut, "json", false, "print the result (meta) as JSON on stderr")
	fs.StringVar(&metaFile, "meta", "", "write the result in isolate's meta format to `FILE`")
	fs.StringVar(&netMode, "net", "none", "network: none (empty namespace) or proxy (egress proxy only)")
	unsafeHostNet := fs.Bool("unsafe-host-net", false, "share the host's network namespace (NO network isolation)")
	fs.StringVar(&cgroupMode, "cgroup", "auto", "cgroup use: auto, off or require")
	fs.BoolVar(&noDefaults, "no-default-mounts", false, "do not mount /usr, /lib*, /bin, /sbin, /etc/ssl and /tmp")
	fs.StringVar(&cfg.Dir, "chdir", "/", "working directory inside the jail")
	fs.DurationVar(&cfg.Limits.CPUTime, "cpu", jail.DefaultCPUTime, "CPU time limit")
	fs.DurationVar(&cfg.Limits.WallTime, "wall", jail.DefaultWallTime, "wall-clock limit")
	cfg.Limits.MemoryBytes = jail.DefaultMemoryBytes
	fs.Var(sizeFlag{&cfg.Limits.MemoryBytes}, "mem", "memory limit (cgroup, else RLIMIT_DATA), e.g. 512M")
	cfg.Limits.FileSizeBytes = jail.DefaultFileSizeBytes
	fs.Var(sizeFlag{&cfg.Limits.FileSizeBytes}, "fsize", "largest file the program may write")
	fs.IntVar(&cfg.Limits.Processes, "procs", jail.DefaultProcesses, "process and thread limit")
	fs.IntVar(&cfg.Limits.OpenFiles, "nofile", jail.DefaultOpenFiles, "open file limit per process")
	fs.Float64Var(&cfg.Limits.CPUs, "cpus", jail.DefaultCPUs, "CPU bandwidth of the whole jail, in CPUs (cgroup cpu controller, when delegated)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	cfg.Args = fs.Args()
	if len(cfg.Args) == 0 {
		fs.Usage()
		return exitUsage
	}
	for _, spec := range roBinds {
		m, err := jail.ParseMountSpec(jail.ReadOnlyBind, spec)
		if err != nil {
			fmt.Fprintln(e.stderr, "airlock jail:", err)
			return exitUsage
		}
		cfg.Mounts = append(cfg.Mounts, m)
	}
	for _, spec := range binds {
		m, err := jail.ParseMountSpec(jail.Bind, spec)
		if err != nil {
			fmt.Fprintln(e.stderr, "airlock jail:", err)
			return exitUsage
		}
		cfg.Mounts = append(cfg.Mounts, m)
	}
	for _, spec := range tmpfs {
		m, err := jail.ParseMountSpec(jail.Tmpfs, spec)
		if err != nil {
			fmt.Fprintln(e.stderr, "airlock jail:", err)
			return exitUsage
		}
		cfg.Mounts = append(cfg.Mounts, m)
	}
	cfg.NoDefaultMounts = noDefaults
	cfg.Env = append(cfg.Env, envs...)
	for _, k := range passEnv {
		if v, ok := os.LookupEnv(k); ok {
			cfg.Env = append(cfg.Env, k+"="+v)
		}
	}
	switch cgroupMode {
	case "auto":
	case "off":
		cfg.Cgroup = jail.CgroupOff
	case "require":
		cfg.Cgroup = jail.CgroupRequire
	default:
		fmt.Fprintf(e.stderr, "airlock jail: unknown --cgroup %q\n", cgroupMode)
		return exitUsage
	}
	cfg.Net = jail.NetMode(netMode)
	if *unsafeHostNet {
		cfg.Net = jail.NetUnsafeHost
	}
	var stopProxy func()
	if cfg.Net == jail.NetProxy {
		p, stop, err := newJailProxy()
		if err != nil {
			fmt.Fprintln(e.stderr, "airlock jail:", err)
			return step.ExitCode(step.CodeUnavailable)
		}
		cfg.Proxy, stopProxy = p, stop
		defer stopProxy()
	}
	cfg.Stdin, cfg.Stdout, cfg.Stderr = fileOr(e.stdin, os.Stdin), fileOr(e.stdout, os.Stdout), fileOr(e.stderr, os.Stderr)
	if err := cfg.Validate(); err != nil {
		fmt.Fprintln(e.stderr, "airlock jail:", err)
		return exitUsage
	}

	// No signal handling: the jail runs in its own session, and if airlock
	// is killed (Ctrl-C included) the jail gets PR_SET_PDEATHSIG SIGKILL.
	// A signal-watching goroutine would cost a thread at start-up.
	res, err := jail.Run(context.Background(), cfg)
	if metaFile != "" {
		if werr := os.WriteFile(metaFile, []byte(res.Meta()), 0o644); werr != nil {
			fmt.Fprintln(e.stderr, "airlock jail: meta:", werr)
		}
	}
	if jsonOut {
		writeResultJSON(e, res)
	}
	if err != nil {
		fmt.Fprintln(e.stderr, "airlock jail:", err)
		if errors.Is(err, jail.ErrUnsupported) {
			return step.ExitCode(step.CodeUnavailable)
		}
		return step.ExitCode(step.CodeInternal)
	}
	switch res.Status {
	case jail.StatusOK, jail.StatusRuntime:
		return res.ExitCode
	case jail.StatusTimeout:
		return step.ExitCode(step.CodeCPULimit)
	case jail.StatusMemory:
		return step.ExitCode(step.CodeMemoryLimit)
	case jail.StatusSignal:
		return exitJailSignal + res.Signal
	}
	return step.ExitCode(step.CodeInternal)
}

func writeResultJSON(e env, res *jail.Result) {
	out := struct {
		*jail.Result
		CPUSeconds  float64 `json:"time"`
		WallSeconds float64 `json:"time_wall"`
	}{res, res.CPUTime.Seconds(), res.WallTime.Round(time.Microsecond).Seconds()}
	b, _ := json.Marshal(out)
	fmt.Fprintln(e.stderr, string(b))
}

// fileOr returns w as a file when it is one, else def.
func fileOr(w any, def *os.File) *os.File {
	if f, ok := w.(*os.File); ok {
		return f
	}
	return def
}
