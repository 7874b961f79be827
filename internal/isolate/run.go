package isolate

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/airlockhq/airlock/internal/step"
)

// Run executes one step in a fresh instance. Every failure is a *step.Error.
//
// The calling goroutine is locked to its OS thread while guest code runs,
// so that the thread's CPU clock measures the step's CPU time; it is
// unlocked while the step waits on timers.
func (e *Engine) Run(ctx context.Context, s step.Step, lim step.Limits, opt Options) (step.Result, error) {
	s, lim, err := step.Prepare(s, lim)
	if err != nil {
		return step.Result{}, err
	}

	v := &vm{e: e, lim: lim, logs: opt.Logs, freeze: opt.Timing == TimingFreeze, wallStart: time.Now(), caps: opt.Capabilities}
	if len(v.caps) > 0 { // the context capability calls run under ends with the step
		var cancelCaps context.CancelFunc
		v.capCtx, cancelCaps = context.WithCancel(ctx)
		defer cancelCaps()
	}
	w := newWatchdog(v, lim)
	defer w.stop()
	if ctx.Done() != nil {
		stopCtx := context.AfterFunc(ctx, func() { v.halt(stopCanceled) })
		defer stopCtx()
	}

	w.resume()
	res, err := v.execute(ctx, s.Source, s.Filename, s.Input, w)
	w.pause()
	v.usage.CPUTime = w.used()
	v.usage.WallTime = time.Since(v.wallStart)
	res.Usage = v.usage
	return res, err
}

func (v *vm) execute(ctx context.Context, src, filename string, input []byte, w *watchdog) (step.Result, error) {
	e := v.e
	vctx := context.WithValue(ctx, vmKey{}, v)
	in, err := e.acquire(vctx, int(v.lim.MemoryBytes))
	if err != nil {
		return step.Result{}, err
	}
	v.haltMu.Lock()
	v.instance = in
	if v.stopReason.Load() != stopNone { // halted before the instance existed
		in.budget.Set(0)
	}
	v.haltMu.Unlock()
	clean := false
	defer func() {
		v.usage.PeakMemoryBytes = int64(in.mem.Size())
		v.detach()
		e.release(in, clean)
	}()
	if err := v.guest(vctx, src, filename, input, w); err != nil {
		return step.Result{}, v.classify(err)
	}
	clean = v.stopReason.Load() == stopNone
	if !v.ok && !clean {
		// Stopped, and QuickJS's own interrupt poll saw it before a loop
		// tick did: its uncatchable "interrupted" error ended the step,
		// which reported it as thrown. The stop is the cause.
		return step.Result{}, v.classify(errors.New("interrupted"))
	}
	if !v.ok {
		err := v.thrown()
		// When QuickJS cannot even allocate the error for an out-of-memory
		// condition it throws null, and some paths an internal
		// "uninitialized" value; or the driver cannot allocate the error's
		// description. With the heap nearly full, that is the memory limit,
		// not the step.
		if se := (*step.Error)(nil); errors.As(err, &se) && se.Code == step.CodeStepThrew &&
			(se.Name == "" && (se.Message == "Uncaught null" || se.Message == "Uncaught [uninitialized]") ||
				se.Message == msgUndescribed) && v.heapExhausted(vctx) {
			return step.Result{}, step.Errorf(step.CodeMemoryLimit, "memory limit of %d bytes exceeded", v.lim.MemoryBytes)
		}
		return step.Result{}, err
	}
	// The prelude serialises with the original JSON.stringify, which user
	// code cannot replace; check anyway, so that even a compromised engine
	// cannot hand callers bytes that are not JSON.
	if !json.Valid(v.payload) {
		return step.Result{}, step.Errorf(step.CodeInternal, "the engine produced output that is not valid JSON")
	}
	return step.Result{Output: json.RawMessage(v.payload)}, nil
}

// guest runs the step to completion: evaluation, then the job queue and
// timers until the driver reports a result.
func (v *vm) guest(ctx context.Context, src, filename string, input []byte, w *watchdog) error {
	heap := uint64(max(v.lim.MemoryBytes-heapHeadroom, v.lim.MemoryBytes/2))
	if _, err := v.callName(ctx, "qjs_set_memory_limit", heap); err != nil {
		return err
	}
	code, err := v.writeBytes(ctx, []byte(src))
	if err != nil {
		return err
	}
	var isModule uint64
	if step.IsModule(src) {
		isModule = 1
	}
	// Seed Math.random from the CSPRNG before any of the step's code runs:
	// top-level code must not see the snapshot's generator state.
	var seed [16]byte
	_, _ = rand.Read(seed[:])
	seedArr, err := v.newString(ctx, fmt.Appendf(nil, "%d,%d,%d,%d",
		int32(binary.LittleEndian.Uint32(seed[0:])), int32(binary.LittleEndian.Uint32(seed[4:])),
		int32(binary.LittleEndian.Uint32(seed[8:])), int32(binary.LittleEndian.Uint32(seed[12:]))))
	if err != nil {
		return err
	}
	if err := v.drive(ctx, drvSeed, seedArr); err != nil {
		return err
	}
	if len(v.caps) > 0 {
		if err := v.drive(ctx, drvGrant); err != nil {
			return err
		}
	}
	inputVal, err := v.newString(ctx, input)
	if err != nil {
		return err
	}
	if isModule == 0 {
		// Scripts see their inputs as the global `inputs`.
		if err := v.drive(ctx, drvInputs, inputVal); err != nil {
			return err
		}
	}
	fname, err := v.writeBytes(ctx, []byte(filename))
	if err != nil {
		return err
	}
	flags := evalGlobal
	if isModule != 0 {
		flags = evalModule
	}
	val, err := v.evalCached(ctx, src, filename, code, fname, flags)
	if err != nil {
		return err
	}
	if err := v.checkException(ctx, val); err != nil || v.done {
		return err
	}
	mod, err := v.newNumber(ctx, float64(isModule))
	if err != nil {
		return err
	}
	if err := v.drive(ctx, drvStart, val, inputVal, mod); err != nil {
		return err
	}
	for {
		if err := v.drainJobs(ctx); err != nil {
			return err
		}
		if v.done {
			return nil
		}
		t := v.timers.next()
		if t == nil && v.capPending == 0 {
			return &step.Error{Code: step.CodeBadStep, Message: "the step's result never settled: no timers or pending work remain"}
		}
		var done *capResult
		select {
		case r := <-v.capDone: // already finished: no need to sleep
			done = &r
		default:
			if t == nil || time.Until(t.deadline) > 0 {
				// Drop the cached engine functions while waiting: each holds
				// wazero's call stack for it (hundreds of KiB in all), which an
				// idle step need not keep. They are looked up again on waking.
				clear(v.fns)
				w.pause()
				r, err := w.sleep(ctx, t, v.capDone)
				w.resume()
				if err != nil {
					return err
				}
				done = r
			}
		}
		if done != nil {
			if err := v.settle(ctx, *done); err != nil {
				return err
			}
			continue
		}
		t = v.timers.pop()
		id, err := v.newNumber(ctx, float64(t.id))
		if err != nil {
			return err
		}
		// While timer t fires, re-arming it (setInterval) is not a new timer.
		v.firing = t.id
		err = v.drive(ctx, drvFire, id)
		v.firing = 0
		if err != nil {
			return err
		}
		// A long-running interval must not grow the heap.
		if err := v.free(ctx, id); err != nil {
			return err
		}
	}
}

// evalCached evaluates the step's source (already in guest memory at code,
// its filename at fname) from the engine's bytecode cache, compiling and
// caching it on a miss. It returns the JSValue* of the result, which may
// be an exception (a syntax error on a miss).
func (v *vm) evalCached(ctx context.Context, src, filename string, code, fname uint32, flags int) (uint32, error) {
	key := codeKey(src, filename, flags == evalModule)
	bc, hit := v.e.code.get(key)
	if hit {
		p, err := v.writeBytes(ctx, bc)
		if err != nil {
			return 0, err
		}
		return v.callName32(ctx, "qjs_eval_bytecode", uint64(p), uint64(len(bc)))
	}
	outLen := v.e.scratch + 40
	p, err := v.callName32(ctx, "qjs_compile", uint64(code), uint64(len(src)), uint64(fname), uint64(flags), 0, uint64(outLen))
	if err != nil {
		return 0, err
	}
	if p == 0 { // a syntax error: let eval produce the exception
		return v.callName32(ctx, "qjs_eval", uint64(code), uint64(len(src)), uint64(fname), uint64(flags))
	}
	n, _ := v.mem.ReadUint32Le(outLen)
	b, ok := v.mem.Read(p, n)
	if !ok {
		return 0, errors.New("bytecode out of guest memory bounds")
	}
	v.e.code.put(key, append([]byte(nil), b...))
	return v.callName32(ctx, "qjs_eval_bytecode", uint64(p), uint64(n))
}

// Driver operations, shared with prelude.js.
const (
	drvStart  = 0 // (value, input, isModule): run the evaluated step
	drvFire   = 1 // (timer id)
	drvFail   = 2 // (exception): describe and report it
	drvInputs = 3 // (input JSON): set the global inputs, for scripts
	drvSeed   = 4 // (seed text): reseed Math.random
	drvSettle = 5 // (call id, ok, JSON): finish a capability call
	drvGrant  = 6 // (): install the airlock global
)

// drive calls the prelude's driver: driver(op, args...), where args are
// JSValue*s the caller owns. An exception the driver raises is reported as
// the step's failure. The op and result handles are freed.
func (v *vm) drive(ctx context.Context, op int, args ...uint32) error {
	opVal, err := v.newNumber(ctx, float64(op))
	if err != nil {
		return err
	}
	r, err := v.callFunc(ctx, v.e.driver, append([]uint32{opVal}, args...)...)
	if err != nil {
		return err
	}
	if err := v.checkException(ctx, r); err != nil {
		return err
	}
	return v.free(ctx, opVal, r)
}

func (v *vm) drainJobs(ctx context.Context) error {
	for !v.done {
		r, err := v.callName(ctx, "qjs_execute_pending_job")
		if err != nil {
			return err
		}
		switch int32(r) {
		case 0:
			return nil
		case -1:
			exc, err := v.callName32(ctx, "qjs_get_exception")
			if err != nil {
				return err
			}
			if err := v.report(ctx, exc); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkException reports val to the driver if it is an exception.
func (v *vm) checkException(ctx context.Context, val uint32) error {
	if exc, err := v.callName(ctx, "qjs_is_exception", uint64(val)); err != nil || exc == 0 {
		return err
	}
	e, err := v.callName32(ctx, "qjs_get_exception")
	if err != nil {
		return err
	}
	return v.report(ctx, e)
}

// msgUndescribed is the message of an exception the driver could not
// describe (typically for lack of memory: see execute).
const msgUndescribed = "uncaught exception that could not be described"

// report hands an exception value to the driver, which describes it.
func (v *vm) report(ctx context.Context, exc uint32) error {
	// Not drive: the driver's fail catches everything, and an exception
	// from it must not be reported back into it.
	op, err := v.newNumber(ctx, drvFail)
	if err != nil {
		return err
	}
	_, err = v.callFunc(ctx, v.e.driver, op, exc)
	if err == nil && !v.done {
		v.done, v.ok, v.payload = true, false, []byte(`{"name":"Error","message":"`+msgUndescribed+`"}`)
	}
	return err
}

// classify turns an error from a guest call into a *step.Error.
func (v *vm) classify(err error) error {
	switch v.stopReason.Load() {
	case stopCPU:
		return &step.Error{Code: step.CodeCPULimit, Message: step.MsgCPULimit}
	case stopTimeout:
		return step.Errorf(step.CodeTimeout, "wall-clock timeout of %s exceeded", v.lim.Timeout)
	case stopCanceled:
		return &step.Error{Code: step.CodeTimeout, Message: "execution canceled", Err: context.Canceled}
	case stopHost:
		var se *step.Error
		if errors.As(v.hostErr, &se) {
			return se
		}
		return &step.Error{Code: step.CodeInternal, Message: "host call failed", Err: v.hostErr}
	}
	var se *step.Error
	if errors.As(err, &se) {
		return se
	}
	if v.memory.capHit.Load() || errors.Is(err, errOOM) {
		return step.Errorf(step.CodeMemoryLimit, "memory limit of %d bytes exceeded", v.lim.MemoryBytes)
	}
	if strings.Contains(err.Error(), "stack overflow") {
		return &step.Error{Code: step.CodeStackOverflow, Message: "engine stack exhausted", Err: err}
	}
	return &step.Error{Code: step.CodeInternal, Message: "engine trapped", Err: err}
}

// userFrames drops the prelude's own frames from a stack trace.
func userFrames(stack string) string {
	if !strings.Contains(stack, "(<airlock>:") {
		return stack
	}
	var b strings.Builder
	for _, line := range strings.SplitAfter(stack, "\n") {
		if !strings.Contains(line, "(<airlock>:") {
			b.WriteString(line)
		}
	}
	return b.String()
}

var syntaxPos = regexp.MustCompile(`:(\d+):(\d+)`)

// thrown decodes the driver's error descriptor.
func (v *vm) thrown() error {
	var d struct {
		Name, Message, Stack, Code string
	}
	if err := json.Unmarshal(v.payload, &d); err != nil {
		return &step.Error{Code: step.CodeInternal, Message: "undecodable error from the step", Err: err}
	}
	e := &step.Error{Code: step.CodeStepThrew, Name: d.Name, Message: d.Message, Stack: userFrames(d.Stack)}
	switch {
	case d.Code != "":
		e.Code = step.Code(d.Code)
	case d.Name == "InternalError" && d.Message == "out of memory", v.memory.capHit.Load():
		e.Code = step.CodeMemoryLimit
		e.Message = fmt.Sprintf("memory limit of %d bytes exceeded", v.lim.MemoryBytes)
	case d.Name == "SyntaxError" && !strings.Contains(d.Stack, "\n    at "):
		// A parse error (a SyntaxError thrown at run time has a call stack).
		e.Code = step.CodeSyntax
	}
	if e.Code == step.CodeSyntax {
		if m := syntaxPos.FindStringSubmatch(d.Stack); m != nil {
			e.Line, _ = strconv.Atoi(m[1])
			e.Column, _ = strconv.Atoi(m[2])
		}
	}
	return e
}

// watchdog enforces the CPU and wall-clock limits of one execution.
type watchdog struct {
	v   *vm
	lim step.Limits

	mu      sync.Mutex
	clock   threadClock
	base    time.Duration // clock reading when the current slice began
	running bool
	spent   time.Duration // CPU time of finished slices
	cpu     *time.Timer
	wall    *time.Timer
	stopped atomic.Bool
}

func newWatchdog(v *vm, lim step.Limits) *watchdog {
	w := &watchdog{v: v, lim: lim}
	w.wall = time.AfterFunc(lim.Timeout, func() { v.halt(stopTimeout) })
	// Thread CPU time cannot grow faster than wall time, so the first check
	// is due no earlier than the whole budget from now.
	w.cpu = time.AfterFunc(lim.CPUTime, w.check)
	return w
}

// resume starts a CPU slice on the calling goroutine's (now locked) thread.
func (w *watchdog) resume() {
	c := lockThread()
	w.mu.Lock()
	w.clock, w.base, w.running = c, c.now(), true
	w.mu.Unlock()
}

// pause ends the current slice and unlocks the thread.
func (w *watchdog) pause() {
	w.mu.Lock()
	if w.running {
		w.spent += w.clock.now() - w.base
		w.running = false
	}
	w.mu.Unlock()
	runtime.UnlockOSThread()
}

func (w *watchdog) used() time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	u := w.spent
	if w.running {
		u += w.clock.now() - w.base
	}
	return u
}

func (w *watchdog) check() {
	if w.stopped.Load() {
		return
	}
	u := w.used()
	if u >= w.lim.CPUTime {
		w.v.halt(stopCPU)
		return
	}
	w.cpu.Reset(max(w.lim.CPUTime-u, time.Millisecond))
}

// sleep waits until timer next is due (nil: no timer), a capability call
// finishes (returned), or the execution is stopped (an error).
func (w *watchdog) sleep(ctx context.Context, next *timerEntry, capDone <-chan capResult) (*capResult, error) {
	var due <-chan time.Time
	if next != nil {
		t := time.NewTimer(time.Until(next.deadline))
		defer t.Stop()
		due = t.C
	}
	remaining := w.lim.Timeout - time.Since(w.v.wallStart)
	if remaining <= 0 {
		w.v.halt(stopTimeout)
		return nil, w.v.classify(errors.New("timeout"))
	}
	deadline := time.NewTimer(remaining)
	defer deadline.Stop()
	select {
	case <-due:
		return nil, nil
	case r := <-capDone:
		return &r, nil
	case <-deadline.C:
		w.v.halt(stopTimeout)
	case <-ctx.Done():
		w.v.halt(stopCanceled)
	}
	return nil, w.v.classify(errors.New("stopped while waiting"))
}

// settle hands a finished capability call to the guest.
func (v *vm) settle(ctx context.Context, r capResult) error {
	v.capPending--
	ok, payload := v.settlement(r)
	okNum := 0.0
	if ok {
		okNum = 1
	}
	id, err := v.newNumber(ctx, r.id)
	if err != nil {
		return err
	}
	okVal, err := v.newNumber(ctx, okNum)
	if err != nil {
		return err
	}
	body, err := v.newString(ctx, payload)
	if err != nil {
		return err
	}
	if err := v.drive(ctx, drvSettle, id, okVal, body); err != nil {
		return err
	}
	return v.free(ctx, id, okVal, body)
}

func (w *watchdog) stop() {
	w.stopped.Store(true)
	w.cpu.Stop()
	w.wall.Stop()
}
