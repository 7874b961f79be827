package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(append([]string{"airlock"}, args...), strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

func writeStep(t *testing.T, src string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "step.js")
	if err := os.WriteFile(p, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRunExamples(t *testing.T) {
	code, out, _ := runCLI(t, "run", "../../examples/hello.js", "--input", `{"name":"ci"}`)
	if code != 0 || out != "{\"greeting\":\"Hello, ci!\"}\n" {
		t.Fatalf("hello: exit %d, out %q", code, out)
	}
	code, out, _ = runCLI(t, "run", "--input", "@../../examples/orders.json", "../../examples/transform.js")
	if code != 0 || !strings.Contains(out, `"revenue":350`) {
		t.Fatalf("transform: exit %d, out %q", code, out)
	}
}

func TestRunExitCodes(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		args      []string
		exit      int
		stderr    string
	}{
		{"ok", "1+1", nil, 0, ""},
		{"step threw", "throw new TypeError('bad')", nil, 1, "ERR_STEP_THREW: TypeError: bad"},
		{"syntax error names line and column", "let a = 1;\nlet x = ;", nil, 1, "(line 2, column 9)"},
		{"cpu limit", "while(true){}", []string{"--cpu-time", "100ms"}, 124, "CPU time limit exceeded"},
		{"wall timeout", "new Promise(r => setTimeout(r, 5000))", []string{"--timeout", "100ms"}, 5, "ERR_SANDBOX_TIMEOUT"},
		{"memory limit", "let a=[]; while(true) a.push('x'.repeat(1000)+a.length)", []string{"--memory", "16"}, 3, "ERR_SANDBOX_MEMORY_LIMIT"},
		{"output too large", "'x'.repeat(5000)", []string{"--max-payload", "1024"}, 4, "ERR_SANDBOX_PAYLOAD_TOO_LARGE"},
		{"input too large", "1", []string{"--max-payload", "1024", "--input", `"` + strings.Repeat("x", 2000) + `"`}, 4, "payload limit"},
		{"invalid input JSON", "1", []string{"--input", "{bad"}, 2, "not valid JSON"},
		{"bad flag", "1", []string{"--memory", "lots"}, 2, "invalid value"},
		{"memory out of range", "1", []string{"--memory", "1"}, 2, "out of range"},
		{"bad timing", "1", []string{"--timing", "fast"}, 2, "unknown timing"},
		{"bad mode", "1", []string{"--mode", "turbo"}, 2, "unknown execution mode"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, append([]string{"run", writeStep(t, tc.src)}, tc.args...)...)
			if code != tc.exit || !strings.Contains(stderr, tc.stderr) {
				t.Fatalf("exit %d (want %d), stderr %q (want %q)", code, tc.exit, stderr, tc.stderr)
			}
			if strings.Contains(stderr, "goroutine ") {
				t.Fatalf("Go stack trace printed: %s", stderr)
			}
		})
	}
}

func TestRunMissingFile(t *testing.T) {
	code, _, stderr := runCLI(t, "run", filepath.Join(t.TempDir(), "nope.js"))
	if code != 2 || !strings.Contains(stderr, "no such file") || strings.Count(stderr, "\n") != 1 {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
}

func TestRunJSONReport(t *testing.T) {
	p := writeStep(t, "export default (x) => { console.log('hi'); throw new RangeError('nope ' + x) }")
	code, out, _ := runCLI(t, "run", p, "--json", "--input", "7")
	var r jsonReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("not JSON: %q", out)
	}
	if code != 1 || r.OK || r.Error == nil || r.Error.Name != "RangeError" || r.Error.Message != "nope 7" ||
		!strings.Contains(r.Error.Stack, "step.js:1:") || strings.Contains(r.Error.Stack, "<airlock>") || r.Usage.LogBytes != 2 {
		t.Fatalf("exit %d, report %+v %+v", code, r, r.Error)
	}
}

func TestRunLogsGoToStderr(t *testing.T) {
	p := writeStep(t, "console.log('one'); console.warn('two'); 3")
	code, out, stderr := runCLI(t, "run", p)
	if code != 0 || out != "3\n" || stderr != "one\n[warn] two\n" {
		t.Fatalf("exit %d, out %q, stderr %q", code, out, stderr)
	}
}

func TestUnknownCommand(t *testing.T) {
	if code, _, _ := runCLI(t, "frobnicate"); code != 2 {
		t.Fatalf("exit %d", code)
	}
	if code, _, _ := runCLI(t); code != 2 {
		t.Fatalf("no args: exit %d", code)
	}
}

func TestRunProcessMode(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		skipOrFailInCI(t, err)
	}
	code, out, stderr := runCLI(t, "run", "../../examples/hello.js", "--mode", "process", "--input", `{"name":"jail"}`)
	if code != 0 || out != "{\"greeting\":\"Hello, jail!\"}\n" || !strings.Contains(stderr, "greeting jail") {
		t.Fatalf("exit %d, out %q, stderr %q", code, out, stderr)
	}
	code, _, stderr = runCLI(t, "run", writeStep(t, "while (true) {}"), "--mode", "SANDBOX_PROCESS", "--cpu-time", "300ms")
	if code != 124 || !strings.Contains(stderr, "CPU time limit exceeded") {
		t.Fatalf("cpu loop in process mode: exit %d, stderr %q", code, stderr)
	}
}

func TestRunModeFlags(t *testing.T) {
	p := writeStep(t, "1")
	for _, tc := range []struct {
		args   []string
		exit   int
		stderr string
	}{
		{[]string{"--mode", "unsandboxed"}, 9, "not implemented"},
		{[]string{"--mode", "combined"}, 9, "not implemented"},
		{[]string{"--net", "proxy"}, 2, "--mode process only"},
		{[]string{"--modules", "/tmp"}, 2, "--mode process only"},
	} {
		code, _, stderr := runCLI(t, append([]string{"run", p}, tc.args...)...)
		if code != tc.exit || !strings.Contains(stderr, tc.stderr) {
			t.Errorf("%v: exit %d, stderr %q", tc.args, code, stderr)
		}
	}
}

// skipOrFailInCI skips a test whose host prerequisite is missing, except
// under CI=true, where a missing prerequisite must not pass as a skip.
func skipOrFailInCI(t *testing.T, why error) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("CI must run this test, but: %v", why)
	}
	t.Skip(why)
}

// A step cannot drive the operator's terminal through its console output.
func TestRunLogsEscapeTerminalControls(t *testing.T) {
	p := writeStep(t, `console.log("a\x1b]52;c;ZXZpbA==\x07b\x1b[2Jc\u009bd\tok\nnext"); 1`)
	code, _, stderr := runCLI(t, "run", p)
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	if strings.ContainsAny(stderr, "\x1b\x07\u009b") {
		t.Fatalf("control characters reached the terminal: %q", stderr)
	}
	if want := `a\x1b]52;c;ZXZpbA==\x07b\x1b[2Jc\x9bd` + "\tok\nnext\n"; stderr != want {
		t.Fatalf("stderr %q, want %q", stderr, want)
	}
}

func TestRunErrorEscapesTerminalControls(t *testing.T) {
	code, _, stderr := runCLI(t, "run", writeStep(t, `throw new Error("x\x1b[31mred")`))
	if code != 1 || strings.Contains(stderr, "\x1b") || !strings.Contains(stderr, `x\x1b[31mred`) {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
}
