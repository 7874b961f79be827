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

// After a step dirties some pages (content pages and zero pages) and leaves
// others untouched, reset makes the region equal to the snapshot image byte
// for byte: cleared or released zero pages read as zero, and no release
// ever reaches a page with image content.
func TestPoolResetRestoresImageExactly(t *testing.T) {
	e := testEngine(t)
	p := e.pool(32 << 20)
	r, err := p.get()
	if err != nil {
		t.Fatal(err)
	}
	img := e.image
	ps := img.pageSize
	for i, pg := range img.zero { // dirty every third zero page
		if i%3 == 0 {
			r[pg*ps+7] = 0xA5
		}
	}
	for _, pg := range img.nonZero {
		r[pg*ps] ^= 0xFF
	}
	if err := p.reset(r, img.len); err != nil {
		t.Fatal(err)
	}
	for off := 0; off < img.len; off++ {
		if r[off] != img.b[off] {
			t.Fatalf("byte %d (page %d) = %#x after reset, image has %#x", off, off/ps, r[off], img.b[off])
		}
	}
	p.put(r, img.len)
}
