package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/airlockhq/airlock/internal/jail"
)

func TestJailCommandExitCodeMetaAndJSON(t *testing.T) {
	if err := jail.Supported(); err != nil {
		skipOrFailInCI(t, err)
	}
	dir := t.TempDir()
	stdout, _ := os.Create(filepath.Join(dir, "out"))
	stderr, _ := os.Create(filepath.Join(dir, "err"))
	defer stdout.Close()
	defer stderr.Close()
	meta := filepath.Join(dir, "meta")
	code := run([]string{"airlock", "jail", "--json", "--meta", meta, "--env", "A=b", "--", "/bin/sh", "-c", "echo $A; exit 3"}, nil, stdout, stderr)
	if code != 3 {
		t.Fatalf("exit code %d, want the program's 3", code)
	}
	out, _ := os.ReadFile(stdout.Name())
	if string(out) != "b\n" {
		t.Fatalf("stdout %q", out)
	}
	errOut, _ := os.ReadFile(stderr.Name())
	var res struct {
		Status   string  `json:"status"`
		ExitCode int     `json:"exitcode"`
		Time     float64 `json:"time_wall"`
	}
	if err := json.Unmarshal(bytes.TrimSpace(errOut), &res); err != nil || res.Status != "RE" || res.ExitCode != 3 || res.Time <= 0 {
		t.Fatalf("json %q: %v %+v", errOut, err, res)
	}
	m, _ := os.ReadFile(meta)
	if !strings.HasPrefix(string(m), "status:RE\nexitcode:3\n") || !strings.Contains(string(m), "time-wall:") {
		t.Fatalf("meta %q", m)
	}
}

func TestJailCommandUsageErrors(t *testing.T) {
	var out, errb bytes.Buffer
	for _, args := range [][]string{
		{"airlock", "jail"},
		{"airlock", "jail", "--tmpfs", "relative", "--", "/bin/true"},
		{"airlock", "jail", "--net", "bogus", "--", "/bin/true"},
		{"airlock", "jail", "--cgroup", "maybe", "--", "/bin/true"},
	} {
		if code := run(args, nil, &out, &errb); code != exitUsage {
			t.Errorf("%v: exit %d, want %d", args, code, exitUsage)
		}
	}
}

func TestJailCommandTimeoutExitCode(t *testing.T) {
	if err := jail.Supported(); err != nil {
		skipOrFailInCI(t, err)
	}
	var out, errb bytes.Buffer
	code := run([]string{"airlock", "jail", "--wall", "200ms", "--", "/bin/sleep", "10"}, nil, &out, &errb)
	if code != 124 {
		t.Fatalf("exit %d, want 124 (limit)", code)
	}
}

func TestCheckCommand(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"airlock", "check", "--json"}, nil, &out, &errb); code != 0 {
		t.Fatalf("check: %d %s", code, errb.String())
	}
	var rep struct {
		Features []jail.Feature `json:"features"`
		Modes    []struct {
			Mode      string `json:"mode"`
			Available bool   `json:"available"`
			Detail    string `json:"detail"`
		} `json:"modes"`
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil || len(rep.Modes) != 4 || len(rep.Features) == 0 {
		t.Fatalf("%v %s", err, out.String())
	}
	for _, m := range rep.Modes {
		if m.Mode == "SANDBOX_PROCESS" && jail.Supported() == nil && !m.Available && !strings.Contains(m.Detail, "node") {
			t.Fatalf("process mode unavailable on a supported host: %+v", m)
		}
	}
	if code := run([]string{"airlock", "check", "--mode", "bogus"}, nil, &out, &errb); code != exitUsage {
		t.Fatalf("bad mode: exit %d", code)
	}
}
