package step

import (
	"encoding/json"
	"time"
)

// Step is one code step to execute.
type Step struct {
	// Source is the JavaScript source: an ES module exporting code(inputs)
	// or a default function, or a plain script whose completion value is
	// the result.
	Source string
	// Filename names the source in stack traces. Zero value: "step.js".
	Filename string
	// Input is the JSON passed as inputs. Zero value: null.
	Input json.RawMessage
}

// Stream tells which console method produced a log line.
type Stream string

// Log streams, one per console method.
const (
	StreamLog   Stream = "log"
	StreamInfo  Stream = "info"
	StreamWarn  Stream = "warn"
	StreamError Stream = "error"
	StreamDebug Stream = "debug"
)

// LogLine is one console call of a step, delivered as it happens.
type LogLine struct {
	Stream Stream
	Text   string
}

// LogSink receives log lines as the step produces them. It is called from
// the goroutine running the step and must not block for long. A nil sink
// discards logs (they are still counted against the log limit).
type LogSink func(LogLine)

// Usage is what a step consumed.
type Usage struct {
	// CPUTime is the CPU time charged to the step (thread CPU time for the
	// isolate, rusage for a process).
	CPUTime time.Duration
	// WallTime is the elapsed time from start to result.
	WallTime time.Duration
	// PeakMemoryBytes is the peak memory of the step (linear memory for the
	// isolate, max RSS for a process).
	PeakMemoryBytes int64
	// LogBytes is the number of log bytes delivered to the sink.
	LogBytes int64
	// LogBytesDropped is the number of log bytes dropped over the limit.
	LogBytesDropped int64
	// TimersDropped counts timer registrations refused over the limit.
	TimersDropped int64
}

// Result is the outcome of a step that ran to completion.
type Result struct {
	// Output is the JSON of the returned (awaited) value; "null" for undefined.
	Output json.RawMessage
	Usage  Usage
}
