// Package procstep runs code steps in SANDBOX_PROCESS mode: the machine's
// Node.js inside the kernel jail (package jail), with the same step
// contract as the isolate: an ES module exporting code(inputs) (async
// allowed) or a default function, or a plain script whose completion value
// is the result (inputs are the global "inputs"; require works). Inputs and
// output are JSON; console calls stream to a step.LogSink as they happen.
//
// Wiring:
//
//	res, err := procstep.Run(ctx, step.Step{Source: src, Input: in}, step.Limits{},
//		procstep.Options{ModulesDir: "/srv/flow/node_modules", Logs: sink})
//
// The step file and a small runner (embedded) are mounted read-only at
// /step, ModulesDir read-only at /step/node_modules, so npm packages
// resolve as usual. Input, output and logs travel over two private
// descriptors (3 in, 4 out) as length-prefixed JSON frames; the step's
// stdout and stderr are kept only as a bounded diagnostic tail.
//
// # Limits
//
// CPUTime becomes RLIMIT_CPU (whole seconds, rounded up) on the Node
// process: exceeding it is step.CodeCPULimit ("CPU time limit exceeded").
// Timeout is the jail's wall clock (step.CodeTimeout). MemoryBytes is
// V8's old-space limit; the jail's memory limit (cgroup, else
// RLIMIT_DATA) is MemoryBytes plus NodeOverheadBytes for Node itself;
// either one firing is step.CodeMemoryLimit. MaxPayloadBytes is checked on
// the input before it is copied and on the output before it is sent.
// Log bytes over MaxLogBytes are dropped and counted in Usage. With a
// delegated cgroup the jail also gets StepCPUs of CPU bandwidth and a
// process limit.
//
// # Security
//
// Everything the jail provides: fresh namespaces, no host files but /usr,
// /lib*, /etc/ssl and the step, seccomp, Landlock, no capabilities, and no
// network (Net "none") or only airlock's egress proxy (Net "proxy").
//
// # Notes
//
// TypeScript is not transpiled in this mode. Clocks are the real ones (the
// isolate's frozen-clock timing hardening does not apply). A step's own
// writes to descriptor 4 can only forge what its return value and console
// calls could produce anyway; the first result frame wins.
package procstep
