package isolate

import (
	"context"
	"testing"

	"github.com/airlockhq/airlock/internal/step"
)

func benchRun(b *testing.B, src string, input []byte) {
	e, err := Default()
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	s := step.Step{Source: src, Input: input}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := e.Run(ctx, s, step.Limits{}, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFreshIsolate: a new instance, `1+1`, dispose.
func BenchmarkFreshIsolate(b *testing.B) { benchRun(b, "1+1", nil) }
