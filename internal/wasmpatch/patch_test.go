package wasmpatch

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// spinModule is
//
//	(module (import "env" "tick" (func (result i32)))
//	  (global (mut i32) (i32.const 0))
//	  (func (export "spin") (loop (br 0))))
var spinModule = []byte("\x00asm\x01\x00\x00\x00" +
	"\x01\x08\x02\x60\x00\x00\x60\x00\x01\x7f" + // types: [] -> [], [] -> [i32]
	"\x02\x0c\x01\x03env\x04tick\x00\x01" + // import env.tick: type 1
	"\x03\x02\x01\x00" + // func 1: type 0
	"\x06\x06\x01\x7f\x01\x41\x00\x0b" + // global 0
	"\x07\x08\x01\x04spin\x00\x01" + // export "spin" func 1
	"\x0a\x09\x01\x07\x00\x03\x40\x0c\x00\x0b\x0b") // loop br 0 end end

// TestBudgetStopsCallFreeLoop: a guest spinning in a loop with no calls out
// ticks into the host regularly, and is stopped by the host zeroing the
// budget from another goroutine and returning 1 from the tick.
func TestBudgetStopsCallFreeLoop(t *testing.T) {
	patched, st, err := Instrument(spinModule, "budget", "env", "tick")
	if err != nil {
		t.Fatal(err)
	}
	if st.Loops != 1 || st.Functions != 1 || st.GlobalIndex != 1 || st.TickIndex != 0 {
		t.Fatalf("stats = %+v, want 1 loop, 1 function, global 1, tick 0", st)
	}
	ctx := context.Background()
	r := wazero.NewRuntime(ctx)
	defer r.Close(ctx)
	var ticks, stop atomic.Int64
	var mu sync.Mutex // orders the host's writes of the budget (the guest's are not Go accesses)
	_, err = r.NewHostModuleBuilder("env").NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(func(_ context.Context, m api.Module, s []uint64) {
		ticks.Add(1)
		s[0] = uint64(stop.Load())
		mu.Lock()
		m.ExportedGlobal("budget").(api.MutableGlobal).Set(1000)
		mu.Unlock()
	}), nil, []api.ValueType{api.ValueTypeI32}).Export("tick").Instantiate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mod, err := r.Instantiate(ctx, patched)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := mod.ExportedFunction("spin").Call(ctx)
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	select {
	case err := <-done:
		t.Fatalf("spin returned before it was stopped: %v", err)
	default:
	}
	if ticks.Load() < 2 {
		t.Fatalf("guest ticked %d times while spinning; want regular ticks", ticks.Load())
	}
	stop.Store(1)
	mu.Lock()
	mod.ExportedGlobal("budget").(api.MutableGlobal).Set(0)
	mu.Unlock()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("spin returned nil, want an unreachable trap")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("guest still spinning 10s after it was stopped")
	}
}

// TestQuickJSModulePatches: the vendored engine decodes fully and the patched
// module still validates and compiles.
func TestQuickJSModulePatches(t *testing.T) {
	b, err := os.ReadFile("../../third_party/quickjs-wasi/quickjs.wasm")
	if err != nil {
		t.Fatal(err)
	}
	patched, st, err := Instrument(b, "airlock_budget", "env", "host_interrupt")
	if err != nil {
		t.Fatal(err)
	}
	if st.Loops < 100 || st.Functions < 100 {
		t.Fatalf("suspiciously few loops/functions instrumented: %+v", st)
	}
	t.Logf("%+v, %d -> %d bytes", st, len(b), len(patched))
	ctx := context.Background()
	r := wazero.NewRuntime(ctx)
	defer r.Close(ctx)
	cm, err := r.CompileModule(ctx, patched)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := cm.ExportedFunctions()["qjs_eval"]; !ok {
		t.Fatal("patched module lost its exports")
	}
}

// TestRejectsMalformed: truncated or foreign input fails with ErrMalformed
// instead of producing a half-patched module.
func TestRejectsMalformed(t *testing.T) {
	for name, in := range map[string][]byte{
		"empty":           nil,
		"bad magic":       []byte("\x00asx\x01\x00\x00\x00"),
		"truncated":       spinModule[:len(spinModule)-3],
		"no sections":     spinModule[:8],
		"simd opcode":     []byte(string(spinModule[:len(spinModule)-11]) + "\x0a\x07\x01\x05\x00\xfd\x0c\x0b\x0b"),
		"tick missing":    []byte(strings.Replace(string(spinModule), "tick", "tock", 1)),
		"tick wrong type": []byte(strings.Replace(string(spinModule), "\x04tick\x00\x01", "\x04tick\x00\x00", 1)),
		"section overrun": append(append([]byte(nil), spinModule[:8]...), 0x01, 0x7f),
	} {
		if _, _, err := Instrument(in, "budget", "env", "tick"); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: err = %v, want ErrMalformed", name, err)
		}
	}
}

// FuzzStopOnFlag: arbitrary input never panics, and any accepted input is
// accepted again after patching (the output is well formed).
func FuzzInstrument(f *testing.F) {
	f.Add(spinModule)
	f.Fuzz(func(t *testing.T, in []byte) {
		out, _, err := Instrument(in, "budget", "env", "tick")
		if err != nil {
			return
		}
		if _, _, err := Instrument(out, "budget2", "env", "tick"); err != nil {
			t.Fatalf("patched output does not re-parse: %v", err)
		}
	})
}

// TestEmptyDataSegments: the stripped engine keeps its segment offsets, and
// the segments come back intact.
func TestEmptyDataSegments(t *testing.T) {
	b, err := os.ReadFile("../../third_party/quickjs-wasi/quickjs.wasm")
	if err != nil {
		t.Fatal(err)
	}
	stripped, segs, err := EmptyDataSegments(b)
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, s := range segs {
		total += len(s.Data)
		if s.Offset < 1024 {
			t.Errorf("segment at %d: wasm-ld places data at 1024 or above", s.Offset)
		}
	}
	// The module shrinks by the data plus the shorter length prefixes.
	if shrink := len(b) - len(stripped); len(segs) == 0 || shrink < total || shrink > total+5*len(segs)+5 {
		t.Fatalf("%d segments of %d bytes; module shrank by %d", len(segs), total, len(b)-len(stripped))
	}
	again, segs2, err := EmptyDataSegments(stripped)
	if err != nil || len(segs2) != len(segs) || len(again) != len(stripped) {
		t.Fatalf("re-stripping: %v, %d segments", err, len(segs2))
	}
	for _, s := range segs2 {
		if len(s.Data) != 0 || s.Offset == 0 && len(segs) > 1 {
			t.Fatalf("re-stripped segment not empty or offset lost: %+v", s)
		}
	}
}
