package procstep

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/airlockhq/airlock/internal/jail"
	"github.com/airlockhq/airlock/internal/step"
)

func needNode(t testing.TB) {
	t.Helper()
	if err := jail.Supported(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI must exercise process mode, but this host cannot run the jail: %v", err)
		}
		t.Skip(err)
	}
	if _, err := exec.LookPath("node"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("CI must exercise process mode, but node is not installed")
		}
		t.Skip("node not installed")
	}
}

type logs struct {
	mu    sync.Mutex
	lines []step.LogLine
}

func (l *logs) sink(x step.LogLine) { l.mu.Lock(); l.lines = append(l.lines, x); l.mu.Unlock() }

func run(t *testing.T, src, input string, lim step.Limits, opt Options) (step.Result, error) {
	t.Helper()
	var in json.RawMessage
	if input != "" {
		in = json.RawMessage(input)
	}
	return Run(context.Background(), step.Step{Source: src, Input: in}, lim, opt)
}

func wantCode(t *testing.T, err error, code step.Code) *step.Error {
	t.Helper()
	var se *step.Error
	if !errors.As(err, &se) || se.Code != code {
		t.Fatalf("want %s, got %v", code, err)
	}
	return se
}

func TestStepContract(t *testing.T) {
	needNode(t)
	for _, tc := range []struct {
		name, src, input, want string
	}{
		{"async code export", `export async function code(inputs) { return {sum: inputs.a + inputs.b} }`, `{"a":1,"b":2}`, `{"sum":3}`},
		{"default export", `export default (inputs) => inputs.map(x => x * 2)`, `[1,2]`, `[2,4]`},
		{"plain script completion value", `const x = inputs.n; x * 7`, `{"n":6}`, `42`},
		{"script returning a promise", `Promise.resolve(inputs.s + "!")`, `{"s":"hi"}`, `"hi!"`},
		{"undefined is null", `export function code() {}`, ``, `null`},
		{"no input is null", `export function code(i) { return i }`, ``, `null`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res, err := run(t, tc.src, tc.input, step.Limits{}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if string(res.Output) != tc.want {
				t.Fatalf("output %s, want %s", res.Output, tc.want)
			}
			if res.Usage.WallTime <= 0 || res.Usage.CPUTime <= 0 {
				t.Fatalf("usage not filled: %+v", res.Usage)
			}
		})
	}
}

func TestLogsStreamWithStreams(t *testing.T) {
	needNode(t)
	var l logs
	res, err := run(t, `export function code() { console.log("a", 1); console.info("b"); console.warn("c"); console.error("d"); console.debug({e: 1}); return 0 }`, ``, step.Limits{}, Options{Logs: l.sink})
	if err != nil {
		t.Fatal(err)
	}
	want := []step.LogLine{{Stream: step.StreamLog, Text: "a 1"}, {Stream: step.StreamInfo, Text: "b"}, {Stream: step.StreamWarn, Text: "c"}, {Stream: step.StreamError, Text: "d"}, {Stream: step.StreamDebug, Text: "{ e: 1 }"}}
	if len(l.lines) != len(want) {
		t.Fatalf("logs %v", l.lines)
	}
	for i := range want {
		if l.lines[i] != want[i] {
			t.Errorf("log %d: %v, want %v", i, l.lines[i], want[i])
		}
	}
	if n := int64(len("a 1") + 3 + len("{ e: 1 }")); res.Usage.LogBytes != n {
		t.Fatalf("log bytes %d, want %d", res.Usage.LogBytes, n)
	}
}

func TestLogFloodIsCappedAndCounted(t *testing.T) {
	needNode(t)
	var l logs
	res, err := run(t, `export function code() { for (let i = 0; i < 1000; i++) console.log("x".repeat(100)); return 1 }`, ``, step.Limits{MaxLogBytes: 1000}, Options{Logs: l.sink})
	if err != nil {
		t.Fatal(err)
	}
	if res.Usage.LogBytes != 1000 || res.Usage.LogBytesDropped != 99000 || len(l.lines) != 10 {
		t.Fatalf("usage %+v, %d lines", res.Usage, len(l.lines))
	}
}

func TestThrownErrorCarriesNameMessageStack(t *testing.T) {
	needNode(t)
	_, err := run(t, `export function code() { throw new RangeError("bad range") }`, ``, step.Limits{}, Options{})
	se := wantCode(t, err, step.CodeStepThrew)
	if se.Name != "RangeError" || se.Message != "bad range" || !strings.Contains(se.Stack, "step.mjs:1") {
		t.Fatalf("%+v", se)
	}
	_, err = run(t, `export async function code() { throw "plain string" }`, ``, step.Limits{}, Options{})
	if se := wantCode(t, err, step.CodeStepThrew); se.Message != "plain string" {
		t.Fatalf("%+v", se)
	}
}

func TestSyntaxAndBadSteps(t *testing.T) {
	needNode(t)
	_, err := run(t, `export function code( { return 1 }`, ``, step.Limits{}, Options{})
	wantCode(t, err, step.CodeSyntax)
	_, err = run(t, `export const x = 1`, ``, step.Limits{}, Options{})
	wantCode(t, err, step.CodeBadStep)
	_, err = run(t, `export function code() { const a = {}; a.a = a; return a }`, ``, step.Limits{}, Options{})
	wantCode(t, err, step.CodeBadStep)
}

func TestPayloadLimits(t *testing.T) {
	needNode(t)
	big := `"` + strings.Repeat("x", 2048) + `"`
	_, err := run(t, `export function code(i) { return 1 }`, big, step.Limits{MaxPayloadBytes: 1024}, Options{})
	wantCode(t, err, step.CodePayloadTooLarge)
	_, err = run(t, `export function code() { return "y".repeat(5000) }`, ``, step.Limits{MaxPayloadBytes: 1024}, Options{})
	wantCode(t, err, step.CodePayloadTooLarge)
}

func TestCPULoopHitsCPULimit(t *testing.T) {
	needNode(t)
	_, err := run(t, `export function code() { for (;;) {} }`, ``, step.Limits{CPUTime: time.Second, Timeout: 20 * time.Second}, Options{})
	se := wantCode(t, err, step.CodeCPULimit)
	if se.Message != "CPU time limit exceeded" || step.ExitCode(se.Code) != 124 {
		t.Fatalf("%+v", se)
	}
}

func TestWallTimeout(t *testing.T) {
	needNode(t)
	_, err := run(t, `export function code() { return new Promise(() => setTimeout(() => {}, 1e9)) }`, ``, step.Limits{Timeout: 500 * time.Millisecond}, Options{})
	wantCode(t, err, step.CodeTimeout)
}

func TestMemoryBomb(t *testing.T) {
	needNode(t)
	_, err := run(t, `export function code() { const a = []; for (;;) a.push(new Array(1e5).fill(1.5)) }`, ``, step.Limits{MemoryBytes: 32 << 20, Timeout: 30 * time.Second}, Options{})
	wantCode(t, err, step.CodeMemoryLimit)
}

func TestNpmPackageFromModulesDir(t *testing.T) {
	needNode(t)
	mods := t.TempDir()
	os.Chmod(mods, 0o755)
	pkg := filepath.Join(mods, "leftpad")
	os.MkdirAll(pkg, 0o755)
	os.WriteFile(filepath.Join(pkg, "package.json"), []byte(`{"name":"leftpad","main":"index.js"}`), 0o644)
	os.WriteFile(filepath.Join(pkg, "index.js"), []byte(`module.exports = (s, n) => String(s).padStart(n, "0")`), 0o644)
	res, err := run(t, `import pad from "leftpad"; export function code(i) { return pad(i.n, 5) }`, `{"n":42}`, step.Limits{}, Options{ModulesDir: mods})
	if err != nil || string(res.Output) != `"00042"` {
		t.Fatalf("%s %v", res.Output, err)
	}
	res, err = run(t, `require("leftpad")(7, 3)`, ``, step.Limits{}, Options{ModulesDir: mods})
	if err != nil || string(res.Output) != `"007"` {
		t.Fatalf("script require: %s %v", res.Output, err)
	}
	// node_modules is read-only.
	_, err = run(t, `import fs from "node:fs"; export function code() { fs.writeFileSync("/step/node_modules/leftpad/index.js", "x") }`, ``, step.Limits{}, Options{ModulesDir: mods})
	if se := wantCode(t, err, step.CodeStepThrew); !strings.Contains(se.Message, "read-only") {
		t.Fatalf("%+v", se)
	}
}

func TestHostIsolation(t *testing.T) {
	needNode(t)
	for _, tc := range []struct{ name, src string }{
		{"host files", `import fs from "node:fs"; export function code() { return fs.readFileSync("/etc/passwd", "utf8") }`},
		{"network", `import net from "node:net"; export function code() { return new Promise((ok, bad) => { const s = net.connect(80, "1.1.1.1", () => ok("connected")); s.on("error", bad) }) }`},
		{"child escapes", `import cp from "node:child_process"; export function code() { return cp.execFileSync("/bin/sh", ["-c", "cat /etc/shadow"]).toString() }`},
		{"environment", `export function code() { if (process.env.AIRLOCK_TEST_SECRET) return process.env.AIRLOCK_TEST_SECRET; throw new Error("no secret") }`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("AIRLOCK_TEST_SECRET", "hunter2")
			res, err := run(t, tc.src, ``, step.Limits{}, Options{})
			wantCode(t, err, step.CodeStepThrew)
			if len(res.Output) != 0 {
				t.Fatalf("output %s", res.Output)
			}
		})
	}
}

func TestInvalidOptions(t *testing.T) {
	_, err := run(t, `1`, ``, step.Limits{MemoryBytes: 1}, Options{})
	wantCode(t, err, step.CodeInvalidConfig)
	_, err = run(t, `1`, ``, step.Limits{}, Options{Net: "host"})
	wantCode(t, err, step.CodeInvalidConfig)
	if err := jail.Supported(); err == nil {
		_, err = run(t, `1`, ``, step.Limits{}, Options{NodePath: "/nonexistent/node"})
		wantCode(t, err, step.CodeUnavailable)
	}
}

// TestNetProxy: with Net "proxy" the step reaches an allow-listed server
// only through airlock's egress proxy, and cloud metadata gets 403.
func TestNetProxy(t *testing.T) {
	needNode(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("hello")) })}
	go srv.Serve(ln)
	defer srv.Close()
	t.Setenv("AP_SSRF_ALLOW_LIST", "127.0.0.1")
	get := `import http from "node:http";
export function code(i) {
  return new Promise((ok, bad) => http.get(i.url, (res) => {
    let b = ""; res.on("data", (d) => b += d); res.on("end", () => ok({status: res.statusCode, body: b}));
  }).on("error", bad));
}`
	res, err := run(t, get, `{"url":"http://`+ln.Addr().String()+`/"}`, step.Limits{}, Options{Net: "proxy"})
	if err != nil || string(res.Output) != `{"status":200,"body":"hello"}` {
		t.Fatalf("allow-listed server: %s %v", res.Output, err)
	}
	res, err = run(t, get, `{"url":"http://169.254.169.254/latest/meta-data/"}`, step.Limits{}, Options{Net: "proxy"})
	if err != nil || !strings.HasPrefix(string(res.Output), `{"status":403`) {
		t.Fatalf("metadata: %s %v", res.Output, err)
	}
	// Without the proxy there is no network at all.
	_, err = run(t, get, `{"url":"http://`+ln.Addr().String()+`/"}`, step.Limits{}, Options{})
	wantCode(t, err, step.CodeStepThrew)
}

// A step shares its Node process with the runner: replacing JSON.stringify
// does not break the runner's output, a forged result frame that is not
// JSON is refused, and corrupted frames are the step's fault, not airlock's.
func TestRunnerTampering(t *testing.T) {
	needNode(t)
	res, err := run(t, "JSON.stringify = () => '{\"forged\": ';\nexport const code = () => ({ a: 1 })", "null", step.Limits{}, Options{})
	if err != nil || string(res.Output) != `{"a":1}` {
		t.Fatalf("patched JSON.stringify: %s, %v", res.Output, err)
	}
	forge := func(body string) string {
		return "import fs from 'node:fs';\n" +
			"const body = Buffer.from(" + strconv.Quote(body) + ");\n" +
			"const head = Buffer.alloc(4); head.writeUInt32LE(body.length);\n" +
			"fs.writeSync(4, Buffer.concat([head, body])); process.exit(0);\n" +
			"export const code = () => 1;"
	}
	_, err = run(t, forge(`{"t":"result","v":"{not json"}`), "null", step.Limits{}, Options{})
	wantCode(t, err, step.CodeBadStep)
	_, err = run(t, forge(`{"t":"result","v":`), "null", step.Limits{}, Options{})
	wantCode(t, err, step.CodeBadStep)
}

// A script whose line starts with an identifier beginning "import" is a
// script, in this mode as in the isolate (one detector: step.IsModule).
func TestScriptNotMistakenForModule(t *testing.T) {
	needNode(t)
	res, err := run(t, "let importantTotal = 0\nimportantTotal = inputs.a + 1\nimportantTotal", `{"a":41}`, step.Limits{}, Options{})
	if err != nil || string(res.Output) != "42" {
		t.Fatalf("got %s, %v", res.Output, err)
	}
}

// Both modes check a step's input the same way (step.Prepare): input that
// is not JSON is a configuration error, not something the step threw.
func TestInvalidInputIsConfigError(t *testing.T) {
	needNode(t)
	_, err := run(t, "inputs", "{not json", step.Limits{}, Options{})
	wantCode(t, err, step.CodeInvalidConfig)
}
