//go:build linux && amd64

package jail

import (
	"context"
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

func readTrim(p string) (string, bool) {
	b, err := os.ReadFile(p)
	if err != nil {
		return "", false
	}
	return strings.TrimSpace(string(b)), true
}

// Check inspects the host and runs one real jail (/bin/true) as a probe.
// It never changes the host.
func Check(ctx context.Context) *Report {
	r := hostFeatures()
	// A real jail, the final word.
	if r.Missing() == nil {
		res, err := Run(ctx, Config{Args: []string{"/bin/true"}, Cgroup: CgroupOff})
		if err != nil {
			r.ProbeErr = err.Error()
		} else if res.Status != StatusOK {
			r.ProbeErr = "probe /bin/true: " + res.Message
		}
		add := r.ProbeErr == ""
		detail := "ok"
		if !add {
			detail = r.ProbeErr
		}
		r.Features = append(r.Features, Feature{Name: "jail probe (/bin/true)", OK: add, Required: true, Detail: detail})
	}
	return r
}

// unsupported explains a failed clone or set-up step: when a required
// host feature is missing, the error wraps ErrUnsupported and names it;
// otherwise it returns err unchanged. It only runs on failure, so the
// happy path pays nothing for the diagnosis.
func unsupported(err error) error {
	if f := hostFeatures().Missing(); f != nil {
		return fmt.Errorf("%w: %s: %s (%v)", ErrUnsupported, f.Name, f.Detail, err)
	}
	return err
}

// hostFeatures inspects the host without running a jail.
func hostFeatures() *Report {
	r := &Report{}
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		r.Kernel = unix.ByteSliceToString(u.Release[:])
	}
	add := func(name string, ok, required bool, detail string) {
		r.Features = append(r.Features, Feature{Name: name, OK: ok, Detail: detail, Required: required})
	}

	// User namespaces.
	userns, detail := true, ""
	if v, ok := readTrim("/proc/sys/user/max_user_namespaces"); ok {
		detail = "max_user_namespaces=" + v
		if v == "0" {
			userns = false
		}
	}
	if v, ok := readTrim("/proc/sys/kernel/unprivileged_userns_clone"); ok {
		detail += ", unprivileged_userns_clone=" + v
		if v == "0" && os.Getuid() != 0 {
			userns = false
		}
	}
	if v, ok := readTrim("/proc/sys/kernel/apparmor_restrict_unprivileged_userns"); ok {
		detail += ", apparmor_restrict_unprivileged_userns=" + v
		if v == "1" {
			userns = false
			detail += " (AppArmor denies unprivileged user namespaces to unconfined programs)"
		}
	}
	if _, err := os.Stat("/proc/self/ns/user"); err != nil {
		userns, detail = false, "kernel built without CONFIG_USER_NS"
	}
	add("user namespaces", userns, true, strings.TrimPrefix(detail, ", "))

	var nsMissing []string
	for _, ns := range []string{"pid", "net", "mnt", "ipc", "uts", "cgroup"} {
		if _, err := os.Stat("/proc/self/ns/" + ns); err != nil {
			nsMissing = append(nsMissing, ns)
		}
	}
	if len(nsMissing) == 0 {
		add("pid, net, mount, ipc, uts, cgroup namespaces", true, true, "present")
	} else {
		add("pid, net, mount, ipc, uts, cgroup namespaces", false, true, "missing: "+strings.Join(nsMissing, ", "))
	}

	// seccomp.
	if v, ok := readTrim("/proc/sys/kernel/seccomp/actions_avail"); ok && strings.Contains(v, "errno") && strings.Contains(v, "kill_process") {
		add("seccomp filter", true, true, "actions: "+v)
	} else if _, err := unix.PrctlRetInt(unix.PR_GET_SECCOMP, 0, 0, 0, 0); err == nil {
		add("seccomp filter", true, true, "available")
	} else {
		add("seccomp filter", false, true, "kernel built without CONFIG_SECCOMP_FILTER")
	}

	// Landlock.
	abi := LandlockABI()
	switch {
	case abi == 0:
		add("Landlock", false, true, "not enabled (needs CONFIG_SECURITY_LANDLOCK and landlock in the lsm= boot list)")
	default:
		var extra []string
		if abi >= 4 {
			extra = append(extra, "TCP connect restriction")
		}
		if abi >= 6 {
			extra = append(extra, "abstract-socket and signal scoping")
		}
		d := fmt.Sprintf("ABI %d", abi)
		if len(extra) > 0 {
			d += " (" + strings.Join(extra, ", ") + ")"
		}
		add("Landlock", true, true, d)
		if abi < 6 {
			add("Landlock scoping", false, false, fmt.Sprintf("ABI %d < 6: abstract unix sockets and signals are confined by the namespaces only", abi))
		}
	}

	// New mount API (open_tree, move_mount, mount_setattr: Linux 5.12+).
	if _, _, e := unix.Syscall6(unix.SYS_MOUNT_SETATTR, ^uintptr(0), 0, 0, 0, 0, 0); e == unix.ENOSYS {
		add("mount API (open_tree, mount_setattr)", false, true, "needs Linux 5.12 or later")
	} else {
		add("mount API (open_tree, mount_setattr)", true, true, "available")
	}

	// Cgroups.
	r.Cgroup = DetectCgroup()
	v2 := "not mounted"
	if mp := cgroup2Mount(); mp != "" {
		ctl, _ := readTrim(mp + "/cgroup.controllers")
		v2 = mp + " with controllers: " + ctl
		if ctl == "" {
			v2 = mp + " with no controllers available"
		}
	}
	switch r.Cgroup.Version {
	case 2:
		add("cgroup (memory, pids, cpu limits)", true, false, "v2 delegated at "+r.Cgroup.Dirs[""])
	case 1:
		var ds []string
		for c, d := range r.Cgroup.Dirs {
			ds = append(ds, c+"="+d)
		}
		add("cgroup (memory, pids, cpu limits)", true, false, "v1 writable: "+strings.Join(ds, " ")+"; v2: "+v2)
	default:
		add("cgroup (memory, pids, cpu limits)", false, false, r.Cgroup.Reason+"; v2: "+v2+"; fallback: RLIMIT_DATA, RLIMIT_NPROC (per jail user namespace), RLIMIT_CPU")
	}

	return r
}

// cgroup2Mount returns where cgroup v2 is mounted, or "".
func cgroup2Mount() string {
	b, _ := os.ReadFile("/proc/self/mounts")
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) > 2 && f[2] == "cgroup2" {
			return f[1]
		}
	}
	return ""
}
