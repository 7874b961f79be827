package wasmpatch

import (
	"os"
	"testing"
)

// BenchmarkInstrumentQuickJS: the load-time cost of patching the engine.
func BenchmarkInstrumentQuickJS(b *testing.B) {
	m, _ := os.ReadFile("../../third_party/quickjs-wasi/quickjs.wasm")
	for b.Loop() {
		if _, _, err := Instrument(m, "b", "env", "host_interrupt"); err != nil {
			b.Fatal(err)
		}
	}
}
