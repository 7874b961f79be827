package isolate_test

import (
	"context"
	"fmt"
	"time"

	"github.com/airlockhq/airlock/internal/isolate"
	"github.com/airlockhq/airlock/internal/step"
)

// A hostile step that never yields is stopped by its CPU limit.
func Example_cpuLimit() {
	e, err := isolate.Default()
	if err != nil {
		panic(err)
	}
	hostile := step.Step{Source: "while (true) {}"}
	_, err = e.Run(context.Background(), hostile, step.Limits{CPUTime: 100 * time.Millisecond}, isolate.Options{})
	fmt.Println(err)
	fmt.Println("exit code", step.ExitCode(step.CodeOf(err)))

	// The engine is unaffected: the next step runs normally.
	res, err := e.Run(context.Background(), step.Step{
		Source: "export const code = async (inputs) => ({greeting: `hello ${inputs.name}`})",
		Input:  []byte(`{"name":"airlock"}`),
	}, step.Limits{}, isolate.Options{})
	fmt.Println(string(res.Output), err)
	// Output:
	// ERR_SANDBOX_CPU_LIMIT: CPU time limit exceeded
	// exit code 124
	// {"greeting":"hello airlock"} <nil>
}
