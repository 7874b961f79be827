//go:build linux && amd64

package jail

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

var cgroupOnce = sync.OnceValue(detectCgroup)

// DetectCgroup reports the cgroup delegation available to this process.
func DetectCgroup() CgroupInfo { return cgroupOnce() }

func detectCgroup() CgroupInfo {
	own := map[string]string{} // controller (or "" for v2) -> own path
	f, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return CgroupInfo{Reason: err.Error()}
	}
	for _, line := range strings.Split(strings.TrimSpace(string(f)), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		for _, c := range strings.Split(parts[1], ",") {
			own[c] = parts[2]
		}
	}
	mounts := map[string]string{} // controller or "" (v2) -> mount point
	mf, err := os.Open("/proc/self/mounts")
	if err != nil {
		return CgroupInfo{Reason: err.Error()}
	}
	defer mf.Close()
	sc := bufio.NewScanner(mf)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) < 4 {
			continue
		}
		switch fs[2] {
		case "cgroup2":
			mounts[""] = fs[1]
		case "cgroup":
			for _, o := range strings.Split(fs[3], ",") {
				mounts[o] = fs[1]
			}
		}
	}
	// v2 first.
	if mp, ok := mounts[""]; ok {
		if p, ok := own[""]; ok {
			dir := filepath.Join(mp, p)
			ctl, _ := os.ReadFile(filepath.Join(dir, "cgroup.subtree_control"))
			c := " " + strings.TrimSpace(string(ctl)) + " "
			if strings.Contains(c, " memory ") && strings.Contains(c, " pids ") && unix.Access(dir, unix.W_OK) == nil {
				return CgroupInfo{Version: 2, Dirs: map[string]string{"": dir}}
			}
		}
	}
	dirs := map[string]string{}
	for _, c := range []string{"memory", "pids", "cpu", "cpuacct"} {
		mp, ok1 := mounts[c]
		p, ok2 := own[c]
		if !ok1 || !ok2 {
			continue
		}
		dir := filepath.Join(mp, p)
		if unix.Access(dir, unix.W_OK) == nil {
			dirs[c] = dir
		}
	}
	if dirs["memory"] != "" && dirs["pids"] != "" {
		return CgroupInfo{Version: 1, Dirs: dirs}
	}
	return CgroupInfo{Reason: "no writable cgroup with the memory and pids controllers (cgroup v2 subtree_control lacks them; cgroup v1 hierarchies not writable)"}
}

// cgroup is one jail's cgroup (v2 directory, or one directory per v1
// controller).
type cgroup struct {
	version int
	dirs    map[string]string
	parents map[string]string
	fd      int // v2 directory, for CLONE_INTO_CGROUP; -1 otherwise
}

var cgroupSeq atomic.Uint64

// cpuPeriodUS is the CFS bandwidth period; the quota is CPUs periods.
const cpuPeriodUS = 100000

func cpuQuota(lim Limits) int64 { return int64(lim.CPUs * cpuPeriodUS) }

// newCgroup creates the jail's cgroup with the memory and process limits.
func newCgroup(info CgroupInfo, lim Limits) (cg *cgroup, err error) {
	name := fmt.Sprintf("airlock-%d-%d", os.Getpid(), cgroupSeq.Add(1))
	cg = &cgroup{version: info.Version, dirs: map[string]string{}, parents: info.Dirs, fd: -1}
	defer func() {
		if err != nil {
			cg.remove()
		}
	}()
	write := func(dir, file, val string) error {
		if err := os.WriteFile(filepath.Join(dir, file), []byte(val), 0); err != nil {
			return fmt.Errorf("jail: cgroup: %w", err)
		}
		return nil
	}
	mem := strconv.FormatInt(lim.MemoryBytes, 10)
	pids := strconv.Itoa(lim.Processes)
	for c, parent := range info.Dirs {
		dir := filepath.Join(parent, name)
		// 0755: the child, already the jail's identity, must reach
		// cgroup.procs to move itself in (v1).
		if err := os.Mkdir(dir, 0o755); err != nil {
			return cg, fmt.Errorf("jail: cgroup: %w", err)
		}
		cg.dirs[c] = dir
	}
	if cg.version == 2 {
		dir := cg.dirs[""]
		if err := write(dir, "memory.max", mem); err != nil {
			return cg, err
		}
		_ = write(dir, "memory.swap.max", "0")
		if err := write(dir, "pids.max", pids); err != nil {
			return cg, err
		}
		// cpu is optional in the delegation; without it, no bandwidth cap.
		_ = write(dir, "cpu.max", fmt.Sprintf("%d %d", cpuQuota(lim), cpuPeriodUS))
		cg.fd, err = unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return cg, fmt.Errorf("jail: cgroup: %w", err)
		}
		return cg, nil
	}
	if err := write(cg.dirs["memory"], "memory.limit_in_bytes", mem); err != nil {
		return cg, err
	}
	// Without swap accounting this file is absent; the limit then bounds
	// RAM only.
	_ = write(cg.dirs["memory"], "memory.memsw.limit_in_bytes", mem)
	if err := write(cg.dirs["pids"], "pids.max", pids); err != nil {
		return cg, err
	}
	if d, ok := cg.dirs["cpu"]; ok {
		if err := write(d, "cpu.cfs_period_us", strconv.Itoa(cpuPeriodUS)); err != nil {
			return cg, err
		}
		if err := write(d, "cpu.cfs_quota_us", strconv.FormatInt(cpuQuota(lim), 10)); err != nil {
			return cg, err
		}
	}
	return cg, nil
}

// procsFiles returns the v1 cgroup.procs files the child writes "0" to,
// moving itself into the jail's cgroups (v2 uses CLONE_INTO_CGROUP). A
// process moving itself is one migration per hierarchy; moving the cloning
// thread in and out again cost twice as many, each waiting for an RCU
// grace period in the kernel.
func (cg *cgroup) procsFiles() []string {
	if cg.version != 1 {
		return nil
	}
	var fs []string
	for _, c := range []string{"memory", "pids", "cpu", "cpuacct"} {
		if d, ok := cg.dirs[c]; ok {
			fs = append(fs, filepath.Join(d, "cgroup.procs"))
		}
	}
	return fs
}

// allowSelfMove lets uid, the jail's identity, write the cgroup.procs
// files (a v1 migration needs write access to the file and, for a
// non-root writer, the target to be itself).
func (cg *cgroup) allowSelfMove(uid, gid int) error {
	for _, f := range cg.procsFiles() {
		if err := os.Chown(f, uid, gid); err != nil {
			return fmt.Errorf("jail: cgroup: %w", err)
		}
	}
	return nil
}

// stats returns the peak memory, whether the OOM killer fired, and the
// CPU time of the whole tree (ok false when unknown).
func (cg *cgroup) stats() (peak int64, oom bool, cpu time.Duration, cpuOK bool) {
	read := func(dir, file string) string {
		b, _ := os.ReadFile(filepath.Join(dir, file))
		return strings.TrimSpace(string(b))
	}
	field := func(s, key string) int64 {
		for _, l := range strings.Split(s, "\n") {
			if v, ok := strings.CutPrefix(l, key+" "); ok {
				n, _ := strconv.ParseInt(v, 10, 64)
				return n
			}
		}
		return 0
	}
	if cg.version == 2 {
		d := cg.dirs[""]
		peak, _ = strconv.ParseInt(read(d, "memory.peak"), 10, 64)
		oom = field(read(d, "memory.events"), "oom_kill") > 0
		us := field(read(d, "cpu.stat"), "usage_usec")
		return peak, oom, time.Duration(us) * time.Microsecond, true
	}
	d := cg.dirs["memory"]
	peak, _ = strconv.ParseInt(read(d, "memory.max_usage_in_bytes"), 10, 64)
	oom = field(read(d, "memory.oom_control"), "oom_kill") > 0
	if c, ok := cg.dirs["cpuacct"]; ok {
		ns, err := strconv.ParseInt(read(c, "cpuacct.usage"), 10, 64)
		if err == nil {
			return peak, oom, time.Duration(ns), true
		}
	}
	return peak, oom, 0, false
}

// cpuUsage returns the CPU time of the whole tree, ok false when the
// cgroup does not account it.
func (cg *cgroup) cpuUsage() (time.Duration, bool) {
	var b [64]byte
	readNum := func(path string) (string, bool) {
		fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return "", false
		}
		defer unix.Close(fd)
		n, err := unix.Read(fd, b[:])
		if err != nil || n <= 0 {
			return "", false
		}
		return strings.TrimSpace(string(b[:n])), true
	}
	if cg.version == 2 {
		s, ok := readNum(filepath.Join(cg.dirs[""], "cpu.stat"))
		if !ok {
			return 0, false
		}
		v, ok := strings.CutPrefix(strings.SplitN(s, "\n", 2)[0], "usage_usec ")
		us, err := strconv.ParseInt(v, 10, 64)
		if !ok || err != nil {
			return 0, false
		}
		return time.Duration(us) * time.Microsecond, true
	}
	d, ok := cg.dirs["cpuacct"]
	if !ok {
		return 0, false
	}
	s, ok := readNum(filepath.Join(d, "cpuacct.usage"))
	if !ok {
		return 0, false
	}
	ns, err := strconv.ParseInt(s, 10, 64)
	return time.Duration(ns), err == nil
}

// remove deletes the cgroup directories. The jail's processes are gone by
// then (the pid namespace's init has been reaped), but the kernel may
// still be tearing them down, so EBUSY is retried briefly.
func (cg *cgroup) remove() {
	if cg.fd >= 0 {
		unix.Close(cg.fd)
		cg.fd = -1
	}
	for _, dir := range cg.dirs {
		for i := 0; i < 50; i++ {
			err := unix.Rmdir(dir)
			if err == nil || errors.Is(err, unix.ENOENT) || !errors.Is(err, unix.EBUSY) {
				break
			}
			time.Sleep(time.Millisecond)
		}
	}
}
