package procstep

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"sync"

	"github.com/airlockhq/airlock/internal/jail"
	"github.com/airlockhq/airlock/internal/step"
)

//go:embed runner.mjs
var runnerJS []byte

// Options configure process-mode steps.
type Options struct {
	// NodePath is the node binary. Zero value: "node" looked up in PATH.
	NodePath string
	// ModulesDir is a node_modules directory mounted read-only at
	// /step/node_modules. Zero value: none.
	ModulesDir string
	// Logs receives console output as it happens. Zero value: discarded
	// (still counted).
	Logs step.LogSink
	// Net is "none" (zero value: no network at all) or "proxy" (only
	// airlock's egress proxy, via HTTP_PROXY/HTTPS_PROXY).
	Net string
}

// NodeOverheadBytes is added to MemoryBytes for the jail's memory limit:
// Node's own heap-independent memory (code, buffers, threads).
const NodeOverheadBytes = 160 << 20

// stepCgroup is the jail's cgroup mode (a variable for benchmarks).
var stepCgroup = jail.CgroupAuto

// StepCPUs is the CPU bandwidth of a step's jail (where a cgroup enforces
// it), in CPUs.
const StepCPUs = 2

// diagTail bounds the stdout/stderr kept for diagnostics.
const diagTail = 16 << 10

// newProxy builds the egress proxy for Net "proxy"; set by proxy.go when
// the egress package is available.
var newProxy func() (jail.ProxyServer, func(), error)

// Run runs one step with Node.js in a fresh jail.
//
// # Errors
//
// A step that fails returns a *step.Error: CodeStepThrew (uncaught
// exception, with Name, Message and Stack), CodeSyntax, CodeBadStep,
// CodeCPULimit, CodeTimeout, CodeMemoryLimit, CodePayloadTooLarge,
// CodeInvalidConfig (limits or options out of range), CodeUnavailable (no
// node, or the host cannot run jails; the message names the missing
// feature) or CodeInternal. The Result's Usage is filled in either case
// where known.
func Run(ctx context.Context, s step.Step, lim step.Limits, opt Options) (step.Result, error) {
	var res step.Result
	s, lim, err := step.Prepare(s, lim)
	if err != nil {
		return res, err
	}
	netMode := jail.NetNone
	switch opt.Net {
	case "", "none":
	case "proxy":
		netMode = jail.NetProxy
	default:
		return res, step.Errorf(step.CodeInvalidConfig, "unknown network mode %q (want none or proxy)", opt.Net)
	}
	if err := jail.Supported(); err != nil {
		return res, &step.Error{Code: step.CodeUnavailable, Message: err.Error(), Err: err}
	}
	node := opt.NodePath
	if node == "" {
		node = "node"
	}
	node, err = exec.LookPath(node)
	if err != nil {
		return res, &step.Error{Code: step.CodeUnavailable, Message: "SANDBOX_PROCESS needs Node.js: " + err.Error(), Err: err}
	}

	// The step directory: source, runner, and a mount point for modules.
	dir, err := os.MkdirTemp("", "airlock-step-")
	if err != nil {
		return res, internal(err)
	}
	defer os.RemoveAll(dir)
	if err := os.Chmod(dir, 0o755); err != nil {
		return res, internal(err)
	}
	name := s.Filename
	esm := step.IsModule(s.Source)
	base := strings.TrimSuffix(path.Base(filepath.ToSlash(name)), path.Ext(name))
	if base == "" || base == "." || strings.HasPrefix(base, ".airlock") {
		base = "step"
	}
	file := base + ".js"
	if esm {
		file = base + ".mjs"
	}
	if err := os.WriteFile(filepath.Join(dir, file), []byte(s.Source), 0o644); err != nil {
		return res, internal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".airlock-runner.mjs"), runnerJS, 0o644); err != nil {
		return res, internal(err)
	}
	mounts := []jail.Mount{{Kind: jail.ReadOnlyBind, Source: dir, Dest: "/step"}}
	if opt.ModulesDir != "" {
		if err := os.Mkdir(filepath.Join(dir, "node_modules"), 0o755); err != nil {
			return res, internal(err)
		}
		mounts = append(mounts, jail.Mount{Kind: jail.ReadOnlyBind, Source: opt.ModulesDir, Dest: "/step/node_modules"})
	}
	runCfg, _ := json.Marshal(map[string]any{"file": "/step/" + file, "name": name, "esm": esm, "max": lim.MaxPayloadBytes})

	// Descriptors: 3 = input, 4 = frames; stdout+stderr = diagnostics.
	inR, inW, err := os.Pipe()
	if err != nil {
		return res, internal(err)
	}
	defer inR.Close()
	defer inW.Close()
	outR, outW, err := os.Pipe()
	if err != nil {
		return res, internal(err)
	}
	defer outR.Close()
	defer outW.Close()
	diagR, diagW, err := os.Pipe()
	if err != nil {
		return res, internal(err)
	}
	defer diagR.Close()
	defer diagW.Close()

	memMiB := lim.MemoryBytes >> 20
	if memMiB < 8 {
		memMiB = 8
	}
	cfg := jail.Config{
		Args: []string{node, fmt.Sprintf("--max-old-space-size=%d", memMiB), "--disable-proto=delete",
			"/step/.airlock-runner.mjs", string(runCfg)},
		Env:    []string{"HOME=/tmp", "NODE_ENV=production"},
		Dir:    "/step",
		Mounts: mounts,
		Stdout: diagW, Stderr: diagW,
		ExtraFiles: []*os.File{inR, outW},
		Limits: jail.Limits{
			CPUTime:     lim.CPUTime,
			WallTime:    lim.Timeout,
			MemoryBytes: lim.MemoryBytes + NodeOverheadBytes,
			// Node compiles and collects garbage on helper threads;
			// one CPU of bandwidth would slow its start-up.
			CPUs: StepCPUs,
		},
		Net:    netMode,
		Cgroup: stepCgroup,
	}
	if netMode == jail.NetProxy {
		if newProxy == nil {
			return res, step.Errorf(step.CodeUnavailable, "network mode proxy: the egress proxy is not built into this binary")
		}
		p, stop, err := newProxy()
		if err != nil {
			return res, &step.Error{Code: step.CodeUnavailable, Message: "egress proxy: " + err.Error(), Err: err}
		}
		defer stop()
		cfg.Proxy = p
	}

	// Input: copied after the size check, closed so the runner sees EOF.
	go func() {
		_, _ = inW.Write(s.Input)
		inW.Close()
	}()
	// Frames and diagnostics are read as they come.
	fr := &frameReader{max: int64(lim.MaxPayloadBytes)*2 + 64<<10, logs: opt.Logs, logLimit: lim.MaxLogBytes}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); fr.read(outR) }()
	var diag tailBuffer
	go func() { defer wg.Done(); _, _ = io.Copy(&diag, diagR) }()

	jr, jerr := jail.Run(ctx, cfg)
	// The jail is gone: close our write ends so the readers see EOF.
	outW.Close()
	diagW.Close()
	inR.Close()
	wg.Wait()

	res.Usage = step.Usage{
		CPUTime:         jr.CPUTime,
		WallTime:        jr.WallTime,
		PeakMemoryBytes: jr.MaxRSSBytes,
		LogBytes:        fr.logBytes,
		LogBytesDropped: fr.logDropped,
	}
	if jerr != nil {
		if errors.Is(jerr, jail.ErrUnsupported) {
			return res, &step.Error{Code: step.CodeUnavailable, Message: jerr.Error(), Err: jerr}
		}
		return res, &step.Error{Code: step.CodeInternal, Message: jerr.Error(), Err: jerr}
	}
	return res, outcome(&res, jr, fr, diag.String(), lim)
}

// outcome turns the jail's result and the frames into the step's result.
func outcome(res *step.Result, jr *jail.Result, fr *frameReader, diag string, lim step.Limits) error {
	oom := strings.Contains(diag, "heap out of memory") || strings.Contains(diag, "Reached heap limit") || strings.Contains(diag, "Allocation failed")
	// Without a cgroup, memory is RLIMIT_DATA: a failed allocation often
	// crashes Node outright. A crash without a result near the limit is
	// reported as the memory limit (a heuristic of the rlimit fallback).
	if !jr.Cgroup && jr.Status == jail.StatusSignal && jr.MaxRSSBytes >= (lim.MemoryBytes+NodeOverheadBytes)/2 {
		switch jr.Signal {
		case 6, 7, 11: // SIGABRT, SIGBUS, SIGSEGV
			oom = true
		}
	}
	switch {
	case jr.Status == jail.StatusTimeout && jr.Message == "CPU time limit exceeded":
		return step.Errorf(step.CodeCPULimit, "%s", step.MsgCPULimit)
	case jr.Status == jail.StatusTimeout:
		return step.Errorf(step.CodeTimeout, "step timed out after %s", lim.Timeout)
	case jr.Status == jail.StatusMemory || (fr.final == nil && oom):
		return step.Errorf(step.CodeMemoryLimit, "step exceeded its memory limit of %d bytes", lim.MemoryBytes)
	case fr.err != nil:
		return fr.err
	}
	f := fr.final
	if f == nil && fr.malformed > 0 {
		// The step shares the runner's process and corrupted its messages.
		return step.Errorf(step.CodeBadStep, "the step corrupted the runner's messages (%d malformed) and produced no result", fr.malformed)
	}
	if f == nil {
		msg := fmt.Sprintf("node ended without a result (%s)", jr.Message)
		if t := strings.TrimSpace(diag); t != "" {
			msg += ": " + lastLines(t, 5)
		}
		return step.Errorf(step.CodeInternal, "%s", msg)
	}
	switch f.T {
	case "result":
		// The runner shares its process with the step, which can patch
		// JSON.stringify or write frames itself: never pass on non-JSON.
		if !json.Valid([]byte(f.V)) {
			return step.Errorf(step.CodeBadStep, "the step's result is not valid JSON")
		}
		res.Output = json.RawMessage(f.V)
		return nil
	case "throw", "syntax":
		code := step.CodeStepThrew
		if f.T == "syntax" {
			code = step.CodeSyntax
		}
		return &step.Error{Code: code, Name: f.Name, Message: f.Message, Stack: f.Stack}
	case "bad":
		return step.Errorf(step.CodeBadStep, "%s", f.Message)
	case "toolarge":
		return step.Errorf(step.CodePayloadTooLarge, "output is %d bytes, over the %d-byte payload limit", f.N, lim.MaxPayloadBytes)
	}
	return step.Errorf(step.CodeInternal, "unknown frame %q", f.T)
}

func internal(err error) error {
	return &step.Error{Code: step.CodeInternal, Message: err.Error(), Err: err}
}

// frame is one message from the runner.
type frame struct {
	T       string `json:"t"`
	S       string `json:"s"`
	M       string `json:"m"`
	V       string `json:"v"`
	Name    string `json:"name"`
	Message string `json:"message"`
	Stack   string `json:"stack"`
	N       int64  `json:"n"`
}

// frameReader decodes frames, streams logs under the limit, and keeps the
// first final frame.
type frameReader struct {
	max      int64
	logs     step.LogSink
	logLimit int64

	logBytes, logDropped int64
	final                *frame
	malformed            int // frames that were not the protocol's JSON
	err                  error
}

func (r *frameReader) read(rd io.Reader) {
	var hdr [4]byte
	for {
		if _, err := io.ReadFull(rd, hdr[:]); err != nil {
			return
		}
		n := int64(binary.LittleEndian.Uint32(hdr[:]))
		if n > r.max {
			// Drain, never buffer: the runner checks the payload limit
			// itself, so this is a hostile frame.
			if r.err == nil && r.final == nil {
				r.err = step.Errorf(step.CodePayloadTooLarge, "step sent a %d-byte message, over the payload limit", n)
			}
			if _, err := io.CopyN(io.Discard, rd, n); err != nil {
				return
			}
			continue
		}
		buf := make([]byte, n)
		if _, err := io.ReadFull(rd, buf); err != nil {
			return
		}
		var f frame
		if json.Unmarshal(buf, &f) != nil {
			r.malformed++
			continue
		}
		if f.T == "log" {
			r.log(f)
			continue
		}
		if r.final == nil {
			r.final = &f
		}
	}
}

func (r *frameReader) log(f frame) {
	n := int64(len(f.M))
	if r.logBytes+n > r.logLimit {
		r.logDropped += n
		return
	}
	r.logBytes += n
	if r.logs != nil {
		s := step.Stream(f.S)
		switch s {
		case step.StreamLog, step.StreamInfo, step.StreamWarn, step.StreamError, step.StreamDebug:
		default:
			s = step.StreamLog
		}
		r.logs(step.LogLine{Stream: s, Text: f.M})
	}
}

// tailBuffer keeps the last diagTail bytes written to it.
type tailBuffer struct {
	mu sync.Mutex
	b  []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > diagTail {
		t.b = append(t.b[:0:0], t.b[len(t.b)-diagTail:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(bytes.ToValidUTF8(t.b, nil))
}

func lastLines(s string, n int) string {
	ls := strings.Split(s, "\n")
	if len(ls) > n {
		ls = ls[len(ls)-n:]
	}
	return strings.Join(ls, " | ")
}
