package procstep

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/airlockhq/airlock/internal/jail"
	"github.com/airlockhq/airlock/internal/step"
)

const benchStep = `export function code(i) { return {n: i.n + 1} }`

// BenchmarkProcessStep is one SANDBOX_PROCESS step: jail + node + runner.
// Compare with BenchmarkBareNode: the difference is what the jail adds
// (target: at most 3 ms).
func BenchmarkProcessStep(b *testing.B) {
	needNode(b)
	for b.Loop() {
		res, err := Run(context.Background(), step.Step{Source: benchStep, Input: json.RawMessage(`{"n":1}`)}, step.Limits{}, Options{})
		if err != nil || string(res.Output) != `{"n":2}` {
			b.Fatal(err, string(res.Output))
		}
	}
}

// BenchmarkBareNode runs the same runner and step with the same
// descriptors, without a jail.
func BenchmarkBareNode(b *testing.B) {
	needNode(b)
	for b.Loop() {
		bareNode(b)
	}
}

// BenchmarkNodeOverhead alternates a bare and a jailed run of the same
// step, so drift in machine load hits both alike, and reports the medians
// and their difference (jail-added-ms; target: at most 3).
func BenchmarkNodeOverhead(b *testing.B) {
	needNode(b)
	var bare, jailed, nocg []time.Duration
	run := func() {
		if _, err := Run(context.Background(), step.Step{Source: benchStep, Input: json.RawMessage(`{"n":1}`)}, step.Limits{}, Options{}); err != nil {
			b.Fatal(err)
		}
	}
	defer func() { stepCgroup = jail.CgroupAuto }()
	for b.Loop() {
		t0 := time.Now()
		bareNode(b)
		t1 := time.Now()
		run()
		t2 := time.Now()
		stepCgroup = jail.CgroupOff
		run()
		stepCgroup = jail.CgroupAuto
		bare = append(bare, t1.Sub(t0))
		jailed = append(jailed, t2.Sub(t1))
		nocg = append(nocg, time.Since(t2))
	}
	med := func(d []time.Duration) float64 {
		slices.Sort(d)
		return float64(d[len(d)/2].Microseconds()) / 1000
	}
	mb, mj, mn := med(bare), med(jailed), med(nocg)
	b.ReportMetric(mb, "bare-ms")
	b.ReportMetric(mj, "jailed-ms")
	b.ReportMetric(mj-mb, "jail-added-ms")
	b.ReportMetric(mn-mb, "jail-added-nocgroup-ms")
}

func bareNode(b *testing.B) {
	node, _ := exec.LookPath("node")
	{
		dir, err := os.MkdirTemp("", "airlock-bench-")
		if err != nil {
			b.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, "step.mjs"), []byte(benchStep), 0o644)
		os.WriteFile(filepath.Join(dir, "runner.mjs"), runnerJS, 0o644)
		cfg, _ := json.Marshal(map[string]any{"file": filepath.Join(dir, "step.mjs"), "name": "step.js", "esm": true, "max": 1 << 20})
		inR, inW, _ := os.Pipe()
		outR, outW, _ := os.Pipe()
		cmd := exec.Command(node, "--max-old-space-size=128", "--disable-proto=delete", filepath.Join(dir, "runner.mjs"), string(cfg))
		cmd.ExtraFiles = []*os.File{inR, outW}
		cmd.Env = []string{"HOME=/tmp", "NODE_ENV=production"}
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		inR.Close()
		outW.Close()
		inW.Write([]byte(`{"n":1}`))
		inW.Close()
		fr := &frameReader{max: 1 << 20, logLimit: 1 << 20}
		fr.read(outR)
		io.Copy(io.Discard, outR)
		outR.Close()
		if err := cmd.Wait(); err != nil || fr.final == nil || fr.final.V != `{"n":2}` {
			b.Fatal(err, fr.final)
		}
		os.RemoveAll(dir)
	}
}
