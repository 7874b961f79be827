package isolate

import (
	"context"
	"testing"

	"github.com/airlockhq/airlock/internal/wasmpatch"
	quickjswasi "github.com/airlockhq/airlock/third_party/quickjs-wasi"
)

// Engine.release reuses an instance after restoring its memory,
// __stack_pointer and the loop budget. That is a complete reset only while
// the engine has no other mutable global and no instruction that writes a
// table: this test fails if an engine upgrade changes either, before any
// state can leak between steps.
func TestResetCoversAllMutableState(t *testing.T) {
	ms, err := wasmpatch.Inspect(quickjswasi.Wasm)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms.MutableGlobals) != 1 || ms.TableWrites != 0 {
		t.Fatalf("engine mutable state %+v: release must reset more than __stack_pointer", ms)
	}
	e := testEngine(t)
	in, err := e.acquire(context.Background(), 32<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer e.release(in, false)
	if in.sp == nil || in.budget == nil {
		t.Fatal("__stack_pointer or the loop budget is not an exported mutable global")
	}
}
