//go:build linux && amd64

package jail_test

import (
	"context"
	"fmt"
	"time"

	"github.com/airlockhq/airlock/internal/jail"
)

// A hostile infinite loop is stopped by the CPU limit; the whole jail dies
// with it. (Runs only on a host where jails work: see airlock check.)
func ExampleRun_cpuLimit() {
	res, err := jail.Run(context.Background(), jail.Config{
		Args:   []string{"/bin/sh", "-c", "while :; do :; done"},
		Limits: jail.Limits{CPUTime: time.Second},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.Status, res.Message)
	// Output: TO CPU time limit exceeded
}
