package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/airlockhq/airlock/internal/isolate"
	"github.com/airlockhq/airlock/internal/procstep"
	"github.com/airlockhq/airlock/internal/step"
)

func init() {
	register("run", "run a JavaScript code step and print its JSON output", runMain)
}

// runFlags are the options of `airlock run`.
type runFlags struct {
	input    string
	memory   int64
	cpuTime  time.Duration
	timeout  time.Duration
	timing   string
	jsonOut  bool
	mode     string
	maxBytes int
	net      string
	modules  string
}

func runMain(e env, args []string) int {
	fs := flag.NewFlagSet("airlock run", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	var f runFlags
	fs.StringVar(&f.input, "input", "null", "input JSON, or @FILE to read it from FILE")
	fs.Int64Var(&f.memory, "memory", step.DefaultMemoryBytes>>20, "memory limit in MiB")
	fs.DurationVar(&f.cpuTime, "cpu-time", step.DefaultCPUTime, "CPU time limit")
	fs.DurationVar(&f.timeout, "timeout", step.DefaultTimeout, "wall-clock timeout, including time spent waiting")
	fs.StringVar(&f.timing, "timing", "freeze", "clock hardening: freeze (clocks do not advance within a step) or off")
	fs.BoolVar(&f.jsonOut, "json", false, "print a JSON object with the output, usage and error instead of the bare output")
	fs.StringVar(&f.mode, "mode", os.Getenv("AP_EXECUTION_MODE"), "execution mode: code (SANDBOX_CODE_ONLY, the default), process (SANDBOX_PROCESS); default $AP_EXECUTION_MODE")
	fs.IntVar(&f.maxBytes, "max-payload", step.DefaultPayloadBytes, "input and output payload limit in bytes (1 KiB to 64 MiB)")
	fs.StringVar(&f.net, "net", "", "process mode only: none (the default: no network) or proxy (HTTP(S) through airlock's egress proxy)")
	fs.StringVar(&f.modules, "modules", "", "process mode only: a node_modules directory mounted read-only for the step")
	fs.Usage = func() {
		fmt.Fprintln(e.stderr, "usage: airlock run FILE [flags]")
		fs.PrintDefaults()
	}
	file, err := parseInterspersed(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		fmt.Fprintf(e.stderr, "airlock run: %v\n", err)
		return exitUsage
	}

	src, err := os.ReadFile(file)
	if err != nil {
		fmt.Fprintf(e.stderr, "airlock run: cannot read step: %v\n", err)
		return exitUsage
	}
	input, err := readInput(f.input, f.maxBytes)
	if err != nil {
		fmt.Fprintf(e.stderr, "airlock run: %v\n", err)
		if errors.Is(err, step.ErrPayloadTooLarge) {
			return step.ExitCode(step.CodePayloadTooLarge)
		}
		return exitUsage
	}
	mode := step.ModeCodeOnly
	if f.mode != "" {
		if mode, err = step.ParseMode(f.mode); err != nil {
			fmt.Fprintf(e.stderr, "airlock run: %v\n", err)
			return exitUsage
		}
	}
	timing, err := isolate.ParseTiming(f.timing)
	if err != nil {
		fmt.Fprintf(e.stderr, "airlock run: %v\n", err)
		return exitUsage
	}
	lim := step.Limits{MemoryBytes: f.memory << 20, CPUTime: f.cpuTime, Timeout: f.timeout, MaxPayloadBytes: f.maxBytes}
	if err := lim.Validate(); err != nil {
		fmt.Fprintf(e.stderr, "airlock run: %v\n", strings.ReplaceAll(err.Error(), "\n", "; "))
		return exitUsage
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logs := func(l step.LogLine) {
		text := terminalSafe(l.Text)
		if l.Stream == step.StreamLog {
			fmt.Fprintln(e.stderr, text)
			return
		}
		fmt.Fprintf(e.stderr, "[%s] %s\n", l.Stream, text)
	}
	if mode != step.ModeProcess && (f.net != "" || f.modules != "") {
		fmt.Fprintf(e.stderr, "airlock run: --net and --modules apply to --mode process only\n")
		return exitUsage
	}
	s := step.Step{Source: string(src), Filename: file, Input: input}
	var res step.Result
	switch mode {
	case step.ModeCodeOnly:
		eng, eerr := isolate.Default()
		if eerr != nil {
			err = &step.Error{Code: step.CodeInternal, Message: "initialising engine", Err: eerr}
			break
		}
		res, err = eng.Run(ctx, s, lim, isolate.Options{Logs: logs, Timing: timing})
	case step.ModeProcess:
		res, err = procstep.Run(ctx, s, lim, procstep.Options{Logs: logs, Net: f.net, ModulesDir: f.modules})
	default:
		err = step.Errorf(step.CodeUnavailable, "execution mode %s is not implemented in this version (available: SANDBOX_CODE_ONLY, SANDBOX_PROCESS)", mode)
	}
	return report(e, f.jsonOut, res, err)
}

// parseInterspersed parses flags before and after the one positional
// argument (the step file).
func parseInterspersed(fs *flag.FlagSet, args []string) (string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return "", err
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(pos) != 1 {
		return "", fmt.Errorf("want exactly one step FILE, got %d arguments", len(pos))
	}
	return pos[0], nil
}

// readInput returns the input JSON from a literal or @FILE, bounded by max.
func readInput(arg string, max int) ([]byte, error) {
	var b []byte
	if name, ok := strings.CutPrefix(arg, "@"); ok {
		f, err := os.Open(name)
		if err != nil {
			return nil, fmt.Errorf("cannot read input: %w", err)
		}
		defer f.Close()
		b, err = io.ReadAll(io.LimitReader(f, int64(max)+1))
		if err != nil {
			return nil, fmt.Errorf("cannot read input: %w", err)
		}
	} else {
		b = []byte(arg)
	}
	if len(b) > max {
		return nil, &step.Error{Code: step.CodePayloadTooLarge, Message: fmt.Sprintf("input is over the %d-byte payload limit", max)}
	}
	if !json.Valid(b) {
		var v any
		err := json.Unmarshal(b, &v)
		var se *json.SyntaxError
		if errors.As(err, &se) {
			line, col := lineCol(b, se.Offset)
			return nil, fmt.Errorf("input is not valid JSON: %v (line %d, column %d)", se, line, col)
		}
		return nil, fmt.Errorf("input is not valid JSON: %v", err)
	}
	return b, nil
}

func lineCol(b []byte, off int64) (int, int) {
	line, col := 1, 1
	for i := int64(0); i < off-1 && i < int64(len(b)); i++ {
		if b[i] == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return line, col
}

// jsonReport is the --json output.
type jsonReport struct {
	OK     bool            `json:"ok"`
	Output json.RawMessage `json:"output,omitempty"`
	Error  *jsonError      `json:"error,omitempty"`
	Usage  jsonUsage       `json:"usage"`
}

type jsonError struct {
	Code    step.Code `json:"code"`
	Message string    `json:"message"`
	Name    string    `json:"name,omitempty"`
	Stack   string    `json:"stack,omitempty"`
	Line    int       `json:"line,omitempty"`
	Column  int       `json:"column,omitempty"`
}

type jsonUsage struct {
	CPUMillis       float64 `json:"cpu_ms"`
	WallMillis      float64 `json:"wall_ms"`
	PeakMemoryBytes int64   `json:"peak_memory_bytes"`
	LogBytes        int64   `json:"log_bytes"`
	LogBytesDropped int64   `json:"log_bytes_dropped"`
	TimersDropped   int64   `json:"timers_dropped"`
}

// report prints the result or error and returns the exit code.
func report(e env, asJSON bool, res step.Result, err error) int {
	var se *step.Error
	if err != nil && !errors.As(err, &se) {
		se = &step.Error{Code: step.CodeInternal, Message: err.Error()}
	}
	code := exitOK
	if se != nil {
		code = step.ExitCode(se.Code)
	}
	if asJSON {
		r := jsonReport{OK: se == nil, Output: res.Output, Usage: jsonUsage{
			CPUMillis: float64(res.Usage.CPUTime) / 1e6, WallMillis: float64(res.Usage.WallTime) / 1e6,
			PeakMemoryBytes: res.Usage.PeakMemoryBytes, LogBytes: res.Usage.LogBytes,
			LogBytesDropped: res.Usage.LogBytesDropped, TimersDropped: res.Usage.TimersDropped,
		}}
		if se != nil {
			r.Error = &jsonError{Code: se.Code, Message: se.Message, Name: se.Name, Stack: se.Stack, Line: se.Line, Column: se.Column}
		}
		enc := json.NewEncoder(e.stdout)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(r)
		return code
	}
	if se != nil {
		// Message and stack come from the step: escape them like its logs.
		fmt.Fprintf(e.stderr, "airlock: %s\n", terminalSafe(se.Error()))
		if se.Stack != "" && se.Code == step.CodeStepThrew {
			fmt.Fprint(e.stderr, terminalSafe(strings.TrimRight(se.Stack, "\n")), "\n")
		}
		return code
	}
	fmt.Fprintf(e.stdout, "%s\n", res.Output)
	return code
}

// terminalSafe escapes control characters other than newline and tab, so
// that a step's console output cannot drive the operator's terminal
// (escape sequences that retitle it, move the cursor, write the clipboard).
func terminalSafe(s string) string {
	clean := true
	for _, r := range s {
		if isUnsafeControl(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if isUnsafeControl(r) {
			fmt.Fprintf(&b, "\\x%02x", r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func isUnsafeControl(r rune) bool {
	return (r < 0x20 && r != '\n' && r != '\t') || r == 0x7f || (r >= 0x80 && r < 0xa0)
}
