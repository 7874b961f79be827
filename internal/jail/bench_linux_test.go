//go:build linux && amd64

package jail

import (
	"context"
	"os/exec"
	"testing"
)

// BenchmarkRunTrue measures one jailed /bin/true from Run's call to its
// return: namespaces, mounts, seccomp, Landlock, exec, exit and teardown.
// Process start-up of the airlock binary is not included (see
// scripts/bench-jail.sh for the cold CLI comparison with bubblewrap).
func BenchmarkRunTrue(b *testing.B) {
	for _, c := range []struct {
		name string
		cg   CgroupMode
	}{{"cgroup=auto", CgroupAuto}, {"cgroup=off", CgroupOff}} {
		b.Run(c.name, func(b *testing.B) {
			if err := Supported(); err != nil {
				b.Skip(err)
			}
			for b.Loop() {
				res, err := Run(context.Background(), Config{Args: []string{"/bin/true"}, Cgroup: c.cg})
				if err != nil || res.Status != StatusOK {
					b.Fatal(err, res)
				}
			}
		})
	}
}

// BenchmarkExecTrue is the baseline: /bin/true with os/exec, no jail.
func BenchmarkExecTrue(b *testing.B) {
	for b.Loop() {
		if err := exec.Command("/bin/true").Run(); err != nil {
			b.Fatal(err)
		}
	}
}
