package isolate

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/airlockhq/airlock/internal/step"
)

// Tests named after the attack they stop. Timing checks are only generous
// upper bounds proving that a stop happened; the measured latencies are
// logged (go test -v -run 'Attack|Stop' ./internal/isolate/).

// rssBytes is the process's resident set size.
func rssBytes(t testing.TB) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		t.Skipf("no /proc/self/statm: %v", err)
	}
	f := strings.Fields(string(b))
	pages, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return pages * int64(os.Getpagesize())
}

func heapAlloc() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// stopsAtCPULimit runs src under a CPU limit and asserts it ends with the
// CPU-limit error within a generous bound; it logs how far past the limit
// the step ran (CPU overrun) and the wall time.
func stopsAtCPULimit(t *testing.T, src string, limit time.Duration) {
	t.Helper()
	start := time.Now()
	res, err := runStep(t, src, "", step.Limits{CPUTime: limit}, Options{})
	wall := time.Since(start)
	se := wantCode(t, err, step.CodeCPULimit)
	if se.Message != step.MsgCPULimit || step.ExitCode(se.Code) != 124 {
		t.Errorf("got %q exit %d", se.Message, step.ExitCode(se.Code))
	}
	if wall > limit+5*time.Second {
		t.Errorf("stopped after %v (wall) for a %v CPU limit", wall, limit)
	}
	if res.Usage.CPUTime < limit {
		t.Errorf("charged %v CPU, under the %v limit it was stopped for", res.Usage.CPUTime, limit)
	}
	t.Logf("CPU limit %v: charged %v (overrun %v), wall %v", limit, res.Usage.CPUTime, res.Usage.CPUTime-limit, wall)
}

// stopLatency runs src, which logs "go" when its long call starts, cancels
// it 100 ms later and returns how long Run took to return after the
// cancellation: from the stop flag being set to the guest's trap and the
// instance's disposal.
func stopLatency(t *testing.T, src string) time.Duration {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	var canceledAt time.Time
	var timer *time.Timer
	logs := func(l step.LogLine) {
		if l.Text == "go" {
			timer = time.AfterFunc(100*time.Millisecond, func() {
				mu.Lock()
				canceledAt = time.Now()
				mu.Unlock()
				cancel()
			})
		}
	}
	_, err := testEngine(t).Run(ctx, step.Step{Source: src}, step.Limits{CPUTime: 30 * time.Second}, Options{Logs: logs})
	returned := time.Now()
	if timer != nil {
		timer.Stop()
	}
	wantCode(t, err, step.CodeTimeout)
	mu.Lock()
	defer mu.Unlock()
	if canceledAt.IsZero() {
		t.Fatal("returned before it was canceled")
	}
	d := returned.Sub(canceledAt)
	if d > 5*time.Second {
		t.Errorf("returned %v after cancellation", d)
	}
	return d
}

func TestInfiniteLoopStopsAtCPULimit(t *testing.T) {
	cases := []struct{ name, src string }{
		{"while true", "while (true) {}"},
		{"for ever", "for (;;) {}"},
		{"do while", "let i = 0; do { i++ } while (true)"},
		{"async loop after await", "(async () => { await null; while (true) {} })()"},
		{"module loop after awaiting a timer", "export const code = async () => { await new Promise(r => setTimeout(r, 10)); for (;;) {} }"},
		{"loop in a timer callback", "setTimeout(() => { while (true) {} }, 0); new Promise(() => {})"},
		{"loop in a microtask", "queueMicrotask(() => { for (;;) {} }); 1"},
		{"loop in an interval", "let n = 0; setInterval(() => { if (++n > 3) for (;;) {} }, 1); new Promise(() => {})"},
		{"catch and resume", "for (;;) { try { for (;;) {} } catch (e) {} }"},
		{"finally that loops", "try { for (;;) {} } finally { for (;;) {} }"},
		{"generator loop", "function* g() { for (;;) yield 1 } for (const _ of g()) {}"},
		{"loop in a getter during serialization", "({get x() { for (;;) {} }})"},
		{"loop in toJSON", "({toJSON() { for (;;) {} }})"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { stopsAtCPULimit(t, c.src, 200*time.Millisecond) })
	}
}

// Long single native calls: none of them polls QuickJS's interrupt handler
// for its whole duration, and the stack-trace hooks try to swallow the
// interrupt. The stop flag traps them all at the CPU limit. Each step logs
// "go" after its (short) setup and "after" if the call ever returns, which
// proves the limit struck inside the call.
func TestLongNativeCallsStopAtCPULimit(t *testing.T) {
	cases := []struct{ name, setup, call string }{
		{"catastrophic regex", "", "/(a+)+$/.test('a'.repeat(40) + '!')"},
		{"catastrophic regex in replace", "", "('a'.repeat(40) + '!').replace(/^(a|a)*$/, 'x')"},
		{"huge sort with a comparator", "const a = []; for (let i = 0; i < 5e5; i++) a.push((i * 7919) % 5e5)", "a.sort((x, y) => x - y)"},
		{"huge default sort", "const a = []; for (let i = 0; i < 5e5; i++) a.push((i * 7919) % 5e5)", "a.sort()"},
		{"join of a huge sparse array", "const a = new Array(1e8)", "a.join()"},
		{"quadratic indexOf on big strings", "const h = 'a'.repeat(2e6), n = 'a'.repeat(1e6) + 'b'", "h.indexOf(n)"},
		{"quadratic lastIndexOf on big strings", "const h = 'a'.repeat(2e6), n = 'a'.repeat(1e6) + 'b'", "h.lastIndexOf(n)"},
		{"quadratic includes on big strings", "const h = 'ab'.repeat(1e6), n = 'ab'.repeat(5e5) + 'c'", "h.includes(n)"},
		{"deep JSON.stringify", "let o = {}; for (let i = 0; i < 1e5; i++) o = {o}", "JSON.stringify(o)"},
		{"toJSON that nests forever", "", "JSON.stringify({toJSON() { return [this] }})"},
		{"prepareStackTrace loops on the interrupt", "Error.prepareStackTrace = () => { while (true) {} }", "while (true) {}"},
		{"prepareStackTrace loops on any error", "Error.prepareStackTrace = (e, f) => { for (;;) {} }", "null.x"},
		{"prepareStackTrace throws and catches forever", "Error.prepareStackTrace = function () { for (;;) { try { null.f() } catch (e) {} } }", "for (;;) {}"},
		{"stack getter that loops", "const e = new Error('x'); Object.defineProperty(e, 'stack', {get() { for (;;) {} }})", "(() => { throw e })()"},
		{"captureStackTrace in a loop", "const o = {}", "for (;;) { try { Error.captureStackTrace(o); throw o } catch (e) {} }"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := c.setup + ";\nconsole.log('go');\n" + c.call + ";\nconsole.log('after');"
			const limit = 300 * time.Millisecond
			var lines []string
			start := time.Now()
			res, err := runStep(t, src, "", step.Limits{CPUTime: limit}, Options{Logs: func(l step.LogLine) { lines = append(lines, l.Text) }})
			wall := time.Since(start)
			se := wantCode(t, err, step.CodeCPULimit)
			if se.Message != step.MsgCPULimit || step.ExitCode(se.Code) != 124 {
				t.Errorf("got %q exit %d", se.Message, step.ExitCode(se.Code))
			}
			if len(lines) != 1 || lines[0] != "go" {
				t.Errorf("logged %q, want only \"go\": the limit did not strike inside the call", lines)
			}
			if wall > limit+5*time.Second {
				t.Errorf("stopped after %v (wall)", wall)
			}
			t.Logf("CPU limit %v: charged %v (overrun %v), wall %v", limit, res.Usage.CPUTime, res.Usage.CPUTime-limit, wall)
			t.Logf("stop latency, cancelled 100 ms into the call: %v", stopLatency(t, src))
		})
	}
}

func TestAllocationBombsHitMemoryLimit(t *testing.T) {
	const limit = 32 << 20
	cases := []struct{ name, src string }{
		{"push loop", "const a = []; while (true) a.push({x: 1})"},
		{"new Array(1e8).fill", "new Array(1e8).fill(0).length"},
		{"repeat 2**29", "'x'.repeat(2 ** 29).length"},
		{"string doubling, flattened", "let s = 'x'; while (true) { s = s + s; s.indexOf('y') }"},
		{"string doubling, upper-cased", "let s = 'x'; while (true) s = (s + s).toUpperCase()"},
		{"huge ArrayBuffer", "new ArrayBuffer(2 ** 30).byteLength"},
		{"typed array loop", "const a = []; while (true) a.push(new Uint8Array(1 << 20))"},
		{"map of objects", "const m = new Map(); for (let i = 0; ; i++) m.set(i, {i})"},
		{"retained pending promises", "const a = []; for (;;) a.push(new Promise(() => {}))"},
		{"nested proxies", "let p = new Proxy({}, {}); for (let i = 0; i < 1e7; i++) p = new Proxy(p, {}); 1"},
		{"giant source via eval", "eval('1+'.repeat(1e7) + '1')"},
		{"array of strings", "const a = []; for (let i = 0; ; i++) a.push('k' + i)"},
		{"object with a million keys", "const o = {}; for (let i = 0; i < 1e6; i++) o['k' + i] = i; Object.keys(o).length"},
	}
	next := func(t *testing.T) {
		t.Helper()
		res, err := runStep(t, "const a = []; for (let i = 0; i < 1e4; i++) a.push(i); a.length", "", step.Limits{MemoryBytes: limit}, Options{})
		if err != nil {
			t.Fatalf("next step after the bomb: %v", err)
		}
		sameJSON(t, string(res.Output), "10000")
	}
	next(t)
	rss0, heap0 := rssBytes(t), heapAlloc()
	for round := range 3 {
		for _, c := range cases {
			t.Run(fmt.Sprintf("%s/%d", c.name, round), func(t *testing.T) {
				start := time.Now()
				res, err := runStep(t, c.src, "", step.Limits{MemoryBytes: limit}, Options{})
				wantCode(t, err, step.CodeMemoryLimit)
				if d := time.Since(start); d > 10*time.Second {
					t.Errorf("took %v", d)
				}
				if res.Usage.PeakMemoryBytes > limit {
					t.Errorf("peak linear memory %d over the %d limit", res.Usage.PeakMemoryBytes, limit)
				}
				if round == 0 {
					t.Logf("stopped after %v CPU, peak linear memory %.1f MiB", res.Usage.CPUTime, float64(res.Usage.PeakMemoryBytes)/(1<<20))
				}
				next(t)
			})
		}
	}
	// 36 bombs of 32 MiB each: the host must not keep their memory.
	rss1, heap1 := rssBytes(t), heapAlloc()
	t.Logf("after %d bombs: RSS %+.1f MiB (now %.1f MiB), Go heap %+.1f MiB", 3*len(cases),
		float64(rss1-rss0)/(1<<20), float64(rss1)/(1<<20), (float64(heap1)-float64(heap0))/(1<<20))
	if rss1-rss0 > 256<<20 {
		t.Errorf("RSS grew by %d MiB across the bombs", (rss1-rss0)>>20)
	}
	if heap1 > heap0+64<<20 {
		t.Errorf("Go heap grew from %d to %d MiB", heap0>>20, heap1>>20)
	}
}

// String doubling by concatenation builds ropes that use no memory; QuickJS
// stops them at its maximum string length with a catchable error.
func TestStringDoublingRopeIsBounded(t *testing.T) {
	_, err := runStep(t, "let s = 'x'; while (true) s += s", "", step.Limits{MemoryBytes: 32 << 20}, Options{})
	se := wantCode(t, err, step.CodeStepThrew)
	if se.Name != "InternalError" || se.Message != "string too long" {
		t.Errorf("got %s: %s", se.Name, se.Message)
	}
	sameJSON(t, mustOutput(t, "let s = 'x'; try { while (true) s += s } catch (e) { s = e.message } s", ""), `"string too long"`)
}

func TestRecursionThrowsCatchableRangeError(t *testing.T) {
	cases := []struct{ name, src string }{
		{"plain", "function f() { f() } f()"},
		{"with arguments", "function f(n) { return [f(n + 1)] } f(0)"},
		{"getter", "const o = {get x() { return this.x }}; o.x"},
		{"toString", "const o = {toString() { return String(this) }}; String(o)"},
		{"proxy trap", "const p = new Proxy({}, {get(t, k, r) { return r[k] }}); p.x"},
		{"async", "async function f() { await f() } f()"},
		{"parser, nested parentheses", "new Function('return ' + '('.repeat(1e5) + '1' + ')'.repeat(1e5))()"},
		{"JSON.parse deep arrays", "JSON.parse('['.repeat(1e6))"},
		{"JSON.parse deep objects", `JSON.parse('{"a":'.repeat(1e5))`},
		{"regexp with deep groups", "new RegExp('(?:'.repeat(1e5) + ')'.repeat(1e5)).test('')"},
	}
	for _, c := range cases {
		t.Run(c.name+"/uncaught", func(t *testing.T) {
			_, err := runStep(t, c.src, "", step.Limits{}, Options{})
			se := wantCode(t, err, step.CodeStepThrew)
			if se.Name != "RangeError" && !(se.Name == "SyntaxError" && strings.Contains(se.Message, "stack")) {
				t.Errorf("got %s: %s, want RangeError", se.Name, se.Message)
			}
		})
		t.Run(c.name+"/caught", func(t *testing.T) {
			src := "let r; try { r = eval(" + strconv.Quote(c.src) + ") } catch (e) { r = e.name } " +
				"function g(n) { return n ? g(n - 1) + 1 : 0 } Promise.resolve(r).catch(e => e.name).then(r => [r, g(1000)])"
			out := mustOutput(t, src, "")
			if !strings.Contains(out, "Error\",1000]") {
				t.Errorf("got %s, want [\"RangeError\",1000]", out)
			}
		})
	}
}

func TestDeepJSONIsBounded(t *testing.T) {
	t.Run("parse", func(t *testing.T) {
		_, err := runStep(t, "JSON.parse('['.repeat(1e6))", "", step.Limits{}, Options{})
		if se := wantCode(t, err, step.CodeStepThrew); se.Name != "RangeError" {
			t.Errorf("got %v", se)
		}
	})
	t.Run("stringify", func(t *testing.T) {
		// QuickJS-NG's cycle check makes this quadratic: it ends at the CPU
		// limit, not with a crash.
		stopsAtCPULimit(t, "let o = {}; for (let i = 0; i < 1e5; i++) o = {o}; JSON.stringify(o).length", 300*time.Millisecond)
	})
	t.Run("moderate depth works", func(t *testing.T) {
		sameJSON(t, mustOutput(t, "let o = {}; for (let i = 0; i < 1e3; i++) o = {o}; JSON.stringify(o).length", ""), "6002")
	})
	t.Run("deep input", func(t *testing.T) {
		// The host's JSON check refuses nesting beyond 10,000 levels before
		// anything runs; below that the guest parses it.
		in := strings.Repeat("[", 1e5) + strings.Repeat("]", 1e5)
		_, err := runStep(t, "inputs.length", in, step.Limits{}, Options{})
		wantCode(t, err, step.CodeInvalidConfig)
		in = strings.Repeat("[", 9000) + strings.Repeat("]", 9000)
		res, err := runStep(t, "inputs.length", in, step.Limits{}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		sameJSON(t, string(res.Output), "1")
	})
}

func TestConsoleFloodIsCapped(t *testing.T) {
	heap0 := heapAlloc()
	var delivered, lines int64
	const n = 1_000_000
	start := time.Now()
	res, err := runStep(t, fmt.Sprintf("for (let i = 0; i < %d; i++) console.log('line ' + i); 'done'", n), "",
		step.Limits{CPUTime: 20 * time.Second}, Options{Logs: func(l step.LogLine) { delivered += int64(len(l.Text)); lines++ }})
	t.Logf("%d console.log calls: %v, CPU %v, wall %v, %d lines delivered", n, err, res.Usage.CPUTime, time.Since(start), lines)
	if err != nil {
		// Under the race detector the host side of a million calls may not
		// fit the CPU limit; it must then be that limit and nothing else.
		wantCode(t, err, step.CodeCPULimit)
		return
	}
	u := res.Usage
	if delivered != u.LogBytes || u.LogBytes > step.DefaultLogBytes {
		t.Errorf("delivered %d, LogBytes %d, limit %d", delivered, u.LogBytes, step.DefaultLogBytes)
	}
	var total int64
	for i := range n {
		total += int64(len("line ") + len(strconv.Itoa(i)))
	}
	if u.LogBytes+u.LogBytesDropped != total {
		t.Errorf("LogBytes %d + dropped %d != %d written", u.LogBytes, u.LogBytesDropped, total)
	}
	// Logging does not grow the step's memory (each call's text is freed):
	// the flood peaks where a trivial step does.
	base, err := runStep(t, "1", "", step.Limits{}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if u.PeakMemoryBytes > base.Usage.PeakMemoryBytes {
		t.Errorf("peak linear memory %d after a console flood, %d for a trivial step", u.PeakMemoryBytes, base.Usage.PeakMemoryBytes)
	}
	if h := heapAlloc(); h > heap0+32<<20 {
		t.Errorf("Go heap grew from %d to %d MiB", heap0>>20, h>>20)
	}
}

func TestHugeLogLineIsTruncated(t *testing.T) {
	var got []string
	res, err := runStep(t, "console.log('x'.repeat(1e7)); console.log({k: 'y'.repeat(1e6)}); 1", "", step.Limits{},
		Options{Logs: func(l step.LogLine) { got = append(got, l.Text) }})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("%d lines", len(got))
	}
	for _, l := range got {
		if len(l) > 1<<16+4 || !strings.HasSuffix(l, "…") {
			t.Errorf("line of %d bytes, ending %q", len(l), l[len(l)-8:])
		}
	}
	if res.Usage.LogBytes > 2*(1<<16+4) {
		t.Errorf("LogBytes %d", res.Usage.LogBytes)
	}
}

func TestTimerFloodIsCapped(t *testing.T) {
	res, err := runStep(t, `
		let n = 0, done;
		const p = new Promise(r => { done = r });
		for (let i = 0; i < 20000; i++) setTimeout(() => { if (++n === 10000) done(n) }, 0);
		p`, "", step.Limits{}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	sameJSON(t, string(res.Output), "10000")
	if res.Usage.TimersDropped != 10000 {
		t.Errorf("TimersDropped = %d, want 10000", res.Usage.TimersDropped)
	}
	// Cleared timers still count: the limit is on registrations.
	res, err = runStep(t, "for (let i = 0; i < 150; i++) clearTimeout(setTimeout(() => {}, 1000)); 1", "", step.Limits{MaxTimers: 100}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Usage.TimersDropped != 50 {
		t.Errorf("TimersDropped = %d, want 50", res.Usage.TimersDropped)
	}
}

func TestIntervalFloodEndsAtTimeout(t *testing.T) {
	start := time.Now()
	res, err := runStep(t, "for (let i = 0; i < 20000; i++) setInterval(() => {}, 1); new Promise(() => {})", "",
		step.Limits{Timeout: 1500 * time.Millisecond}, Options{})
	wantCode(t, err, step.CodeTimeout)
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
	if res.Usage.TimersDropped != 10000 {
		t.Errorf("TimersDropped = %d, want 10000", res.Usage.TimersDropped)
	}
}

func TestPromiseFlood(t *testing.T) {
	t.Run("endless microtask chain", func(t *testing.T) {
		stopsAtCPULimit(t, "function f() { Promise.resolve().then(f) } f(); new Promise(() => {})", 200*time.Millisecond)
	})
	t.Run("endless unreferenced promises", func(t *testing.T) {
		stopsAtCPULimit(t, "for (;;) new Promise(() => {})", 200*time.Millisecond)
	})
	const settled = "const ps = []; for (let i = 0; i < %d; i++) ps.push(Promise.resolve(i).then(x => x)); Promise.all(ps).then(a => a.length)"
	t.Run("fifty thousand settled promises", func(t *testing.T) {
		res, err := runStep(t, fmt.Sprintf(settled, 50000), "", step.Limits{}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		sameJSON(t, string(res.Output), "50000")
	})
	for _, mem := range []int64{32 << 20, 128 << 20} {
		t.Run(fmt.Sprintf("a million settled promises in %d MiB", mem>>20), func(t *testing.T) {
			_, err := runStep(t, fmt.Sprintf(settled, 1000000), "", step.Limits{MemoryBytes: mem}, Options{})
			wantCode(t, err, step.CodeMemoryLimit)
		})
	}
	t.Run("retained pending promises", func(t *testing.T) {
		_, err := runStep(t, "const a = []; for (;;) a.push(new Promise(() => {}))", "", step.Limits{MemoryBytes: 32 << 20}, Options{})
		wantCode(t, err, step.CodeMemoryLimit)
	})
}

func TestHugeOutputIsRefused(t *testing.T) {
	cases := []struct {
		name, src string
		lim       step.Limits
	}{
		{"5 MB string, default limit", "'x'.repeat(5e6)", step.Limits{}},
		{"async module", "export default async () => { await null; return {a: 'x'.repeat(5e6)} }", step.Limits{}},
		{"2 KB over a 1 KiB limit", "'x'.repeat(2048)", step.Limits{MaxPayloadBytes: 1 << 10}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := runStep(t, c.src, "", c.lim, Options{})
			wantCode(t, err, step.CodePayloadTooLarge)
			sameJSON(t, mustOutput(t, "'next'", ""), `"next"`)
		})
	}
	// Just under the limit passes: the limit is on the output JSON's bytes.
	res, err := runStep(t, "'x'.repeat(1022)", "", step.Limits{MaxPayloadBytes: 1 << 10}, Options{})
	if err != nil || len(res.Output) != 1024 {
		t.Errorf("1024-byte output under a 1 KiB limit: %d bytes, %v", len(res.Output), err)
	}
	// A huge error message is clipped, not refused.
	_, err = runStep(t, "throw new Error('m'.repeat(5e6))", "", step.Limits{}, Options{})
	if se := wantCode(t, err, step.CodeStepThrew); len(se.Message) > 1<<16+4 {
		t.Errorf("error message of %d bytes", len(se.Message))
	}
}

func TestHugeInputIsRefusedBeforeRunning(t *testing.T) {
	in := []byte(`{"blob":"` + strings.Repeat("x", 5<<20) + `"}`)
	var logged bool
	res, err := testEngine(t).Run(context.Background(), step.Step{Source: "console.log('ran'); 1", Input: in}, step.Limits{},
		Options{Logs: func(step.LogLine) { logged = true }})
	wantCode(t, err, step.CodePayloadTooLarge)
	if logged || res.Usage.CPUTime != 0 {
		t.Errorf("the step ran (logged %v, CPU %v)", logged, res.Usage.CPUTime)
	}
	// At the limit exactly it runs.
	in = bytes.Repeat([]byte(" "), 1<<10)
	copy(in, `"ok"`)
	res, err = testEngine(t).Run(context.Background(), step.Step{Source: "inputs", Input: in}, step.Limits{MaxPayloadBytes: 1 << 10}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	sameJSON(t, string(res.Output), `"ok"`)
	in = append(in, ' ')
	_, err = testEngine(t).Run(context.Background(), step.Step{Source: "inputs", Input: in}, step.Limits{MaxPayloadBytes: 1 << 10}, Options{})
	wantCode(t, err, step.CodePayloadTooLarge)
}

// At the smallest memory limit a step still runs, and the bombs that make
// QuickJS fail to allocate even its own error value (it then throws null
// or an internal "uninitialized" value) are still the memory limit.
func TestMinimumMemoryLimit(t *testing.T) {
	lim := step.Limits{MemoryBytes: step.MinMemoryBytes}
	res, err := runStep(t, "[1, 2, 3].map(x => x * 2)", "", lim, Options{})
	if err != nil {
		t.Fatal(err)
	}
	sameJSON(t, string(res.Output), "[2,4,6]")
	for _, src := range []string{
		"const o = {}; for (let i = 0; i < 1e6; i++) o['k' + i] = i",
		"const a = []; for (;;) a.push({})",
		"const ps = []; for (let i = 0; i < 1e6; i++) ps.push(Promise.resolve(i).then(x => x)); Promise.all(ps)",
	} {
		_, err := runStep(t, src, "", lim, Options{})
		wantCode(t, err, step.CodeMemoryLimit)
	}
	// A step that throws null itself is the step's error, even at the limit.
	_, err = runStep(t, "throw null", "", lim, Options{})
	wantCode(t, err, step.CodeStepThrew)
}
