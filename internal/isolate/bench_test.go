package isolate

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"runtime/debug"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/airlockhq/airlock/internal/step"
	"golang.org/x/sys/unix"
)

// benchRun runs src once per iteration on the default engine, checks the
// first output against want (when not empty), and reports the p50 and p90
// of the per-iteration latency in milliseconds.
func benchRun(b *testing.B, src string, input []byte, want string) {
	e, err := Default()
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	s := step.Step{Source: src, Input: input}
	res, err := e.Run(ctx, s, step.Limits{}, Options{})
	if err != nil {
		b.Fatal(err)
	}
	if want != "" && string(res.Output) != want {
		b.Fatalf("output %.100s, want %.100s", res.Output, want)
	}
	var lat []time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		if _, err := e.Run(ctx, s, step.Limits{}, Options{}); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(lat)
	ms := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))]) / 1e6 }
	b.ReportMetric(ms(0.5), "p50-ms")
	b.ReportMetric(ms(0.9), "p90-ms")
}

// BenchmarkFreshIsolate: a new instance, `1+1`, dispose.
func BenchmarkFreshIsolate(b *testing.B) { benchRun(b, "1+1", nil, "2") }

// BenchmarkWorkflowStep: the peers' 24 KB JSON-reshaping step, in a fresh
// instance; its output is checked byte for byte before timing.
func BenchmarkWorkflowStep(b *testing.B) {
	src, want := workflowStep(b)
	out, err := json.Marshal(want)
	if err != nil {
		b.Fatal(err)
	}
	benchRun(b, src, nil, string(out))
}

// BenchmarkFib27: recursive fib(27) (about 300k calls).
func BenchmarkFib27(b *testing.B) {
	benchRun(b, "function fib(n) { return n < 2 ? n : fib(n - 1) + fib(n - 2) } fib(27)", nil, "196418")
}

// BenchmarkIdleIsolateMemory measures what a live, idle isolate costs: N
// steps run concurrently and park on a timer; the process's RSS with all
// of them parked, minus the RSS before, divided by N. The engine's instance
// pools are emptied first, so every parked step holds an instance of its
// own. The figure includes the instance's resident linear memory, its Go
// objects (wazero module instance, vm, timers) and the goroutine running it.
func BenchmarkIdleIsolateMemory(b *testing.B) {
	const n = 100
	e, err := Default()
	if err != nil {
		b.Fatal(err)
	}
	const src = `(async () => {
		console.log("parked");
		await new Promise(r => setTimeout(r, 60000));
	})()`
	var perIsolate, heapPerIsolate []float64
	for b.Loop() {
		drainPools(e)
		debug.FreeOSMemory()
		rss0, heap0 := rssOf(b), liveHeap()

		ctx, cancel := context.WithCancel(context.Background())
		var parked, done sync.WaitGroup
		parked.Add(n)
		done.Add(n)
		errs := make(chan error, n)
		for range n {
			go func() {
				defer done.Done()
				_, err := e.Run(ctx, step.Step{Source: src}, step.Limits{}, Options{Logs: func(step.LogLine) { parked.Done() }})
				if step.CodeOf(err) != step.CodeTimeout {
					errs <- fmt.Errorf("parked step ended with %v", err)
				}
			}()
		}
		parked.Wait()
		heap1 := liveHeap()
		debug.FreeOSMemory()
		rss1 := rssOf(b)
		cancel()
		done.Wait()
		close(errs)
		for err := range errs {
			b.Fatal(err)
		}
		perIsolate = append(perIsolate, float64(rss1-rss0)/n)
		heapPerIsolate = append(heapPerIsolate, (float64(heap1)-float64(heap0))/n)
	}
	b.ReportMetric(median(perIsolate), "B/isolate")
	b.ReportMetric(median(heapPerIsolate), "heap-B/isolate")
}

func median(v []float64) float64 {
	slices.Sort(v)
	return v[len(v)/2]
}

func rssOf(b *testing.B) int64 { return rssBytes(b) }

func liveHeap() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// drainPools closes every pooled instance and unmaps every pooled memory
// region of e, as if no step had ever run.
func drainPools(e *Engine) {
	e.pools.Range(func(_, v any) bool {
		p := v.(*memPool)
		for in, ok := p.idle.pop(); ok; in, ok = p.idle.pop() {
			in.mod.Close(context.Background()) // returns its region to p.free
		}
		for r, ok := p.free.pop(); ok; r, ok = p.free.pop() {
			_ = unix.Munmap(r)
		}
		return true
	})
}
