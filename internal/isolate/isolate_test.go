package isolate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/airlockhq/airlock/internal/step"
)

// Helpers shared by the tests in this package.

func testEngine(t testing.TB) *Engine {
	t.Helper()
	e, err := Default()
	if err != nil {
		t.Fatalf("Default: %v", err)
	}
	return e
}

// runStep runs src with input (JSON, "" for null) under lim.
func runStep(t testing.TB, src, input string, lim step.Limits, opt Options) (step.Result, error) {
	t.Helper()
	var in json.RawMessage
	if input != "" {
		in = json.RawMessage(input)
	}
	return testEngine(t).Run(context.Background(), step.Step{Source: src, Input: in}, lim, opt)
}

// mustOutput runs src and returns its output JSON, failing on any error.
func mustOutput(t testing.TB, src, input string) string {
	t.Helper()
	res, err := runStep(t, src, input, step.Limits{}, Options{})
	if err != nil {
		t.Fatalf("run %.80q: %v", src, err)
	}
	return string(res.Output)
}

// wantCode asserts err is a *step.Error with code c and returns it.
func wantCode(t testing.TB, err error, c step.Code) *step.Error {
	t.Helper()
	var se *step.Error
	if !errors.As(err, &se) {
		t.Fatalf("error = %v (%T), want a *step.Error with code %s", err, err, c)
	}
	if se.Code != c {
		t.Fatalf("code = %s (%v), want %s", se.Code, se, c)
	}
	return se
}

// sameJSON asserts that got and want encode the same JSON value.
func sameJSON(t testing.TB, got, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Fatalf("output %q is not JSON: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad expectation %q: %v", want, err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("output = %s, want %s", got, want)
	}
}

func TestStepFormats(t *testing.T) {
	cases := []struct {
		name, src, input, want string
	}{
		{"script completion value", "inputs.a + 1", `{"a":41}`, `42`},
		{"script plain object", "({a: [1, 2], b: 'x', c: null})", "", `{"a":[1,2],"b":"x","c":null}`},
		{"script undefined is null", "undefined", "", `null`},
		{"script empty source is null", "", "", `null`},
		{"script declaration only is null", "var x = 1;", "", `null`},
		{"script promise is awaited", "Promise.resolve(inputs.n * 2)", `{"n":21}`, `42`},
		{"script inputs default to null", "inputs", "", `null`},
		{"module export const code async", "export const code = async (inputs) => ({sum: inputs.a + inputs.b})", `{"a":1,"b":2}`, `{"sum":3}`},
		{"module export function code", "export function code(inputs) {\n  return {ok: true, n: inputs.length}\n}", `[1,2,3]`, `{"ok":true,"n":3}`},
		{"module export default function", "export default function (inputs) { return inputs.a }", `{"a":"x"}`, `"x"`},
		{"module export default async", "export default async function (inputs) { await null; return [inputs.a] }", `{"a":5}`, `[5]`},
		{"module export default arrow", "export default (inputs) => inputs", `{"deep":{"k":[true]}}`, `{"deep":{"k":[true]}}`},
		{"module code preferred over default", "export default () => 'default'\nexport const code = () => 'code'", "", `"code"`},
		{"module undefined is null", "export const code = async () => {}", "", `null`},
		{"module without inputs global", "export const code = () => typeof globalThis.inputs", "", `"undefined"`},
		{"module top-level await", "const v = await Promise.resolve(7)\nexport const code = () => v", "", `7`},
		{"unicode round trip", "inputs.s + '✓'", `{"s":"héllo 🌍"}`, `"héllo 🌍✓"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sameJSON(t, mustOutput(t, c.src, c.input), c.want)
		})
	}
}

func TestAsync(t *testing.T) {
	cases := []struct {
		name, src, want string
	}{
		{"promise chain", "Promise.resolve(1).then(x => x + 1).then(x => x * 10)", `20`},
		{"async await chain", `(async () => {
			const double = async x => { await null; return x * 2 };
			let v = 1;
			for (let i = 0; i < 5; i++) v = await double(v);
			return v;
		})()`, `32`},
		{"setTimeout ordering by delay", `new Promise(r => {
			const o = [];
			setTimeout(() => o.push(3), 30);
			setTimeout(() => o.push(1), 0);
			setTimeout(() => o.push(2), 10);
			setTimeout(() => r(o), 60);
		})`, `[1,2,3]`},
		{"equal delays fire in registration order", `new Promise(r => {
			const o = [];
			for (const c of "abcde") setTimeout(() => o.push(c), 5);
			setTimeout(() => r(o.join("")), 20);
		})`, `"abcde"`},
		{"setTimeout passes arguments", "new Promise(r => setTimeout((a, b) => r(a + b), 0, 2, 3))", `5`},
		{"setInterval and clearInterval", `new Promise(r => {
			let n = 0;
			const id = setInterval(() => { if (++n === 5) clearInterval(id) }, 2);
			setTimeout(() => r(n), 60);
		})`, `5`},
		{"clearTimeout cancels", `new Promise(r => {
			let fired = false;
			const id = setTimeout(() => { fired = true }, 5);
			clearTimeout(id);
			setTimeout(() => r(fired), 30);
		})`, `false`},
		{"clearTimeout of an unknown id is harmless", "clearTimeout(12345); clearInterval('x'); 'ok'", `"ok"`},
		{"queueMicrotask before timers", `new Promise(r => {
			const o = ["sync"];
			setTimeout(() => { o.push("timeout"); r(o) }, 0);
			queueMicrotask(() => o.push("micro"));
			Promise.resolve().then(() => o.push("promise"));
			o.push("sync2");
		})`, `["sync","sync2","micro","promise","timeout"]`},
		{"microtasks run between timers", `new Promise(r => {
			const o = [];
			setTimeout(() => { o.push("t1"); Promise.resolve().then(() => o.push("m1")) }, 0);
			setTimeout(() => { o.push("t2"); r(o) }, 0);
		})`, `["t1","m1","t2"]`},
		{"await a timer", `(async () => {
			await new Promise(r => setTimeout(r, 20));
			return "woke";
		})()`, `"woke"`},
		{"nested timers", `new Promise(r => setTimeout(() => setTimeout(() => setTimeout(() => r("deep"), 1), 1), 1))`, `"deep"`},
		{"timers pending after the result never run", "setTimeout(() => { for (;;) {} }, 0); setInterval(() => {}, 1); 'early'", `"early"`},
		{"rejection caught by the step", `Promise.reject(new Error("no")).catch(e => e.message)`, `"no"`},
		{"Promise.all and allSettled", `Promise.allSettled([Promise.resolve(1), Promise.reject(2)]).then(r => r.map(x => x.status))`, `["fulfilled","rejected"]`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sameJSON(t, mustOutput(t, c.src, ""), c.want)
		})
	}
}

// An interval re-arming itself is one timer, not a new one per tick: with
// MaxTimers 10 it must still tick 150 times.
func TestIntervalTicksAreNotNewTimers(t *testing.T) {
	res, err := runStep(t, `new Promise(r => {
		let n = 0;
		const id = setInterval(() => { if (++n === 150) { clearInterval(id); r(n) } }, 0);
	})`, "", step.Limits{MaxTimers: 10}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	sameJSON(t, string(res.Output), `150`)
	if res.Usage.TimersDropped != 0 {
		t.Errorf("TimersDropped = %d, want 0", res.Usage.TimersDropped)
	}
}

// A step's uncaught rejection, after an await, is reported like a throw.
func TestAsyncRejection(t *testing.T) {
	_, err := runStep(t, "export const code = async () => { await null; throw new RangeError('late') }", "", step.Limits{}, Options{})
	se := wantCode(t, err, step.CodeStepThrew)
	if se.Name != "RangeError" || se.Message != "late" {
		t.Errorf("got %s: %s, want RangeError: late", se.Name, se.Message)
	}
}

func TestWorkflowStepOutput(t *testing.T) {
	src, want := workflowStep(t)
	res, err := runStep(t, src, "", step.Limits{}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got string
	if err := json.Unmarshal(res.Output, &got); err != nil {
		t.Fatalf("output is not a JSON string: %v", err)
	}
	if got != want {
		t.Fatalf("workflow output differs from testdata/workflow-step.expected.json:\n got  %.200s\n want %.200s", got, want)
	}
}

// workflowStep returns the peers' workflow step and its expected completion
// value, byte for byte.
func workflowStep(t testing.TB) (src, want string) {
	t.Helper()
	s, err := os.ReadFile("testdata/workflow-step.js")
	if err != nil {
		t.Fatal(err)
	}
	w, err := os.ReadFile("testdata/workflow-step.expected.json")
	if err != nil {
		t.Fatal(err)
	}
	return string(s), string(w)
}

// Every error code the isolate returns, with its exit code.
func TestErrorCodes(t *testing.T) {
	cases := []struct {
		name  string
		src   string
		input string
		lim   step.Limits
		code  step.Code
		exit  int
		check func(t *testing.T, e *step.Error)
	}{
		{name: "cpu limit", src: "while (true) {}", lim: step.Limits{CPUTime: 200 * time.Millisecond},
			code: step.CodeCPULimit, exit: 124, check: func(t *testing.T, e *step.Error) {
				if e.Message != "CPU time limit exceeded" {
					t.Errorf("message = %q", e.Message)
				}
			}},
		{name: "wall-clock timeout while waiting", src: "export default async () => { await new Promise(r => setTimeout(r, 10000)) }",
			lim: step.Limits{Timeout: 200 * time.Millisecond}, code: step.CodeTimeout, exit: 5},
		{name: "wall-clock timeout while computing", src: "while (true) {}",
			lim: step.Limits{Timeout: 200 * time.Millisecond, CPUTime: 20 * time.Second}, code: step.CodeTimeout, exit: 5},
		{name: "memory limit", src: "'x'.repeat(2 ** 29).length", lim: step.Limits{MemoryBytes: 32 << 20},
			code: step.CodeMemoryLimit, exit: 3},
		{name: "output payload too large", src: "'x'.repeat(5e6)", code: step.CodePayloadTooLarge, exit: 4},
		{name: "syntax error", src: "const a = 1;\nconst b = a +;\n", code: step.CodeSyntax, exit: 1,
			check: func(t *testing.T, e *step.Error) {
				if e.Line != 2 || e.Column != 14 || e.Name != "SyntaxError" {
					t.Errorf("got %s at %d:%d, want SyntaxError at 2:14", e.Name, e.Line, e.Column)
				}
			}},
		{name: "module syntax error", src: "export const code = () => {\n  return 1\n}}\n", code: step.CodeSyntax, exit: 1,
			check: func(t *testing.T, e *step.Error) {
				if e.Line != 3 || e.Column != 2 {
					t.Errorf("got %d:%d, want 3:2", e.Line, e.Column)
				}
			}},
		{name: "thrown error", src: "const x = 1;\nfunction fail() {\n  throw new TypeError('bad ' + x);\n}\nfail();\n",
			code: step.CodeStepThrew, exit: 1, check: func(t *testing.T, e *step.Error) {
				if e.Name != "TypeError" || e.Message != "bad 1" {
					t.Errorf("got %s: %s", e.Name, e.Message)
				}
				for _, frame := range []string{"at fail (step.js:3:", "step.js:5:1"} {
					if !strings.Contains(e.Stack, frame) {
						t.Errorf("stack %q lacks %q", e.Stack, frame)
					}
				}
				if strings.Contains(e.Stack, "<airlock>") {
					t.Errorf("stack %q shows the prelude", e.Stack)
				}
			}},
		{name: "thrown error in module", src: "export async function code(inputs) {\n  await null;\n  return helper(inputs);\n}\nfunction helper(i) {\n  return i.missing.field;\n}\n",
			input: `{}`, code: step.CodeStepThrew, exit: 1, check: func(t *testing.T, e *step.Error) {
				if e.Name != "TypeError" || !strings.Contains(e.Stack, "at helper (step.js:6:") || !strings.Contains(e.Stack, "at code (step.js:3:") {
					t.Errorf("got %s: %s\n%s", e.Name, e.Message, e.Stack)
				}
			}},
		{name: "thrown non-error", src: "throw 42", code: step.CodeStepThrew, exit: 1,
			check: func(t *testing.T, e *step.Error) {
				if e.Message != "Uncaught 42" {
					t.Errorf("message = %q", e.Message)
				}
			}},
		{name: "thrown null", src: "throw null", code: step.CodeStepThrew, exit: 1},
		{name: "thrown object whose getters throw", src: "throw {get name() { throw 1 }, message: 'm'}",
			code: step.CodeStepThrew, exit: 1, check: func(t *testing.T, e *step.Error) {
				if e.Message != "uncaught exception that could not be described" {
					t.Errorf("message = %q", e.Message)
				}
			}},
		{name: "thrown object whose getter loops", src: "throw {name: 'n', get message() { while (true) {} }}",
			lim: step.Limits{CPUTime: 200 * time.Millisecond}, code: step.CodeCPULimit, exit: 124},
		{name: "module without code or default", src: "export const other = () => 1", code: step.CodeBadStep, exit: 1},
		{name: "module default not a function", src: "export default 5", code: step.CodeBadStep, exit: 1},
		{name: "BigInt result", src: "10n", code: step.CodeBadStep, exit: 1},
		{name: "circular result", src: "const a = {}; a.self = a; a", code: step.CodeBadStep, exit: 1},
		{name: "toJSON throws", src: "({toJSON() { throw new Error('nope') }})", code: step.CodeBadStep, exit: 1},
		{name: "never-settling promise", src: "new Promise(() => {})", code: step.CodeBadStep, exit: 1},
		{name: "never-settling async module", src: "export const code = async () => { await new Promise(() => {}) }", code: step.CodeBadStep, exit: 1},
		{name: "import of a host module", src: "import fs from 'fs'\nexport default () => fs", code: step.CodeStepThrew, exit: 1,
			check: func(t *testing.T, e *step.Error) {
				if !strings.Contains(e.Message, "could not load module") {
					t.Errorf("message = %q", e.Message)
				}
			}},
		{name: "input not JSON", src: "1", input: "{nope", code: step.CodeInvalidConfig, exit: 8},
		{name: "limits out of range", src: "1", lim: step.Limits{MaxPayloadBytes: 10}, code: step.CodeInvalidConfig, exit: 8},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			res, err := runStep(t, c.src, c.input, c.lim, Options{})
			if elapsed := time.Since(start); elapsed > 10*time.Second {
				t.Errorf("took %v", elapsed)
			}
			if err == nil {
				t.Fatalf("succeeded with %s, want %s", res.Output, c.code)
			}
			se := wantCode(t, err, c.code)
			if got := step.ExitCode(se.Code); got != c.exit {
				t.Errorf("exit code = %d, want %d", got, c.exit)
			}
			if !errors.Is(err, &step.Error{Code: c.code}) {
				t.Errorf("errors.Is(err, code %s) = false", c.code)
			}
			if c.check != nil {
				c.check(t, se)
			}
		})
	}
}

func TestContextCancellation(t *testing.T) {
	e := testEngine(t)
	t.Run("while computing", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(100*time.Millisecond, cancel)
		start := time.Now()
		_, err := e.Run(ctx, step.Step{Source: "while (true) {}"}, step.Limits{}, Options{})
		wantCode(t, err, step.CodeTimeout)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("errors.Is(err, context.Canceled) = false: %v", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("stopped after %v", d)
		}
	})
	t.Run("while waiting", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(100*time.Millisecond, cancel)
		_, err := e.Run(ctx, step.Step{Source: "new Promise(r => setTimeout(r, 20000))"}, step.Limits{}, Options{})
		wantCode(t, err, step.CodeTimeout)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("errors.Is(err, context.Canceled) = false: %v", err)
		}
	})
	t.Run("before start", func(t *testing.T) {
		for range 20 {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			_, err := e.Run(ctx, step.Step{Source: "while (true) {}"}, step.Limits{}, Options{})
			wantCode(t, err, step.CodeTimeout)
		}
	})
	t.Run("deadline", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		_, err := e.Run(ctx, step.Step{Source: "while (true) {}"}, step.Limits{}, Options{})
		wantCode(t, err, step.CodeTimeout)
	})
	// A cancellation racing the end of a step must never reach the next
	// step on the same (pooled) instance.
	t.Run("late cancel does not reach the next step", func(t *testing.T) {
		for i := range 200 {
			ctx, cancel := context.WithCancel(context.Background())
			go cancel()
			_, _ = e.Run(ctx, step.Step{Source: "let s = 0; for (let i = 0; i < 1000; i++) s += i; s"}, step.Limits{}, Options{})
			res, err := e.Run(context.Background(), step.Step{Source: "let s = 0; for (let i = 0; i < 1000; i++) s += i; s"}, step.Limits{}, Options{})
			if err != nil {
				t.Fatalf("iteration %d: next step failed: %v", i, err)
			}
			sameJSON(t, string(res.Output), "499500")
		}
	})
}

func TestLimitsValidatePayloadRange(t *testing.T) {
	cases := []struct {
		payload int
		ok      bool
	}{
		{0, true}, // default
		{step.MinPayloadBytes - 1, false},
		{step.MinPayloadBytes, true},
		{step.MaxPayloadLimit, true},
		{step.MaxPayloadLimit + 1, false},
		{-1, false},
	}
	for _, c := range cases {
		err := step.Limits{MaxPayloadBytes: c.payload}.Validate()
		if (err == nil) != c.ok {
			t.Errorf("Validate(MaxPayloadBytes %d) = %v, want ok=%v", c.payload, err, c.ok)
		}
		_, runErr := runStep(t, "1", "", step.Limits{MaxPayloadBytes: c.payload}, Options{})
		if c.ok && runErr != nil || !c.ok && step.CodeOf(runErr) != step.CodeInvalidConfig {
			t.Errorf("Run with MaxPayloadBytes %d: %v", c.payload, runErr)
		}
	}
}

func TestClocks(t *testing.T) {
	const src = `(async () => {
		const d0 = Date.now(), p0 = performance.now(), n0 = new Date().getTime();
		let x = 0;
		for (let i = 0; i < 3e6; i++) x += i;
		const d1 = Date.now(), p1 = performance.now();
		await new Promise(r => setTimeout(r, 50));
		const d2 = Date.now(), p2 = performance.now();
		return {d: [d0, d1, d2, n0], p: [p0, p1, p2]};
	})()`
	type clocks struct{ D, P []float64 }
	run := func(t *testing.T, timing Timing) (clocks, time.Time, time.Time) {
		before := time.Now()
		res, err := runStep(t, src, "", step.Limits{}, Options{Timing: timing})
		after := time.Now()
		if err != nil {
			t.Fatal(err)
		}
		var c clocks
		if err := json.Unmarshal(res.Output, &c); err != nil {
			t.Fatal(err)
		}
		return c, before, after
	}
	t.Run("freeze", func(t *testing.T) {
		c, before, after := run(t, TimingFreeze)
		for i, d := range c.D {
			if d != c.D[0] {
				t.Errorf("Date.now() advanced: %v (index %d)", c.D, i)
			}
		}
		for _, p := range c.P {
			if p != c.P[0] {
				t.Errorf("performance.now() advanced: %v", c.P)
			}
		}
		// The frozen time is the real start time, to the millisecond.
		if ms := int64(c.D[0]); ms < before.UnixMilli() || ms > after.UnixMilli() {
			t.Errorf("Date.now() = %d, outside the run [%d, %d]", ms, before.UnixMilli(), after.UnixMilli())
		}
	})
	t.Run("off", func(t *testing.T) {
		c, _, _ := run(t, TimingOff)
		if !(c.P[1] > c.P[0] && c.P[2]-c.P[1] >= 49) {
			t.Errorf("performance.now() did not advance across a busy loop and a 50 ms timer: %v", c.P)
		}
		if c.D[2]-c.D[0] < 49 {
			t.Errorf("Date.now() did not advance across a 50 ms timer: %v", c.D)
		}
	})
}

// Math.random comes from the host CSPRNG, per execution: no two executions
// share a sequence, including the draws made by top-level code.
func TestMathRandomSeededPerExecution(t *testing.T) {
	for _, src := range []string{
		"[Math.random(), Math.random()]",
		"const first = Math.random()\nexport default () => [first, Math.random()]",
	} {
		seen := map[float64]bool{}
		for range 20 {
			var got []float64
			if err := json.Unmarshal([]byte(mustOutput(t, src, "")), &got); err != nil {
				t.Fatal(err)
			}
			for _, r := range got {
				if r < 0 || r >= 1 {
					t.Fatalf("Math.random() = %v, outside [0, 1)", r)
				}
				if seen[r] {
					t.Fatalf("%q: value %v repeated across executions", src, r)
				}
				seen[r] = true
			}
		}
	}
	// The generator is not degenerate: the mean of 10,000 draws is near 1/2
	// (its standard deviation is 0.003) and the draws are distinct.
	out := mustOutput(t, `let s = 0; const seen = new Set();
		for (let i = 0; i < 1e4; i++) { const r = Math.random(); s += r; seen.add(r) }
		[s / 1e4, seen.size]`, "")
	var stats []float64
	if err := json.Unmarshal([]byte(out), &stats); err != nil {
		t.Fatal(err)
	}
	if stats[0] < 0.47 || stats[0] > 0.53 || stats[1] != 1e4 {
		t.Errorf("mean %v, distinct %v of 10000", stats[0], stats[1])
	}
}

// The global object holds exactly these names. A new name (an engine
// upgrade, a prelude change) must be reviewed and added here.
var allowedGlobals = []string{
	"AggregateError", "Array", "ArrayBuffer", "AsyncDisposableStack", "BigInt", "BigInt64Array",
	"BigUint64Array", "Boolean", "DOMException", "DataView", "Date", "DisposableStack", "Error",
	"EvalError", "FinalizationRegistry", "Float16Array", "Float32Array", "Float64Array", "Function",
	"Infinity", "Int16Array", "Int32Array", "Int8Array", "InternalError", "Iterator", "JSON", "Map",
	"Math", "NaN", "Number", "Object", "Promise", "Proxy", "RangeError", "ReferenceError", "Reflect",
	"RegExp", "Set", "String", "SuppressedError", "Symbol", "SyntaxError", "TypeError", "URIError",
	"Uint16Array", "Uint32Array", "Uint8Array", "Uint8ClampedArray", "WeakMap", "WeakRef", "WeakSet",
	"atob", "btoa", "clearInterval", "clearTimeout", "console", "decodeURI", "decodeURIComponent",
	"encodeURI", "encodeURIComponent", "escape", "eval", "globalThis", "inputs", "isFinite", "isNaN",
	"parseFloat", "parseInt", "performance", "queueMicrotask", "setInterval", "setTimeout",
	"undefined", "unescape",
}

func TestGlobalAllowList(t *testing.T) {
	var got []string
	if err := json.Unmarshal([]byte(mustOutput(t, "Object.getOwnPropertyNames(globalThis)", "")), &got); err != nil {
		t.Fatal(err)
	}
	sort.Strings(got)
	want := append([]string(nil), allowedGlobals...)
	sort.Strings(want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("globals differ from the allow-list\n got  %q\n want %q", got, want)
	}
	// Symbols on the global object.
	sameJSON(t, mustOutput(t, "Object.getOwnPropertySymbols(globalThis).map(String)", ""), `["Symbol(Symbol.toStringTag)"]`)
	// Names that must never exist, checked directly too (also through the
	// prototype chain).
	for _, name := range []string{"SharedArrayBuffer", "Atomics", "WebAssembly", "require", "process", "std", "os",
		"module", "exports", "Deno", "Bun", "fetch", "XMLHttpRequest", "WebSocket", "Worker", "importScripts",
		"crypto", "navigator", "gc", "print", "scriptArgs", "bjson", "__loadScript"} {
		sameJSON(t, mustOutput(t, fmt.Sprintf("typeof globalThis[%q]", name), ""), `"undefined"`)
	}
	// The module form sees the same globals, minus inputs.
	out := mustOutput(t, "export const code = () => Object.getOwnPropertyNames(globalThis)", "")
	var mod []string
	if err := json.Unmarshal([]byte(out), &mod); err != nil {
		t.Fatal(err)
	}
	sort.Strings(mod)
	var wantMod []string
	for _, n := range want {
		if n != "inputs" {
			wantMod = append(wantMod, n)
		}
	}
	if !reflect.DeepEqual(mod, wantMod) {
		t.Errorf("module globals differ\n got  %q\n want %q", mod, wantMod)
	}
}

func TestLogsStreamInOrder(t *testing.T) {
	var lines []step.LogLine
	res, err := runStep(t, `
		console.log("a", 1, {b: 2}, [1], null, undefined, true);
		console.info("i");
		console.warn("w");
		console.error(new Error("e").message);
		console.debug("d");
		console.trace("t");
		"done"`, "", step.Limits{}, Options{Logs: func(l step.LogLine) { lines = append(lines, l) }})
	if err != nil {
		t.Fatal(err)
	}
	want := []step.LogLine{
		{Stream: step.StreamLog, Text: `a 1 {"b":2} [1] null undefined true`},
		{Stream: step.StreamInfo, Text: "i"},
		{Stream: step.StreamWarn, Text: "w"},
		{Stream: step.StreamError, Text: "e"},
		{Stream: step.StreamDebug, Text: "d"},
		{Stream: step.StreamDebug, Text: "t"},
	}
	if !reflect.DeepEqual(lines, want) {
		t.Errorf("lines = %q\nwant    %q", lines, want)
	}
	var n int64
	for _, l := range want {
		n += int64(len(l.Text))
	}
	if res.Usage.LogBytes != n || res.Usage.LogBytesDropped != 0 {
		t.Errorf("LogBytes %d dropped %d, want %d and 0", res.Usage.LogBytes, res.Usage.LogBytesDropped, n)
	}
}

// Logs reach the sink while the step is still running: the step below only
// ends when the test cancels it, which it does after the first line arrives.
func TestLogsStreamAsTheyHappen(t *testing.T) {
	got := make(chan step.LogLine, 4)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := testEngine(t).Run(ctx, step.Step{Source: `(async () => {
			console.log("before");
			await new Promise(r => setTimeout(r, 30000));
			console.log("after");
		})()`}, step.Limits{}, Options{Logs: func(l step.LogLine) { got <- l }})
		done <- err
	}()
	select {
	case l := <-got:
		if l.Text != "before" {
			t.Errorf("first line %q", l.Text)
		}
	case err := <-done:
		t.Fatalf("step ended (%v) before its first log line arrived", err)
	case <-time.After(10 * time.Second):
		t.Fatal("no log line while the step was running")
	}
	cancel()
	wantCode(t, <-done, step.CodeTimeout)
	select {
	case l := <-got:
		t.Errorf("unexpected line %q", l.Text)
	default:
	}
}

func TestLogLimitAccounting(t *testing.T) {
	var delivered int64
	res, err := runStep(t, `
		console.log("a".repeat(60));
		console.log("b".repeat(60)); // 40 bytes left: dropped whole
		console.log("c".repeat(40)); // fits exactly
		console.log("d");            // nothing left
		"ok"`, "", step.Limits{MaxLogBytes: 100}, Options{Logs: func(l step.LogLine) { delivered += int64(len(l.Text)) }})
	if err != nil {
		t.Fatal(err)
	}
	if res.Usage.LogBytes != 100 || delivered != 100 || res.Usage.LogBytesDropped != 61 {
		t.Errorf("LogBytes %d, delivered %d, dropped %d; want 100, 100, 61", res.Usage.LogBytes, delivered, res.Usage.LogBytesDropped)
	}
}

// State set by one step is never visible to the next, although the engine
// reuses pooled instances.
func TestGlobalPollutionDoesNotCarryOver(t *testing.T) {
	const limit = 40 << 20 // a pool of its own
	pollute := []string{
		`globalThis.x = 1; var leakedVar = 2; leaked2 = 3;
		Object.prototype.polluted = "yes";
		Array.prototype.push = function () { return "hacked" };
		JSON.parse = () => "hacked";
		Math.random = () => 0.5;
		String.prototype.trim = () => "hacked";
		Object.defineProperty(globalThis, "undefinedTrap", {get() { return "hacked" }, configurable: false});
		Promise.prototype.then = function () { return "hacked" };
		console.log = () => { throw new Error("hacked") };
		globalThis.setTimeout = null;
		delete globalThis.Map;
		Object.freeze(Object.prototype);
		"polluted"`,
		`export const code = () => {
			globalThis.x = 1;
			Object.prototype.polluted = "yes";
			Array.prototype.push = () => "hacked";
			Symbol.prototype.toString = () => "hacked";
			Error.prepareStackTrace = () => "hacked";
			return "polluted";
		}`,
	}
	const check = `[
		typeof x, typeof leakedVar, typeof leaked2, ({}).polluted === undefined, [].push(1),
		JSON.parse("1"), Math.random() !== 0.5, " a ".trim(), typeof undefinedTrap,
		typeof Promise.resolve().then, typeof setTimeout, typeof Map, Object.isFrozen(Object.prototype),
		Symbol("s").toString(), (() => { try { null.x } catch (e) { return typeof e.stack } })()
	]`
	const want = `["undefined","undefined","undefined",true,1,1,true,"a","undefined","function","function","function",false,"Symbol(s)","string"]`
	e := testEngine(t)
	p := e.pool(limit)
	reused := 0
	for i := range 30 {
		src := pollute[i%len(pollute)]
		res, err := e.Run(context.Background(), step.Step{Source: src}, step.Limits{MemoryBytes: limit}, Options{Logs: func(step.LogLine) {}})
		if err != nil {
			t.Fatalf("polluting step: %v", err)
		}
		sameJSON(t, string(res.Output), `"polluted"`)
		if p.idle.len() > 0 {
			reused++
		}
		res, err = e.Run(context.Background(), step.Step{Source: check}, step.Limits{MemoryBytes: limit}, Options{})
		if err != nil {
			t.Fatalf("checking step: %v", err)
		}
		sameJSON(t, string(res.Output), want)
	}
	if reused == 0 {
		t.Error("the instance pool was never reused: this test did not exercise reuse")
	}
}

// Many steps run at once, each with its own secret; none sees another's,
// nor anything left from a previous step.
func TestConcurrentStepsCannotReadEachOther(t *testing.T) {
	const src = `(async () => {
		const clean = typeof globalThis.secret === "undefined" && ({}).leak === undefined;
		globalThis.secret = inputs.secret;
		Object.prototype.leak = inputs.secret;
		await new Promise(r => setTimeout(r, inputs.delay));
		let x = 0;
		for (let i = 0; i < 1e4; i++) x += i;
		return {clean, secret: globalThis.secret, leak: ({}).leak};
	})()`
	e := testEngine(t)
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 12 {
				secret := fmt.Sprintf("secret-%d-%d", g, i)
				in := fmt.Sprintf(`{"secret":%q,"delay":%d}`, secret, (g+i)%4)
				res, err := e.Run(context.Background(), step.Step{Source: src, Input: json.RawMessage(in)}, step.Limits{}, Options{})
				if err != nil {
					errs <- err
					return
				}
				var got struct {
					Clean        bool
					Secret, Leak string
				}
				if err := json.Unmarshal(res.Output, &got); err != nil {
					errs <- err
					return
				}
				if !got.Clean || got.Secret != secret || got.Leak != secret {
					errs <- fmt.Errorf("step with %s saw %+v", secret, got)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// Firing timers does not grow the step's heap: each firing's handles are
// freed. 5,000 timers in a chain end at the same peak memory as 10.
func TestTimerChurnDoesNotGrowHeap(t *testing.T) {
	const chain = "let n = 0; new Promise(r => { const f = () => ++n === %d ? r(n) : setTimeout(f, 0); f() })"
	peak := func(n int) int64 {
		res, err := runStep(t, fmt.Sprintf(chain, n), "", step.Limits{}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		sameJSON(t, string(res.Output), fmt.Sprint(n))
		return res.Usage.PeakMemoryBytes
	}
	if small, big := peak(10), peak(5000); big > small {
		t.Errorf("peak linear memory %d after 5000 timers, %d after 10", big, small)
	}
}

// Logging does not grow the step's heap, whether the lines are delivered
// or dropped over the limit: each call's text is freed.
func TestLoggingDoesNotGrowHeap(t *testing.T) {
	const logs = "for (let i = 0; i < %d; i++) console.log('x'.repeat(100) + i); 1"
	peak := func(n int) int64 {
		res, err := runStep(t, fmt.Sprintf(logs, n), "", step.Limits{MaxLogBytes: 1 << 20}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		return res.Usage.PeakMemoryBytes
	}
	if small, big := peak(10), peak(20000); big > small {
		t.Errorf("peak linear memory %d after 20000 console.log calls, %d after 10", big, small)
	}
}
