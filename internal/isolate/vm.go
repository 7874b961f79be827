package isolate

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tetratelabs/wazero/api"

	"github.com/airlockhq/airlock/internal/step"
)

type vmKey struct{}

// QuickJS eval flags.
const (
	evalGlobal = 0
	evalModule = 1
)

// Reasons the host stopped the guest.
const (
	stopNone int32 = iota
	stopCPU
	stopTimeout
	stopCanceled
	stopHost // a host-side limit (payload, ...): see vm.hostErr
)

// instance is one engine module instance. Between executions it is either
// discarded or reset to exactly the snapshot state (see Engine.release).
type instance struct {
	mod    api.Module
	mem    api.Memory
	budget api.MutableGlobal // see wasmpatch: 0 makes the guest tick at its next loop
	sp     api.MutableGlobal
	fns    map[string]api.Function
	memory *mmapMemory // nil for the snapshot-building instance
}

// vm is one execution on an instance.
type vm struct {
	e *Engine
	*instance

	lim  step.Limits
	logs step.LogSink

	// Virtual clocks.
	freeze    bool
	wallStart time.Time

	usage step.Usage

	timers        timerQueue
	timersCreated int
	firing        int64 // id of the timer whose callback is running, or 0

	done    bool
	ok      bool
	payload []byte // output JSON, or the error descriptor JSON when !ok

	stopReason atomic.Int32
	hostErr    error

	// Capability calls (see capability.go).
	caps       map[string]Capability
	capCtx     context.Context // canceled when the execution ends
	capPending int
	capDone    chan capResult

	// haltMu orders halt against detach: once detached (the instance is
	// about to be released, perhaps to another execution), a late watchdog
	// or cancellation must not touch the instance's stop flag.
	haltMu   sync.Mutex
	detached bool
}

func newInstance(mod api.Module) *instance {
	in := &instance{mod: mod, mem: mod.Memory(), fns: make(map[string]api.Function, 16)}
	in.budget, _ = mod.ExportedGlobal(budgetGlobal).(api.MutableGlobal)
	in.sp, _ = mod.ExportedGlobal("__stack_pointer").(api.MutableGlobal)
	return in
}

// halt asks the guest to stop: zeroing the loop budget makes it call
// host_interrupt at its next loop back-edge, which sees the reason and
// makes it trap.
func (v *vm) halt(reason int32) {
	v.haltMu.Lock()
	defer v.haltMu.Unlock()
	if v.stopReason.CompareAndSwap(stopNone, reason) && !v.detached && v.instance != nil && v.budget != nil {
		v.budget.Set(0)
	}
}

// refill gives the guest a new loop budget. It is called from the guest's
// own tick; halt may write the budget from another goroutine, so every
// Go-side write takes haltMu (the guest's own accesses are compiled code,
// and a racing decrement can only delay a stop by one budget).
func (v *vm) refill() {
	v.haltMu.Lock()
	v.budget.Set(loopBudget)
	v.haltMu.Unlock()
}

// detach ends this execution's hold on its instance: later halts only
// record their reason.
func (v *vm) detach() {
	v.haltMu.Lock()
	v.detached = true
	v.haltMu.Unlock()
}

func (v *vm) fn(name string) api.Function {
	f, ok := v.fns[name]
	if !ok {
		f = v.mod.ExportedFunction(name)
		v.fns[name] = f
	}
	return f
}

func (v *vm) callName(ctx context.Context, name string, args ...uint64) (uint64, error) {
	f := v.fn(name)
	if f == nil {
		return 0, fmt.Errorf("engine export %s missing", name)
	}
	res, err := f.Call(ctx, args...)
	if err != nil {
		return 0, err
	}
	if len(res) == 0 {
		return 0, nil
	}
	return res[0], nil
}

func (v *vm) callName32(ctx context.Context, name string, args ...uint64) (uint32, error) {
	r, err := v.callName(ctx, name, args...)
	return uint32(r), err
}

func (v *vm) malloc(ctx context.Context, n int) (uint32, error) {
	p, err := v.callName32(ctx, "wasm_malloc", uint64(n))
	if err == nil && p == 0 {
		err = errOOM
	}
	return p, err
}

var errOOM = errors.New("guest out of memory")

// writeBytes copies b into fresh guest memory followed by a NUL.
func (v *vm) writeBytes(ctx context.Context, b []byte) (uint32, error) {
	p, err := v.malloc(ctx, len(b)+1)
	if err != nil {
		return 0, err
	}
	v.mem.Write(p, b)
	v.mem.WriteByte(p+uint32(len(b)), 0)
	return p, nil
}

// eval evaluates source and returns the JSValue* of the result (possibly an
// exception value).
func (v *vm) eval(ctx context.Context, src, filename string, flags int) (uint32, error) {
	code, err := v.writeBytes(ctx, []byte(src))
	if err != nil {
		return 0, err
	}
	fname, err := v.writeBytes(ctx, []byte(filename))
	if err != nil {
		return 0, err
	}
	return v.callName32(ctx, "qjs_eval", uint64(code), uint64(len(src)), uint64(fname), uint64(flags))
}

// callFunc calls fn(args...) with this = undefined.
func (v *vm) callFunc(ctx context.Context, fn uint32, args ...uint32) (uint32, error) {
	argv := v.e.scratch + 8
	for i, a := range args {
		v.mem.WriteUint32Le(argv+uint32(4*i), a)
	}
	return v.callName32(ctx, "qjs_call", uint64(fn), uint64(v.e.undef), uint64(len(args)), uint64(argv))
}

func (v *vm) newNumber(ctx context.Context, f float64) (uint32, error) {
	return v.callName32(ctx, "qjs_new_number", math.Float64bits(f))
}

func (v *vm) newString(ctx context.Context, b []byte) (uint32, error) {
	p, err := v.writeBytes(ctx, b)
	if err != nil {
		return 0, err
	}
	return v.callName32(ctx, "qjs_new_string", uint64(p), uint64(len(b)))
}

// num reads a JSValue* as a float64.
func (v *vm) num(ctx context.Context, val uint32) (float64, error) {
	r, err := v.callName(ctx, "qjs_get_float64", uint64(val))
	return math.Float64frombits(r), err
}

// str reads a JSValue* as a string of at most max bytes. It returns the
// string's length in bytes and, when it fits, its bytes.
func (v *vm) str(ctx context.Context, val uint32, max int) (int, []byte, error) {
	plen := v.e.scratch
	p, err := v.callName32(ctx, "qjs_get_string_len", uint64(val), uint64(plen))
	if err != nil {
		return 0, nil, err
	}
	if p == 0 {
		return 0, nil, errOOM
	}
	n, _ := v.mem.ReadUint32Le(plen)
	var b []byte
	if int(n) <= max {
		var ok bool
		if b, ok = v.mem.Read(p, n); !ok {
			return 0, nil, errors.New("string out of guest memory bounds")
		}
		b = append([]byte(nil), b...)
	}
	// The C string is the guest's copy: free it, or every console call
	// leaks its text into the step's heap.
	if _, err := v.callName(ctx, "qjs_free_cstring", uint64(p)); err != nil {
		return 0, nil, err
	}
	return int(n), b, nil
}

// free releases handles the host created (newNumber, newString, results
// of callFunc).
func (v *vm) free(ctx context.Context, handles ...uint32) error {
	for _, h := range handles {
		if _, err := v.callName(ctx, "qjs_free_value", uint64(h)); err != nil {
			return err
		}
	}
	return nil
}

// heapExhausted reports whether QuickJS's heap is nearly full: within 1/16
// of its allocation limit (at least 1 MiB). A failed allocation may have been
// large, and what the failing operation held is freed before this is asked.
func (v *vm) heapExhausted(ctx context.Context) bool {
	buf, err := v.malloc(ctx, 26*8) // JSMemoryUsage: 26 int64 fields
	if err != nil {
		return errors.Is(err, errOOM)
	}
	if _, err := v.callName(ctx, "qjs_compute_memory_usage", uint64(buf)); err != nil {
		return false
	}
	size, _ := v.mem.ReadUint64Le(buf)
	limit, _ := v.mem.ReadUint64Le(buf + 8)
	return limit > 0 && size+max(limit/16, 1<<20) >= limit
}

// Virtual clocks.

func (v *vm) realtimeNs() uint64 {
	if v.freeze {
		// Millisecond resolution, fixed for the whole execution.
		return uint64(v.wallStart.UnixMilli()) * 1e6
	}
	return uint64(time.Now().UnixNano())
}

func (v *vm) monotonicNs() uint64 {
	if v.freeze {
		return monoBase
	}
	return monoBase + uint64(time.Since(v.wallStart))
}
