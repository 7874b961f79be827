//go:build !linux || !amd64

package jail

import (
	"context"
	"fmt"
	"runtime"
)

// Run always fails: the jail needs Linux namespaces.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	err := Supported()
	return &Result{Status: StatusInternal, ExitCode: -1, Message: err.Error()}, err
}

// Supported reports that the jail needs Linux.
func Supported() error {
	return fmt.Errorf("%w: the kernel jail needs Linux, this is %s", ErrUnsupported, runtime.GOOS)
}

// LandlockABI is 0 outside Linux.
func LandlockABI() int { return 0 }

// Check reports that the jail needs Linux on amd64.
func Check(ctx context.Context) *Report {
	return &Report{Features: []Feature{{Name: "Linux on amd64", Required: true, Detail: "this is " + runtime.GOOS + "/" + runtime.GOARCH}}}
}

// DetectCgroup finds nothing outside Linux.
func DetectCgroup() CgroupInfo { return CgroupInfo{Reason: "not Linux"} }
