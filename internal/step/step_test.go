package step

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestLimitsDefaultsAndValidate(t *testing.T) {
	d := Limits{}.WithDefaults()
	if d.MemoryBytes != DefaultMemoryBytes || d.CPUTime != DefaultCPUTime || d.Timeout != DefaultTimeout ||
		d.MaxPayloadBytes != DefaultPayloadBytes || d.MaxLogBytes != DefaultLogBytes || d.MaxTimers != DefaultMaxTimers {
		t.Fatalf("defaults = %+v", d)
	}
	if err := (Limits{}).Validate(); err != nil {
		t.Fatalf("zero limits: %v", err)
	}
	for name, l := range map[string]Limits{
		"memory below minimum": {MemoryBytes: MinMemoryBytes - 1},
		"memory above maximum": {MemoryBytes: MaxMemoryBytes + 1},
		"negative CPU":         {CPUTime: -time.Second},
		"negative timeout":     {Timeout: -1},
		"payload below 1 KiB":  {MaxPayloadBytes: MinPayloadBytes - 1},
		"payload above 64 MiB": {MaxPayloadBytes: MaxPayloadLimit + 1},
		"negative payload":     {MaxPayloadBytes: -5},
		"negative log limit":   {MaxLogBytes: -1},
		"negative timer limit": {MaxTimers: -1},
	} {
		err := l.Validate()
		if !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: err = %v, want ErrInvalidConfig", name, err)
		}
	}
	err := Limits{MemoryBytes: 1, MaxPayloadBytes: 1}.Validate()
	if n := strings.Count(err.Error(), string(CodeInvalidConfig)); n != 2 {
		t.Errorf("want both problems reported, got %q", err)
	}
}

func TestErrorMatchingAndText(t *testing.T) {
	err := fmt.Errorf("running step: %w", &Error{Code: CodeCPULimit, Message: MsgCPULimit})
	if !errors.Is(err, ErrCPULimit) || errors.Is(err, ErrTimeout) {
		t.Fatal("errors.Is must match on code only")
	}
	if CodeOf(err) != CodeCPULimit || CodeOf(errors.New("other")) != CodeInternal {
		t.Fatal("CodeOf")
	}
	e := &Error{Code: CodeSyntax, Name: "SyntaxError", Message: "unexpected token", Line: 2, Column: 9}
	if got := e.Error(); got != "ERR_STEP_SYNTAX: SyntaxError: unexpected token (line 2, column 9)" {
		t.Fatalf("Error() = %q", got)
	}
}

func TestExitCodes(t *testing.T) {
	want := map[Code]int{
		CodeStepThrew: 1, CodeSyntax: 1, CodeBadStep: 1, CodeMemoryLimit: 3, CodePayloadTooLarge: 4,
		CodeTimeout: 5, CodeStackOverflow: 6, CodeAccessDenied: 7, CodeNetworkBlocked: 7,
		CodeInvalidConfig: 8, CodeUnavailable: 9, CodeInternal: 70, CodeCPULimit: 124,
	}
	for c, n := range want {
		if ExitCode(c) == 0 || ExitCode(c) == 2 || ExitCode(c) != n {
			t.Errorf("ExitCode(%s) = %d, want %d", c, ExitCode(c), n)
		}
	}
}

func TestParseMode(t *testing.T) {
	for in, want := range map[string]Mode{
		"code": ModeCodeOnly, "SANDBOX_CODE_ONLY": ModeCodeOnly, "process": ModeProcess, " sandbox_process ": ModeProcess,
		"unsandboxed": ModeUnsandboxed, "combined": ModeCodeAndProcess, "SANDBOX_CODE_AND_PROCESS": ModeCodeAndProcess,
	} {
		if got, err := ParseMode(in); err != nil || got != want {
			t.Errorf("ParseMode(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := ParseMode("turbo"); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("unknown mode: %v", err)
	}
}

func TestPrepare(t *testing.T) {
	s, lim, err := Prepare(Step{Source: "1"}, Limits{})
	if err != nil || string(s.Input) != "null" || s.Filename != "step.js" || lim.MaxPayloadBytes != DefaultPayloadBytes {
		t.Fatalf("defaults: %+v %+v %v", s, lim, err)
	}
	if _, _, err := Prepare(Step{Input: []byte("{bad")}, Limits{}); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("invalid JSON: %v", err)
	}
	big := Step{Input: []byte(`"` + strings.Repeat("x", 2000) + `"`)}
	if _, _, err := Prepare(big, Limits{MaxPayloadBytes: 1024}); !errors.Is(err, ErrPayloadTooLarge) {
		t.Errorf("oversized input: %v", err)
	}
	if _, _, err := Prepare(Step{}, Limits{MemoryBytes: 1}); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("bad limits: %v", err)
	}
}
