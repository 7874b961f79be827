package step

import (
	"errors"
	"fmt"
)

// Code is a stable error code. The string is API.
type Code string

// Error codes. Each names one failure mode; exit codes come from ExitCode.
const (
	// CodeStepThrew: the step threw (or rejected) a value it did not catch.
	CodeStepThrew Code = "ERR_STEP_THREW"
	// CodeSyntax: the step's source does not parse.
	CodeSyntax Code = "ERR_STEP_SYNTAX"
	// CodeBadStep: the step has no runnable entry (e.g. an ES module with
	// neither code() nor a default function export), or its result is not
	// JSON-serializable.
	CodeBadStep Code = "ERR_STEP_INVALID"
	// CodeCPULimit: the step used more CPU time than allowed. Exit code 124,
	// message "CPU time limit exceeded".
	CodeCPULimit Code = "ERR_SANDBOX_CPU_LIMIT"
	// CodeTimeout: the step's wall-clock timeout elapsed.
	CodeTimeout Code = "ERR_SANDBOX_TIMEOUT"
	// CodeMemoryLimit: the step exceeded its memory cap.
	CodeMemoryLimit Code = "ERR_SANDBOX_MEMORY_LIMIT"
	// CodeStackOverflow: the engine's native stack was exhausted in a way
	// the step could not catch.
	CodeStackOverflow Code = "ERR_SANDBOX_STACK_OVERFLOW"
	// CodePayloadTooLarge: inputs or output exceed the payload limit.
	CodePayloadTooLarge Code = "ERR_SANDBOX_PAYLOAD_TOO_LARGE"
	// CodeAccessDenied: the step used a capability it was not granted.
	CodeAccessDenied Code = "ERR_SANDBOX_ACCESS_DENIED"
	// CodeNetworkBlocked: the network guard refused a destination.
	CodeNetworkBlocked Code = "ERR_SANDBOX_NETWORK_BLOCKED"
	// CodeInvalidConfig: the limits or options given are out of range.
	CodeInvalidConfig Code = "ERR_INVALID_CONFIG"
	// CodeUnavailable: the requested execution mode cannot run on this host
	// (for example, user namespaces are disabled).
	CodeUnavailable Code = "ERR_MODE_UNAVAILABLE"
	// CodeInternal: a bug or host failure in airlock itself.
	CodeInternal Code = "ERR_INTERNAL"
)

// MsgCPULimit is the message of every CodeCPULimit error.
const MsgCPULimit = "CPU time limit exceeded"

// ExitCode maps a code to the CLI exit code. 0 and 2 (usage) are never
// returned here.
func ExitCode(c Code) int {
	switch c {
	case CodeStepThrew, CodeSyntax, CodeBadStep:
		return 1
	case CodeMemoryLimit:
		return 3
	case CodePayloadTooLarge:
		return 4
	case CodeTimeout:
		return 5
	case CodeStackOverflow:
		return 6
	case CodeAccessDenied, CodeNetworkBlocked:
		return 7
	case CodeInvalidConfig:
		return 8
	case CodeUnavailable:
		return 9
	case CodeCPULimit:
		return 124
	default:
		return 70
	}
}

// Error is a failed step. Name, Stack, Line and Column are set when the
// failure is a JavaScript exception.
type Error struct {
	Code    Code
	Message string
	// Name is the JavaScript error name (TypeError, RangeError...), if any.
	Name string
	// Stack is the JavaScript stack trace, if any, with file:line:column
	// pointing into the user's source.
	Stack string
	// Line and Column locate a syntax error (1-based); 0 when unknown.
	Line, Column int
	// Err is an underlying cause, if any.
	Err error
}

func (e *Error) Error() string {
	msg := e.Message
	if e.Name != "" {
		msg = e.Name + ": " + msg
	}
	if e.Line > 0 {
		msg = fmt.Sprintf("%s (line %d, column %d)", msg, e.Line, e.Column)
	}
	return string(e.Code) + ": " + msg
}

func (e *Error) Unwrap() error { return e.Err }

// Is matches another *Error with the same Code, so callers can write
// errors.Is(err, &step.Error{Code: step.CodeCPULimit}) or use the sentinels.
func (e *Error) Is(target error) bool {
	var t *Error
	if errors.As(target, &t) {
		return t.Code == e.Code && t.Message == ""
	}
	return false
}

// Errorf builds an *Error with a formatted message.
func Errorf(c Code, format string, args ...any) *Error {
	return &Error{Code: c, Message: fmt.Sprintf(format, args...)}
}

// Sentinels for errors.Is. They match any *Error with the same code.
var (
	ErrStepThrew       = &Error{Code: CodeStepThrew}
	ErrSyntax          = &Error{Code: CodeSyntax}
	ErrBadStep         = &Error{Code: CodeBadStep}
	ErrCPULimit        = &Error{Code: CodeCPULimit}
	ErrTimeout         = &Error{Code: CodeTimeout}
	ErrMemoryLimit     = &Error{Code: CodeMemoryLimit}
	ErrStackOverflow   = &Error{Code: CodeStackOverflow}
	ErrPayloadTooLarge = &Error{Code: CodePayloadTooLarge}
	ErrAccessDenied    = &Error{Code: CodeAccessDenied}
	ErrNetworkBlocked  = &Error{Code: CodeNetworkBlocked}
	ErrInvalidConfig   = &Error{Code: CodeInvalidConfig}
	ErrUnavailable     = &Error{Code: CodeUnavailable}
	ErrInternal        = &Error{Code: CodeInternal}
)

// CodeOf returns the code of err, or CodeInternal if err is not an *Error.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}
