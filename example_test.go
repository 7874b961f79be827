package airlock_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/airlockhq/airlock"
)

func Example() {
	rt, err := airlock.New()
	if err != nil {
		panic(err)
	}
	res, err := rt.Run(context.Background(), airlock.Step{
		Source: `export const code = async (inputs) => ({ sum: inputs.a + inputs.b })`,
		Input:  []byte(`{"a": 1, "b": 2}`),
	})
	fmt.Println(string(res.Output), err)
	// Output: {"sum":3} <nil>
}

// A hostile infinite loop is stopped by the CPU limit, from outside the guest.
func Example_cpuLimit() {
	rt, err := airlock.New(airlock.WithLimits(airlock.Limits{CPUTime: 100 * time.Millisecond}))
	if err != nil {
		panic(err)
	}
	_, err = rt.Run(context.Background(), airlock.Step{Source: `while (true) {}`})
	var e *airlock.Error
	fmt.Println(errors.Is(err, airlock.ErrCPULimit), errors.As(err, &e) && e.Message == "CPU time limit exceeded")
	// Output: true true
}
