package wasmpatch

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
)

// spinModule is (module (global (mut i32) (i32.const 0)) (func (export "spin") (loop (br 0)))).
var spinModule = []byte("\x00asm\x01\x00\x00\x00" +
	"\x01\x04\x01\x60\x00\x00" + // type: [] -> []
	"\x03\x02\x01\x00" + // func 0: type 0
	"\x06\x06\x01\x7f\x01\x41\x00\x0b" + // global 0
	"\x07\x08\x01\x04spin\x00\x00" + // export "spin" func 0
	"\x0a\x09\x01\x07\x00\x03\x40\x0c\x00\x0b\x0b") // loop br 0 end end

// TestStopFlagEndsInfiniteLoop: a guest spinning in a loop with no calls out
// is stopped by the host setting the flag from another goroutine.
func TestStopFlagEndsInfiniteLoop(t *testing.T) {
	patched, st, err := StopOnFlag(spinModule, "stop")
	if err != nil {
		t.Fatal(err)
	}
	if st.Loops != 1 || st.Functions != 1 || st.GlobalIndex != 1 {
		t.Fatalf("stats = %+v, want 1 loop, 1 function, global 1", st)
	}
	ctx := context.Background()
	r := wazero.NewRuntime(ctx)
	defer r.Close(ctx)
	mod, err := r.Instantiate(ctx, patched)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := mod.ExportedFunction("spin").Call(ctx)
		done <- err
	}()
	time.Sleep(10 * time.Millisecond)
	select {
	case err := <-done:
		t.Fatalf("spin returned before the flag was set: %v", err)
	default:
	}
	mod.ExportedGlobal("stop").(interface{ Set(uint64) }).Set(1)
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("spin returned nil, want an unreachable trap")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("guest still spinning 10s after the stop flag was set")
	}
}

// TestQuickJSModulePatches: the vendored engine decodes fully and the patched
// module still validates and compiles.
func TestQuickJSModulePatches(t *testing.T) {
	b, err := os.ReadFile("../../third_party/quickjs-wasi/quickjs.wasm")
	if err != nil {
		t.Fatal(err)
	}
	patched, st, err := StopOnFlag(b, "airlock_stop")
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
		"section overrun": append(append([]byte(nil), spinModule[:8]...), 0x01, 0x7f),
	} {
		if _, _, err := StopOnFlag(in, "stop"); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: err = %v, want ErrMalformed", name, err)
		}
	}
}

// FuzzStopOnFlag: arbitrary input never panics, and any accepted input is
// accepted again after patching (the output is well formed).
func FuzzStopOnFlag(f *testing.F) {
	f.Add(spinModule)
	f.Fuzz(func(t *testing.T, in []byte) {
		out, _, err := StopOnFlag(in, "stop")
		if err != nil {
			return
		}
		if _, _, err := StopOnFlag(out, "stop2"); err != nil {
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
