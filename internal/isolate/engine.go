package isolate

import (
	"context"
	"runtime"

	_ "embed"
	"errors"
	"fmt"
	"github.com/tetratelabs/wazero/experimental"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/airlockhq/airlock/internal/step"
	"github.com/airlockhq/airlock/internal/wasmpatch"
	quickjswasi "github.com/airlockhq/airlock/third_party/quickjs-wasi"
)

//go:embed prelude.js
var preludeJS string

const (
	// budgetGlobal is the loop budget wasmpatch adds; the guest calls
	// host_interrupt each time loopBudget loop iterations have run.
	budgetGlobal = "airlock_budget"
	loopBudget   = 10000
	maxStackSize = 512 << 10 // below the 1 MiB wasm shadow stack: recursion throws RangeError
	// monoBase is the guest's monotonic clock at every execution start (and
	// when the snapshot was taken), so performance.now() starts at 0.
	monoBase = uint64(1 << 40)
	// heapHeadroom is kept between QuickJS's allocator limit and the linear
	// memory cap for the shadow stack, static data and malloc overhead.
	heapHeadroom = 2 << 20
	// heapReserve is the free heap the snapshot starts with (see takeSnapshot).
	heapReserve = 4 << 20
)

// Engine holds the compiled engine and the snapshot every execution starts
// from. It is safe for concurrent use; executions share nothing but
// read-only state.
type Engine struct {
	rt wazero.Runtime
	cm wazero.CompiledModule

	image *snapshotImage // linear memory after init and prelude
	pools sync.Map       // memory cap (int) -> *memPool
	sp    uint64         // __stack_pointer in the snapshot
	code  *codeCache     // compiled bytecode of recent sources
	data  []wasmpatch.Segment
	// Pointers valid in every restored instance.
	driver  uint32 // JSValue* of the prelude's driver function
	undef   uint32 // JSValue* of undefined
	scratch uint32 // 64 bytes of guest memory for out-parameters and argv
}

var defaultEngine struct {
	once sync.Once
	e    *Engine
	err  error
}

// Default returns the process-wide engine, creating it on first use.
func Default() (*Engine, error) {
	defaultEngine.once.Do(func() {
		defaultEngine.e, defaultEngine.err = NewEngine(context.Background(), CacheDir())
	})
	return defaultEngine.e, defaultEngine.err
}

// CacheDir is the default directory of wazero's compilation cache:
// $AIRLOCK_CACHE_DIR, else the user's cache directory /airlock/wazero, or ""
// (no on-disk cache) when neither is available.
func CacheDir() string {
	if d := os.Getenv("AIRLOCK_CACHE_DIR"); d != "" {
		return d
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(d, "airlock", "wazero")
}

// NewEngine patches and compiles the engine module, using cacheDir (if not
// empty) as wazero's compilation cache, and takes the start-up snapshot.
func NewEngine(ctx context.Context, cacheDir string) (*Engine, error) {
	if runtime.GOOS != "linux" {
		return nil, ErrUnsupportedOS
	}
	patched, _, err := wasmpatch.Instrument(quickjswasi.Wasm, budgetGlobal, "env", "host_interrupt")
	if err != nil {
		return nil, fmt.Errorf("isolate: patching engine: %w", err)
	}
	// Instances start from the snapshot, which already holds the data
	// segments' contents; instantiation must not write them again.
	patched, data, err := wasmpatch.EmptyDataSegments(patched)
	if err != nil {
		return nil, fmt.Errorf("isolate: patching engine: %w", err)
	}
	cfg := wazero.NewRuntimeConfigCompiler().WithCloseOnContextDone(false)
	if cacheDir != "" {
		if cache, err := wazero.NewCompilationCacheWithDir(cacheDir); err == nil {
			cfg = cfg.WithCompilationCache(cache)
		}
	}
	rt := wazero.NewRuntimeWithConfig(ctx, cfg)
	if err := defineHost(ctx, rt); err != nil {
		rt.Close(ctx)
		return nil, err
	}
	cm, err := rt.CompileModule(ctx, patched)
	if err != nil {
		rt.Close(ctx)
		return nil, fmt.Errorf("isolate: compiling engine: %w", err)
	}
	e := &Engine{rt: rt, cm: cm, data: data, code: newCodeCache()}
	if err := e.takeSnapshot(ctx); err != nil {
		rt.Close(ctx)
		return nil, fmt.Errorf("isolate: initialising engine: %w", err)
	}
	return e, nil
}

// Close releases the engine. Executions must have finished.
func (e *Engine) Close(ctx context.Context) error { return e.rt.Close(ctx) }

// acquire returns an instance in the snapshot state whose memory is capped
// at size bytes: a reset one from the pool, or a new one.
func (e *Engine) acquire(ctx context.Context, size int) (*instance, error) {
	p := e.pool(size)
	if in, ok := p.idle.pop(); ok {
		return in, nil
	}
	var memory *mmapMemory
	mctx := experimental.WithMemoryAllocator(ctx, p.allocator(&memory))
	mod, err := e.rt.InstantiateModule(mctx, e.cm, wazero.NewModuleConfig().WithName("").WithStartFunctions())
	if err != nil {
		if memory == nil || memory.capHit.Load() {
			return nil, step.Errorf(step.CodeMemoryLimit, "memory limit of %d bytes is below the engine's baseline of %d bytes", size, e.image.len)
		}
		return nil, &step.Error{Code: step.CodeInternal, Message: "instantiating engine", Err: err}
	}
	in := newInstance(mod)
	in.memory = memory
	// The memory already holds the snapshot; extend the wasm memory over it.
	if need := uint32(e.image.len); in.mem.Size() < need {
		if _, ok := in.mem.Grow((need - in.mem.Size()) / 65536); !ok {
			mod.Close(ctx)
			return nil, step.Errorf(step.CodeMemoryLimit, "memory limit of %d bytes is below the engine's baseline of %d bytes", size, e.image.len)
		}
	}
	return in, nil
}

// release ends an execution on in. An instance that finished cleanly and
// never grew its memory is reset to the snapshot state and kept: its
// memory restored page for page (memPool.reset), its one mutable global
// (__stack_pointer, the only one the engine has, with no instruction able
// to write its table: TestResetCoversAllMutableState checks both) and the
// loop budget restored.
// It is then indistinguishable from a new instance. Any other instance is
// closed and its memory recycled.
func (e *Engine) release(in *instance, clean bool) {
	p := e.pool(len(in.memory.region))
	if clean && int(in.mem.Size()) == e.image.len && !in.memory.capHit.Load() && p.reset(in.memory.region, in.memory.used) == nil {
		in.sp.Set(e.sp)
		in.budget.Set(0) // a new instance's value
		if p.idle.push(in) {
			return
		}
	}
	in.mod.Close(context.Background())
}

func (e *Engine) pool(size int) *memPool {
	if p, ok := e.pools.Load(size); ok {
		return p.(*memPool)
	}
	p, _ := e.pools.LoadOrStore(size, &memPool{size: size, image: e.image,
		free: freeList[[]byte]{budget: &idleRegions}, idle: freeList[*instance]{budget: &idleInstances}})
	return p.(*memPool)
}

// takeSnapshot initialises QuickJS, evaluates the prelude and records the
// resulting linear memory.
func (e *Engine) takeSnapshot(ctx context.Context) error {
	v := &vm{e: e, freeze: true, wallStart: time.Now()}
	ctx = context.WithValue(ctx, vmKey{}, v)
	mod, err := e.rt.InstantiateModule(ctx, e.cm, wazero.NewModuleConfig().WithName("").WithStartFunctions())
	if err != nil {
		return err
	}
	defer mod.Close(ctx)
	v.instance = newInstance(mod)
	for _, s := range e.data {
		if !v.mem.Write(s.Offset, s.Data) {
			return fmt.Errorf("data segment at %d outside memory", s.Offset)
		}
	}
	if _, err := v.callName(ctx, "_initialize"); err != nil {
		return err
	}
	if rc, err := v.callName(ctx, "qjs_init"); err != nil || int32(rc) != 0 {
		return fmt.Errorf("qjs_init = %d: %w", int32(rc), err)
	}
	if _, err := v.callName(ctx, "qjs_set_max_stack_size", maxStackSize); err != nil {
		return err
	}
	if _, err := v.callName(ctx, "qjs_set_interrupt_handler", 1); err != nil {
		return err
	}
	if e.scratch, err = v.malloc(ctx, 64); err != nil {
		return err
	}
	if e.undef, err = v.callName32(ctx, "qjs_get_undefined"); err != nil {
		return err
	}
	factory, err := v.eval(ctx, preludeJS, "<airlock>", evalGlobal)
	if err != nil {
		return err
	}
	if exc, _ := v.callName(ctx, "qjs_is_exception", uint64(factory)); exc != 0 {
		return errors.New("prelude threw")
	}
	name, err := v.writeBytes(ctx, []byte("airlock"))
	if err != nil {
		return err
	}
	hostFn, err := v.callName32(ctx, "qjs_new_host_function", uint64(name), 7, 0)
	if err != nil {
		return err
	}
	if e.driver, err = v.callFunc(ctx, factory, hostFn); err != nil {
		return err
	}
	if exc, _ := v.callName(ctx, "qjs_is_exception", uint64(e.driver)); exc != 0 {
		return errors.New("prelude factory threw")
	}
	if _, err := v.callName(ctx, "qjs_run_gc"); err != nil {
		return err
	}
	// Grow dlmalloc's heap by heapReserve and give it back: the snapshot
	// then holds that much free heap, so a typical step allocates without
	// growing the linear memory, and its instance can be reset and reused
	// instead of discarded (a grown memory cannot shrink). Pages the step
	// never touches stay untouched: they cost nothing to restore.
	if heapReserve > 0 {
		p, err := v.malloc(ctx, heapReserve)
		if err != nil {
			return err
		}
		if _, err := v.callName(ctx, "wasm_free", uint64(p)); err != nil {
			return err
		}
	}
	b, _ := v.mem.Read(0, v.mem.Size())
	e.image, err = newSnapshotImage(append([]byte(nil), b...))
	e.sp = v.sp.Get()
	return err
}

// ErrUnsupportedOS is returned by NewEngine (and Default) on systems other
// than Linux.
var ErrUnsupportedOS = &step.Error{Code: step.CodeUnavailable, Message: "the isolate needs Linux (mmap, mincore and per-thread CPU clocks)"}

// Options are per-execution settings other than limits.
type Options struct {
	// Logs receives console output as it happens. Nil discards it.
	Logs step.LogSink
	// Timing selects clock hardening: TimingFreeze (the zero value) or
	// TimingOff.
	Timing Timing
	// Capabilities are the host services the step may call, by name. Nil
	// grants nothing; the guest then has no airlock global at all.
	Capabilities map[string]Capability
}

// Timing is the clock hardening mode.
type Timing int

const (
	// TimingFreeze: Date.now() and performance.now() do not advance within
	// one execution.
	TimingFreeze Timing = iota
	// TimingOff: clocks advance normally.
	TimingOff
)

// ParseTiming accepts "freeze" and "off".
func ParseTiming(s string) (Timing, error) {
	switch s {
	case "freeze", "":
		return TimingFreeze, nil
	case "off":
		return TimingOff, nil
	}
	return 0, step.Errorf(step.CodeInvalidConfig, "unknown timing mode %q (want freeze or off)", s)
}

var _ = api.ValueTypeI32
var _ = time.Second
