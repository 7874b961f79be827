package isolate

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/airlockhq/airlock/internal/step"
)

// WASI errno values.
const (
	errnoSuccess = 0
	errnoBadf    = 8
	errnoFault   = 21
	errnoInval   = 28
)

// Host call operations, shared with prelude.js.
const (
	opLog   = 1
	opTimer = 2
	opClear = 3
	opDone  = 4
	opCap   = 5
)

// maxHostArgs bounds the arguments hostCall reads.
const maxHostArgs = 8

// maxErrorDescriptor bounds the error JSON the guest reports.
const maxErrorDescriptor = 1 << 20

var i32, i64 = api.ValueTypeI32, api.ValueTypeI64

// defineHost registers every import the engine module has. Nothing else of
// the host is reachable from the guest.
func defineHost(ctx context.Context, rt wazero.Runtime) error {
	env := rt.NewHostModuleBuilder("env")
	fn := func(b wazero.HostModuleBuilder, name string, f api.GoModuleFunc, params, results []api.ValueType) {
		b.NewFunctionBuilder().WithGoModuleFunction(f, params, results).Export(name)
	}
	fn(env, "host_call", hostCall, []api.ValueType{i32, i32, i32, i32, i32}, []api.ValueType{i32})
	// host_interrupt is QuickJS's interrupt poll and also the tick the
	// loop-header instrumentation calls every loopBudget iterations (see
	// wasmpatch): returning 1 makes the guest trap, returning 0 refills the
	// budget. Either way the call is a Go preemption point.
	fn(env, "host_interrupt", func(ctx context.Context, _ api.Module, s []uint64) {
		v := vmOf(ctx)
		if v.stopReason.Load() != stopNone {
			s[0] = 1
			return
		}
		v.refill()
		s[0] = 0
	}, nil, []api.ValueType{i32})
	fn(env, "host_promise_rejection", func(context.Context, api.Module, []uint64) {
		// Never enabled; the values are freed with the instance.
	}, []api.ValueType{i32, i32, i32}, nil)
	// No module loader is installed: imports fail inside QuickJS with
	// "could not load module". These hooks only exist to satisfy the imports.
	fn(env, "host_module_normalize", func(_ context.Context, _ api.Module, s []uint64) { s[0] = 0 },
		[]api.ValueType{i32, i32}, []api.ValueType{i32})
	fn(env, "host_module_load", func(_ context.Context, _ api.Module, s []uint64) { s[0] = 0 },
		[]api.ValueType{i32, i32}, []api.ValueType{i32})
	// The guest's time zone is always UTC: the host's is not disclosed.
	fn(env, "host_get_timezone_offset", func(_ context.Context, _ api.Module, s []uint64) { s[0] = 0 },
		[]api.ValueType{i32, i32}, []api.ValueType{i32})
	if _, err := env.Instantiate(ctx); err != nil {
		return fmt.Errorf("isolate: host module env: %w", err)
	}

	wasi := rt.NewHostModuleBuilder("wasi_snapshot_preview1")
	fn(wasi, "clock_time_get", clockTimeGet, []api.ValueType{i32, i64, i32}, []api.ValueType{i32})
	fn(wasi, "random_get", randomGet, []api.ValueType{i32, i32}, []api.ValueType{i32})
	fn(wasi, "fd_write", fdWrite, []api.ValueType{i32, i32, i32, i32}, []api.ValueType{i32})
	fn(wasi, "fd_close", errnoFunc(errnoBadf), []api.ValueType{i32}, []api.ValueType{i32})
	fn(wasi, "fd_fdstat_get", errnoFunc(errnoBadf), []api.ValueType{i32, i32}, []api.ValueType{i32})
	fn(wasi, "fd_seek", errnoFunc(errnoBadf), []api.ValueType{i32, i64, i32, i32}, []api.ValueType{i32})
	if _, err := wasi.Instantiate(ctx); err != nil {
		return fmt.Errorf("isolate: host module wasi: %w", err)
	}
	return nil
}

func vmOf(ctx context.Context) *vm { return ctx.Value(vmKey{}).(*vm) }

func errnoFunc(errno uint64) api.GoModuleFunc {
	return func(_ context.Context, _ api.Module, s []uint64) { s[0] = errno }
}

func clockTimeGet(ctx context.Context, mod api.Module, s []uint64) {
	v := vmOf(ctx)
	var t uint64
	switch uint32(s[0]) {
	case 0: // realtime
		t = v.realtimeNs()
	case 1, 2, 3: // monotonic, process and thread CPU time: all virtual
		t = v.monotonicNs()
	default:
		s[0] = errnoInval
		return
	}
	if !mod.Memory().WriteUint64Le(uint32(s[2]), t) {
		s[0] = errnoFault
		return
	}
	s[0] = errnoSuccess
}

func randomGet(_ context.Context, mod api.Module, s []uint64) {
	buf, ok := mod.Memory().Read(uint32(s[0]), uint32(s[1]))
	if !ok {
		s[0] = errnoFault
		return
	}
	_, _ = rand.Read(buf)
	s[0] = errnoSuccess
}

// fdWrite accepts and discards writes (QuickJS prints some internal
// diagnostics to stderr); user output goes through console only.
func fdWrite(_ context.Context, mod api.Module, s []uint64) {
	mem := mod.Memory()
	iovs, n := uint32(s[1]), uint32(s[2])
	var total uint32
	for i := uint32(0); i < n; i++ {
		l, ok := mem.ReadUint32Le(iovs + 8*i + 4)
		if !ok {
			s[0] = errnoFault
			return
		}
		total += l
	}
	if !mem.WriteUint32Le(uint32(s[3]), total) {
		s[0] = errnoFault
		return
	}
	s[0] = errnoSuccess
}

// hostCall is the one host function the prelude holds: host(op, ...).
func hostCall(ctx context.Context, mod api.Module, s []uint64) {
	v := vmOf(ctx)
	argc, argvPtr := uint32(s[3]), uint32(s[4])
	// Only the prelude holds this function and passes at most four
	// arguments; a guest that reaches it some other way must not make the
	// host allocate by its say-so.
	var buf [maxHostArgs]uint32
	args := buf[:min(argc, maxHostArgs)]
	for i := range args {
		args[i], _ = mod.Memory().ReadUint32Le(argvPtr + 4*uint32(i))
	}
	ret, err := v.hostOp(ctx, args)
	if err == nil {
		var p uint32
		p, err = v.newNumber(ctx, ret)
		s[0] = uint64(p)
	}
	if err != nil {
		// Abort the execution: the error surfaces from the outer call.
		if v.hostErr == nil {
			v.hostErr = err
		}
		v.halt(stopHost)
		panic(err)
	}
}

func (v *vm) hostOp(ctx context.Context, args []uint32) (float64, error) {
	if len(args) == 0 {
		return 0, nil
	}
	op, err := v.num(ctx, args[0])
	if err != nil {
		return 0, err
	}
	arg := func(i int) uint32 {
		if i < len(args) {
			return args[i]
		}
		return v.e.undef
	}
	switch op {
	case opLog:
		level, err := v.num(ctx, arg(1))
		if err != nil {
			return 0, err
		}
		remaining := v.lim.MaxLogBytes - v.usage.LogBytes
		n, text, err := v.str(ctx, arg(2), int(min(remaining, int64(maxErrorDescriptor))))
		if err != nil {
			return 0, err
		}
		if text == nil && n > 0 || int64(n) > remaining {
			v.usage.LogBytesDropped += int64(n)
			return 0, nil
		}
		v.usage.LogBytes += int64(n)
		if v.logs != nil {
			v.logs(step.LogLine{Stream: streamOf(level), Text: string(text)})
		}
		return 1, nil
	case opTimer:
		id, err := v.num(ctx, arg(1))
		if err != nil {
			return 0, err
		}
		ms, err := v.num(ctx, arg(2))
		if err != nil {
			return 0, err
		}
		if !v.timers.has(int64(id)) && int64(id) != v.firing {
			if v.timersCreated >= v.lim.MaxTimers {
				v.usage.TimersDropped++
				return 0, nil
			}
			v.timersCreated++
		}
		v.timers.add(int64(id), ms)
		return 1, nil
	case opClear:
		id, err := v.num(ctx, arg(1))
		if err != nil {
			return 0, err
		}
		v.timers.remove(int64(id))
		return 1, nil
	case opCap:
		id, err := v.num(ctx, arg(1))
		if err != nil {
			return 0, err
		}
		_, target, err := v.str(ctx, arg(2), 4096)
		if err != nil {
			return 0, err
		}
		_, args, err := v.str(ctx, arg(3), v.lim.MaxPayloadBytes)
		if err != nil {
			return 0, err
		}
		name, method, _ := strings.Cut(string(target), "\n")
		return float64(v.startCap(v.capCtx, id, name, method, args)), nil
	case opDone:
		ok, err := v.num(ctx, arg(1))
		if err != nil {
			return 0, err
		}
		max := maxErrorDescriptor
		if ok == 1 {
			max = v.lim.MaxPayloadBytes
		}
		n, b, err := v.str(ctx, arg(2), max)
		if err != nil {
			return 0, err
		}
		if b == nil && n > 0 {
			return 0, &step.Error{Code: step.CodePayloadTooLarge,
				Message: fmt.Sprintf("output is %d bytes, over the %d-byte payload limit", n, max)}
		}
		v.done, v.ok, v.payload = true, ok == 1, b
		return 1, nil
	}
	return 0, nil
}

func streamOf(level float64) step.Stream {
	switch level {
	case 1:
		return step.StreamInfo
	case 2:
		return step.StreamWarn
	case 3:
		return step.StreamError
	case 4:
		return step.StreamDebug
	}
	return step.StreamLog
}
