//go:build linux && amd64

package jail

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/airlockhq/airlock/internal/egress"
	"github.com/airlockhq/airlock/netguard"
	"golang.org/x/sys/unix"
)

// Test binaries, built once in TestMain.
var (
	attackBin  string // testdata/attack: one escape attempt per subcommand
	airlockBin string // the CLI, for tests that run as another user
	buildErr   error
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "airlock-jail-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// Readable by the unprivileged identity the jail runs as.
	_ = os.Chmod(dir, 0o755)
	attackBin = filepath.Join(dir, "attack")
	airlockBin = filepath.Join(dir, "airlock")
	for _, b := range [][2]string{{attackBin, "./testdata/attack"}, {airlockBin, "../../cmd/airlock"}} {
		cmd := exec.Command("go", "build", "-o", b[0], b[1])
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("build %s: %v\n%s", b[1], err, out)
			break
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func needJail(t *testing.T) {
	t.Helper()
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	if err := Supported(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI must exercise the jail, but this host cannot run it: %v", err)
		}
		t.Skip(err)
	}
}

// run runs cfg and returns the result and the program's stdout+stderr.
func runJail(t *testing.T, cfg Config) (*Result, string) {
	t.Helper()
	out, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	cfg.Stdout, cfg.Stderr = out, out
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	b, _ := os.ReadFile(out.Name())
	return res, string(b)
}

// attack runs one attack subcommand and fails unless the jail stopped it.
func attack(t *testing.T, cfg Config, args ...string) string {
	t.Helper()
	cfg.Args = append([]string{attackBin}, args...)
	res, out := runJail(t, cfg)
	if res.Status != StatusOK || !strings.HasPrefix(out, "BLOCKED") {
		t.Fatalf("attack %v not stopped: status %s (%s), output %q", args, res.Status, res.Message, out)
	}
	return out
}

func TestAttacksStoppedBySyscallFilter(t *testing.T) {
	needJail(t)
	for _, tc := range [][]string{
		{"ptrace", "1"},
		{"traceme"},
		{"mount"},
		{"umount"},
		{"userns"},
		{"clone-userns"},
		{"clone3"},
		{"setns"},
		{"keyctl"},
		{"io_uring"},
		{"bpf"},
		{"userfaultfd"},
		{"perf"},
		{"process_vm"},
		{"tiocsti"},
		{"tioclinux"},
		{"socket", "vsock"},
		{"socket", "packet"},
		{"socket", "alg"},
		{"socket", "key"},
		{"socket", "bluetooth"},
		{"chroot-escape"},
	} {
		t.Run(strings.Join(tc, "_"), func(t *testing.T) {
			t.Parallel()
			attack(t, Config{}, tc...)
		})
	}
}

func TestReadHostFilesOutsideBinds(t *testing.T) {
	needJail(t)
	secret := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secret, []byte("host secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/etc/shadow", "/etc/passwd", "/etc/hostname", "/root/.bashrc", secret, "/sys/kernel/notes"} {
		out := attack(t, Config{}, "read", p)
		if !strings.Contains(out, "no such file") {
			t.Errorf("read %s: want ENOENT (not in the jail's tree), got %q", p, out)
		}
	}
}

func TestWriteReadOnlyBinds(t *testing.T) {
	needJail(t)
	ro := t.TempDir()
	_ = os.Chmod(ro, 0o777)
	cfg := Config{Mounts: []Mount{{Kind: ReadOnlyBind, Source: ro, Dest: "/data"}}}
	for _, p := range []string{"/usr/pwned", "/pwned", "/etc/pwned", "/data/pwned", "/dev/pwned", "/proc/pwned"} {
		attack(t, cfg, "write", p)
	}
	if _, err := os.Stat(filepath.Join(ro, "pwned")); err == nil {
		t.Fatal("read-only bind was written")
	}
	// The writable scratch space works, and a writable bind is writable.
	rw := t.TempDir()
	_ = os.Chmod(rw, 0o777)
	cfg = Config{Args: []string{"/bin/sh", "-c", "echo hi > /tmp/x && cat /tmp/x && echo ok > /out/f"}, Mounts: []Mount{{Kind: Bind, Source: rw, Dest: "/out"}}}
	res, out := runJail(t, cfg)
	if res.Status != StatusOK || out != "hi\n" {
		t.Fatalf("scratch /tmp: %s %q", res.Status, out)
	}
	if b, _ := os.ReadFile(filepath.Join(rw, "f")); string(b) != "ok\n" {
		t.Fatalf("writable bind: got %q", b)
	}
}

func TestProcRootAndExeTricks(t *testing.T) {
	needJail(t)
	attack(t, Config{}, "proc-root")
	attack(t, Config{}, "procs")
}

func TestPtraceOfParent(t *testing.T) {
	needJail(t)
	// The parent is outside the pid namespace: its pid does not exist.
	attack(t, Config{}, "ptrace", strconv.Itoa(os.Getpid()))
}

func TestCapabilitiesDropped(t *testing.T) {
	needJail(t)
	attack(t, Config{}, "caps")
	out := attack(t, Config{}, "uid")
	if os.Getuid() == 0 && !strings.Contains(out, "uid=65534 gid=65534") {
		t.Fatalf("root must map to nobody inside, got %q", out)
	}
}

func TestForkBomb(t *testing.T) {
	needJail(t)
	cfg := Config{Limits: Limits{Processes: 32, WallTime: 60 * time.Second}}
	attack(t, cfg, "forkbomb")
}

func TestDiskFillStopsAtTmpfsSize(t *testing.T) {
	needJail(t)
	cfg := Config{Mounts: []Mount{{Kind: Tmpfs, Dest: "/scratch", SizeBytes: 4 << 20}}}
	out := attack(t, cfg, "diskfill", "/scratch/fill")
	var n int64
	fmt.Sscanf(strings.TrimPrefix(out, "BLOCKED wrote "), "%d", &n)
	if n > 4<<20 || !strings.Contains(out, "no space left") {
		t.Fatalf("disk fill: %q", out)
	}
	// RLIMIT_FSIZE bounds a single file even on a large tmpfs.
	cfg = Config{Limits: Limits{FileSizeBytes: 1 << 20}}
	out = attack(t, cfg, "diskfill", "/tmp/fill")
	if !strings.Contains(out, "file too large") {
		t.Fatalf("fsize: %q", out)
	}
}

func TestMemoryBomb(t *testing.T) {
	needJail(t)
	cfg := Config{Args: []string{attackBin, "membomb"}, Limits: Limits{MemoryBytes: 64 << 20}}
	res, out := runJail(t, cfg)
	if res.Cgroup {
		if res.Status != StatusMemory {
			t.Fatalf("memory bomb with cgroup: status %s (%s) %q", res.Status, res.Message, out)
		}
	} else if res.Status == StatusOK || strings.Contains(out, "ESCAPED") {
		t.Fatalf("memory bomb without cgroup: status %s %q", res.Status, out)
	}
	if res.MaxRSSBytes > 96<<20 {
		t.Fatalf("peak memory %d over the 64 MiB limit", res.MaxRSSBytes)
	}
}

func TestCPULoopTimesOut(t *testing.T) {
	needJail(t)
	res, _ := runJail(t, Config{Args: []string{attackBin, "cpuloop"}, Limits: Limits{CPUTime: time.Second}})
	if res.Status != StatusTimeout || res.Message != "CPU time limit exceeded" {
		t.Fatalf("cpu loop: %s %q", res.Status, res.Message)
	}
	res, _ = runJail(t, Config{Args: []string{attackBin, "sleep"}, Limits: Limits{WallTime: 300 * time.Millisecond}})
	if res.Status != StatusTimeout || !strings.Contains(res.Message, "wall-clock") {
		t.Fatalf("sleep: %s %q", res.Status, res.Message)
	}
}

func TestLeakedDescriptors(t *testing.T) {
	needJail(t)
	// A descriptor without close-on-exec, as a careless embedder would leak.
	fd, err := syscall.Open("/etc/hostname", syscall.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)
	attack(t, Config{}, "fds")
}

func TestLeakedEnvironment(t *testing.T) {
	needJail(t)
	t.Setenv("AIRLOCK_TEST_SECRET", "hunter2")
	attack(t, Config{Env: []string{"ALLOWED=1"}}, "env")
}

func TestNoNetworkWithoutProxy(t *testing.T) {
	needJail(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	attack(t, Config{}, "connect", ln.Addr().String())
	attack(t, Config{}, "connect", "1.1.1.1:80")
	attack(t, Config{}, "connect", "169.254.169.254:80")
}

func TestSignalsToHostProcesses(t *testing.T) {
	needJail(t)
	sleeper := exec.Command("sleep", "60")
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { sleeper.Process.Kill(); sleeper.Wait() }()
	attack(t, Config{}, "kill", strconv.Itoa(sleeper.Process.Pid))
	attack(t, Config{}, "killall")
	// The host process is still alive.
	if err := sleeper.Process.Signal(syscall.Signal(0)); err != nil {
		t.Fatalf("host process died: %v", err)
	}
}

func TestHostAbstractUnixSockets(t *testing.T) {
	needJail(t)
	name := fmt.Sprintf("airlock-test-%d", os.Getpid())
	ln, err := net.Listen("unix", "@"+name)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	attack(t, Config{}, "abstract", name)
}

func TestSymlinkedBindSourceIsResolvedOnHost(t *testing.T) {
	needJail(t)
	dir := t.TempDir()
	_ = os.Chmod(dir, 0o755)
	real := filepath.Join(dir, "real")
	if err := os.Mkdir(real, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(real, "f"), []byte("data"), 0o644)
	link := filepath.Join(dir, "link")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	res, out := runJail(t, Config{Args: []string{"/bin/cat", "/data/f"}, Mounts: []Mount{{Kind: ReadOnlyBind, Source: link, Dest: "/data"}}})
	if res.Status != StatusOK || out != "data" {
		t.Fatalf("got %s %q", res.Status, out)
	}
}

func TestSetupFailureIsReported(t *testing.T) {
	needJail(t)
	res, err := Run(context.Background(), Config{Args: []string{"/bin/true"}, Dir: "/nonexistent"})
	if err == nil || res.Status != StatusInternal || !strings.Contains(err.Error(), "chdir /nonexistent") {
		t.Fatalf("got %v, %+v", err, res)
	}
}

func TestExitStatusAndSignal(t *testing.T) {
	needJail(t)
	res, _ := runJail(t, Config{Args: []string{"/bin/sh", "-c", "exit 7"}})
	if res.Status != StatusRuntime || res.ExitCode != 7 {
		t.Fatalf("exit 7: %+v", res)
	}
	// pid 1 ignores signals it has no handler for, except from the kernel.
	res, _ = runJail(t, Config{Args: []string{"/bin/sh", "-c", "sh -c 'kill -SEGV $$'; exit 3"}})
	if res.Status != StatusRuntime {
		t.Fatalf("child signal: %+v", res)
	}
	if !strings.Contains(res.Meta(), "status:RE\nexitcode:3\n") {
		t.Fatalf("meta: %q", res.Meta())
	}
}

// TestUnprivileged runs the CLI as nobody: the jail must work without any
// host privilege, and the same attacks must fail.
func TestUnprivileged(t *testing.T) {
	needJail(t)
	if os.Getuid() != 0 {
		t.Skip("needs root to switch to nobody")
	}
	runAs := func(args ...string) (string, error) {
		cmd := exec.Command(airlockBin, append([]string{"jail", "--"}, args...)...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534, Groups: []uint32{}}}
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := runAs(attackBin, "uid")
	if err != nil {
		if strings.Contains(out, "unavailable") || strings.Contains(out, "namespaces") {
			t.Skipf("unprivileged user namespaces unavailable: %s", out)
		}
		t.Fatalf("jail as nobody: %v %s", err, out)
	}
	// Node.js (process-mode steps) works with the rlimit fallback.
	if node, err := exec.LookPath("node"); err == nil {
		out, err := runAs(node, "-e", "console.log(process.getuid(), JSON.stringify([1, 2].map(x => x * 2)))")
		if err != nil || out != "65534 [2,4]\n" {
			t.Errorf("node as nobody: %v %q", err, out)
		}
	}
	for _, a := range [][]string{{"caps"}, {"read", "/etc/shadow"}, {"keyctl"}, {"userns"}, {"mount"}, {"procs"}, {"connect", "1.1.1.1:80"}, {"forkbomb"}, {"fds"}, {"ptrace", "1"}} {
		out, err := runAs(append([]string{attackBin}, a...)...)
		if err != nil || !strings.HasPrefix(out, "BLOCKED") {
			t.Errorf("as nobody, attack %v: %v %q", a, err, out)
		}
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"no command", Config{}},
		{"relative mount", Config{Args: []string{"x"}, Mounts: []Mount{{Kind: Tmpfs, Dest: "tmp"}}}},
		{"mount over /proc", Config{Args: []string{"x"}, Mounts: []Mount{{Kind: Tmpfs, Dest: "/proc"}}}},
		{"bind over /dev/null", Config{Args: []string{"x"}, Mounts: []Mount{{Kind: ReadOnlyBind, Source: "/etc/hostname", Dest: "/dev/null"}}}},
		{"bind on /dev/shm", Config{Args: []string{"x"}, Mounts: []Mount{{Kind: Bind, Source: "/tmp", Dest: "/dev/shm"}}}},
		{"proxy without server", Config{Args: []string{"x"}, Net: NetProxy}},
		{"bad env", Config{Args: []string{"x"}, Env: []string{"NOEQUALS"}}},
	} {
		if err := tc.cfg.Validate(); err == nil {
			t.Errorf("%s: want an error", tc.name)
		}
	}
	if err := (&Config{Args: []string{"x"}, Mounts: []Mount{{Kind: Tmpfs, Dest: "/dev/shm"}}}).Validate(); err != nil {
		t.Errorf("tmpfs on /dev/shm: %v", err)
	}
	if _, err := ParseMountSpec(Tmpfs, "/x:size=12M"); err != nil {
		t.Error(err)
	}
	m, _ := ParseMountSpec(ReadOnlyBind, "/a:/b")
	if m.Source != "/a" || m.Dest != "/b" {
		t.Errorf("parse bind: %+v", m)
	}
	if !errors.Is(fmt.Errorf("x: %w", ErrUnsupported), ErrUnsupported) {
		t.Fatal("ErrUnsupported must wrap")
	}
}

func TestReportMissingNamesTheFeature(t *testing.T) {
	r := &Report{Features: []Feature{
		{Name: "cgroup", OK: false, Required: false},
		{Name: "Landlock", OK: false, Required: true, Detail: "not enabled"},
	}}
	if f := r.Missing(); f == nil || f.Name != "Landlock" {
		t.Fatalf("got %+v", f)
	}
	rep := Check(context.Background())
	if Supported() == nil && (rep.Missing() != nil || rep.ProbeErr != "") {
		t.Fatalf("supported host, but check reports %+v %q", rep.Missing(), rep.ProbeErr)
	}
}

// TestNetProxyIsTheOnlyWayOut: with NetProxy the jail reaches allowed
// destinations only through airlock's egress proxy, which refuses cloud
// metadata, and nothing directly.
func TestNetProxyIsTheOnlyWayOut(t *testing.T) {
	needJail(t)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "hello from host") })}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()
	policy, err := netguard.New(netguard.WithAllowList("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	proxy, err := egress.New(egress.Config{Policy: policy})
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Shutdown(context.Background())
	cfg := Config{Net: NetProxy, Proxy: proxy}
	get := func(u string) string {
		cfg.Args = []string{attackBin, "proxyget", u}
		res, out := runJail(t, cfg)
		if res.Status != StatusOK {
			t.Fatalf("proxyget %s: %s %s %q", u, res.Status, res.Message, out)
		}
		return strings.TrimSpace(out)
	}
	if out := get("http://" + ln.Addr().String() + "/"); out != "200 hello from host" {
		t.Fatalf("allow-listed server through the proxy: %q", out)
	}
	if out := get("http://169.254.169.254/latest/meta-data/"); !strings.HasPrefix(out, "403") {
		t.Fatalf("metadata through the proxy: %q", out)
	}
	// Direct connections: nowhere to go, not even the host's loopback.
	cfg.Args = nil
	attack(t, cfg, "connect", ln.Addr().String())
	attack(t, cfg, "connect", "1.1.1.1:443")
}

// TestWholeTreeDiesWithTheJail: a background process the program leaves
// behind is killed when the program (pid 1 of the jail) exits.
func TestWholeTreeDiesWithTheJail(t *testing.T) {
	needJail(t)
	res, _ := runJail(t, Config{Args: []string{"/bin/sh", "-c", "/bin/sleep 313.37 & /bin/sleep 313.38 & exit 0"}})
	if res.Status != StatusOK {
		t.Fatalf("%+v", res)
	}
	es, _ := os.ReadDir("/proc")
	for _, e := range es {
		b, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err == nil && strings.Contains(string(b), "313.3") {
			t.Fatalf("pid %s survived the jail: %q", e.Name(), b)
		}
	}
}

// TestBindSourceSymlinkSwapFails: bind sources are resolved on the host
// first, then opened without following any symlink; a symlink that
// appears in the resolved path in between (the race an attacker who
// controls the source directory would try) fails the run instead of
// redirecting the bind to, say, /etc.
func TestBindSourceSymlinkSwapFails(t *testing.T) {
	needJail(t)
	if os.Getuid() != 0 {
		t.Skip("the unprivileged path opens sources in the child; same flags")
	}
	dir := t.TempDir()
	swapped := filepath.Join(dir, "data")
	if err := os.Symlink("/etc", swapped); err != nil {
		t.Fatal(err)
	}
	// As if buildTree had resolved "data" while it was still a directory.
	_, err := openTrees([]entry{{kind: entryBind, src: swapped, dst: "/data", isDir: true}}, fdSet{})
	if !errors.Is(err, syscall.ELOOP) {
		t.Fatalf("want ELOOP for a swapped-in symlink, got %v", err)
	}
}

// TestConcurrentRunsLeakNothing: parallel jails, half of them failing at
// set-up, leave no descriptor, child or cgroup behind in the parent.
func TestConcurrentRunsLeakNothing(t *testing.T) {
	needJail(t)
	countFDs := func() int {
		es, _ := os.ReadDir("/proc/self/fd")
		return len(es)
	}
	before := countFDs()
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for i := 0; i < 32; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cfg := Config{Args: []string{"/bin/true"}}
			if i%2 == 1 {
				cfg.Dir = "/nonexistent" // fails in the child, after the clone
			}
			res, err := Run(context.Background(), cfg)
			switch {
			case i%2 == 0 && (err != nil || res.Status != StatusOK):
				errs <- fmt.Errorf("run %d: %v %+v", i, err, res)
			case i%2 == 1 && err == nil:
				errs <- fmt.Errorf("run %d: set-up failure not reported", i)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if after := countFDs(); after > before {
		es, _ := os.ReadDir("/proc/self/fd")
		var ls []string
		for _, e := range es {
			l, _ := os.Readlink("/proc/self/fd/" + e.Name())
			ls = append(ls, e.Name()+"->"+l)
		}
		t.Errorf("descriptors: %d before, %d after: %v", before, after, ls)
	}
	for _, dir := range DetectCgroup().Dirs {
		es, _ := os.ReadDir(dir)
		for _, e := range es {
			if strings.HasPrefix(e.Name(), fmt.Sprintf("airlock-%d-", os.Getpid())) {
				t.Errorf("cgroup left behind: %s/%s", dir, e.Name())
			}
		}
	}
	var ws syscall.WaitStatus
	if pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil); pid > 0 {
		t.Errorf("unreaped child %d", pid)
	} else if err != nil && !errors.Is(err, syscall.ECHILD) {
		t.Errorf("wait4: %v", err)
	}
}

// TestCgroupLimitsWritten: with a delegated cgroup, the jail's memory,
// process and CPU-bandwidth limits are set on it (white box: the files).
func TestCgroupLimitsWritten(t *testing.T) {
	needJail(t)
	info := DetectCgroup()
	if info.Version != 1 {
		t.Skipf("needs a writable cgroup v1 hierarchy: %s", info.Reason)
	}
	cg, err := newCgroup(info, Limits{MemoryBytes: 64 << 20, Processes: 7, CPUs: 0.5}.WithDefaults())
	if err != nil {
		t.Fatal(err)
	}
	defer cg.remove()
	read := func(c, f string) string {
		b, _ := os.ReadFile(filepath.Join(cg.dirs[c], f))
		return strings.TrimSpace(string(b))
	}
	if got := read("memory", "memory.limit_in_bytes"); got != strconv.Itoa(64<<20) {
		t.Errorf("memory limit %s", got)
	}
	if got := read("pids", "pids.max"); got != "7" {
		t.Errorf("pids.max %s", got)
	}
	if _, ok := cg.dirs["cpu"]; ok {
		if got := read("cpu", "cpu.cfs_quota_us"); got != "50000" {
			t.Errorf("cpu quota %s", got)
		}
	}
}

// TestParentDumpableFlagRestored: the set-up toggles the dumpable flag of
// the memory it shares with the child; the parent's must end as it began
// (a non-dumpable parent must not become ptrace-able by its uid).
func TestParentDumpableFlagRestored(t *testing.T) {
	needJail(t)
	get := func() int {
		d, err := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	orig := get()
	defer unix.Prctl(unix.PR_SET_DUMPABLE, uintptr(orig), 0, 0, 0)
	for _, want := range []int{0, 1} {
		if err := unix.Prctl(unix.PR_SET_DUMPABLE, uintptr(want), 0, 0, 0); err != nil {
			t.Fatal(err)
		}
		if res, _ := runJail(t, Config{Args: []string{"/bin/true"}}); res.Status != StatusOK {
			t.Fatalf("%+v", res)
		}
		if got := get(); got != want {
			t.Fatalf("dumpable %d before the run, %d after", want, got)
		}
	}
}

// TestNestedMountThroughPlantedSymlinkFails: a tenant controls the content
// of a bind (here /work) and plants a symlink where a nested mount goes
// (/work/sub -> /usr/bin). The nested mount must not follow it.
func TestNestedMountThroughPlantedSymlinkFails(t *testing.T) {
	needJail(t)
	work, data := t.TempDir(), t.TempDir()
	os.Chmod(work, 0o755)
	os.Chmod(data, 0o755)
	if err := os.Symlink("/usr/bin", filepath.Join(work, "sub")); err != nil {
		t.Fatal(err)
	}
	_, err := Run(context.Background(), Config{Args: []string{"/bin/true"}, Mounts: []Mount{
		{Kind: Bind, Source: work, Dest: "/work"},
		{Kind: ReadOnlyBind, Source: data, Dest: "/work/sub"},
	}})
	if !errors.Is(err, syscall.ELOOP) || !strings.Contains(err.Error(), "mount point /work/sub") {
		t.Fatalf("want ELOOP opening the mount point, got %v", err)
	}
}

// TestCPULimitCoversTheWholeTree: CPU burnt by child processes counts
// (with a cgroup), and sub-second limits hold, which RLIMIT_CPU (per
// process, whole seconds) alone cannot do.
func TestCPULimitCoversTheWholeTree(t *testing.T) {
	needJail(t)
	if DetectCgroup().Version == 0 {
		t.Skip("needs a delegated cgroup")
	}
	res, _ := runJail(t, Config{
		Args:   []string{"/bin/sh", "-c", "for i in 1 2 3 4; do (while :; do :; done) & done; wait"},
		Limits: Limits{CPUTime: 300 * time.Millisecond, WallTime: 30 * time.Second, CPUs: 2},
	})
	if res.Status != StatusTimeout || res.Message != "CPU time limit exceeded" {
		t.Fatalf("%+v", res)
	}
}
