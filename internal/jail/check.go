package jail

// CgroupInfo describes the cgroup delegation the jail can use.
type CgroupInfo struct {
	// Version is 2 or 1 when a cgroup with the memory and pids controllers
	// is delegated to this process (writable), else 0.
	Version int `json:"version"`
	// Dirs are the parent directories new jail cgroups are created in:
	// one for v2; memory, pids and (if present) cpuacct for v1.
	Dirs map[string]string `json:"dirs,omitempty"`
	// Reason explains Version 0.
	Reason string `json:"reason,omitempty"`
}

// Feature is one host capability the jail depends on.
type Feature struct {
	// Name is the feature, e.g. "user namespaces".
	Name string `json:"name"`
	// OK says whether the jail can use it.
	OK bool `json:"ok"`
	// Detail is what was found (version, mount point, the reason it is
	// missing).
	Detail string `json:"detail"`
	// Required features make the jail unavailable when missing; others
	// only weaken a limit (documented fallback).
	Required bool `json:"required"`
}

// Report is what Check found.
type Report struct {
	Kernel   string    `json:"kernel"`
	Features []Feature `json:"features"`
	// Cgroup is the delegation the jail will use.
	Cgroup CgroupInfo `json:"cgroup"`
	// ProbeErr is the error of a real jailed /bin/true, "" on success.
	ProbeErr string `json:"probe_error,omitempty"`
}

// Missing returns the first missing required feature, or nil.
func (r *Report) Missing() *Feature {
	for i := range r.Features {
		if r.Features[i].Required && !r.Features[i].OK {
			return &r.Features[i]
		}
	}
	return nil
}
