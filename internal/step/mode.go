package step

import (
	"fmt"
	"strings"
)

// Mode is an execution mode. The names are those of AP_EXECUTION_MODE.
type Mode string

// Execution modes.
const (
	// ModeUnsandboxed runs the step in a plain Node.js child process.
	ModeUnsandboxed Mode = "UNSANDBOXED"
	// ModeCodeOnly runs the step in a fresh wasm-contained JS isolate.
	ModeCodeOnly Mode = "SANDBOX_CODE_ONLY"
	// ModeProcess runs the step with Node.js inside the kernel jail.
	ModeProcess Mode = "SANDBOX_PROCESS"
	// ModeCodeAndProcess runs isolates inside warm jailed workers.
	ModeCodeAndProcess Mode = "SANDBOX_CODE_AND_PROCESS"
)

// ParseMode accepts the AP_EXECUTION_MODE names and the short CLI names
// (unsandboxed, code, process, combined), case-insensitively.
func ParseMode(s string) (Mode, error) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "UNSANDBOXED":
		return ModeUnsandboxed, nil
	case "SANDBOX_CODE_ONLY", "CODE":
		return ModeCodeOnly, nil
	case "SANDBOX_PROCESS", "PROCESS":
		return ModeProcess, nil
	case "SANDBOX_CODE_AND_PROCESS", "COMBINED":
		return ModeCodeAndProcess, nil
	}
	return "", Errorf(CodeInvalidConfig, "unknown execution mode %q (want UNSANDBOXED, SANDBOX_CODE_ONLY, SANDBOX_PROCESS or SANDBOX_CODE_AND_PROCESS)", s)
}

// String returns the AP_EXECUTION_MODE name.
func (m Mode) String() string { return string(m) }

var _ fmt.Stringer = Mode("")
