package step

import (
	"encoding/json"
	"fmt"
)

// Prepare checks a step and its limits the same way for every execution
// mode, before anything runs, and fills in defaults: the limits' zero
// fields, a null input, and the filename "step.js".
//
// # Errors
//
// CodeInvalidConfig for limits out of range or input that is not JSON;
// CodePayloadTooLarge for input over the payload limit (checked before the
// input is parsed or copied).
func Prepare(s Step, lim Limits) (Step, Limits, error) {
	if err := lim.Validate(); err != nil {
		return s, lim, err
	}
	lim = lim.WithDefaults()
	if len(s.Input) == 0 {
		s.Input = json.RawMessage("null")
	}
	if len(s.Input) > lim.MaxPayloadBytes {
		return s, lim, &Error{Code: CodePayloadTooLarge,
			Message: fmt.Sprintf("input is %d bytes, over the %d-byte payload limit", len(s.Input), lim.MaxPayloadBytes)}
	}
	if !json.Valid(s.Input) {
		return s, lim, Errorf(CodeInvalidConfig, "input is not valid JSON")
	}
	if s.Filename == "" {
		s.Filename = "step.js"
	}
	return s, lim, nil
}
