package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os/exec"
	"strings"

	"github.com/airlockhq/airlock/internal/jail"
	"github.com/airlockhq/airlock/internal/step"
)

func init() {
	register("check", "report what this host allows and which execution modes are available", checkMain)
}

// modeStatus is one execution mode's availability.
type modeStatus struct {
	Mode      step.Mode `json:"mode"`
	Available bool      `json:"available"`
	Detail    string    `json:"detail"`
}

func checkMain(e env, args []string) int {
	fs := flag.NewFlagSet("airlock check", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	jsonOut := fs.Bool("json", false, "print the report as JSON")
	modeFlag := fs.String("mode", "", "fail (exit 9) unless this execution `MODE` is available")
	fs.Usage = func() {
		fmt.Fprintln(e.stderr, "usage: airlock check [--json] [--mode MODE]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() != 0 {
		fs.Usage()
		return exitUsage
	}
	var want step.Mode
	if *modeFlag != "" {
		m, err := step.ParseMode(*modeFlag)
		if err != nil {
			fmt.Fprintln(e.stderr, "airlock check:", err)
			return exitUsage
		}
		want = m
	}

	rep := jail.Check(context.Background())
	jailErr := ""
	if f := rep.Missing(); f != nil {
		jailErr = fmt.Sprintf("%s: %s", f.Name, f.Detail)
	} else if rep.ProbeErr != "" {
		jailErr = rep.ProbeErr
	}
	nodeErr := ""
	nodeDetail := ""
	if p, err := exec.LookPath("node"); err != nil {
		nodeErr = "Node.js (node) not found in PATH"
	} else if out, err := exec.Command(p, "--version").Output(); err == nil {
		nodeDetail = "node " + strings.TrimSpace(string(out))
	}
	modes := []modeStatus{
		// UNSANDBOXED and SANDBOX_CODE_AND_PROCESS are not implemented yet:
		// never report a mode available that airlock run would refuse.
		{step.ModeUnsandboxed, false, "not implemented in this version"},
		{step.ModeCodeOnly, true, "in-process isolate: needs no kernel feature"},
		{step.ModeProcess, jailErr == "" && nodeErr == "", or(join(jailErr, nodeErr), "kernel jail + "+nodeDetail)},
		{step.ModeCodeAndProcess, false, "not implemented in this version"},
	}

	if *jsonOut {
		b, _ := json.MarshalIndent(struct {
			*jail.Report
			Modes []modeStatus `json:"modes"`
		}{rep, modes}, "", "  ")
		fmt.Fprintln(e.stdout, string(b))
	} else {
		fmt.Fprintf(e.stdout, "kernel %s\n\nhost features:\n", rep.Kernel)
		for _, f := range rep.Features {
			mark := "ok  "
			if !f.OK {
				mark = "NO  "
				if !f.Required {
					mark = "--  "
				}
			}
			fmt.Fprintf(e.stdout, "  %s%-44s %s\n", mark, f.Name, f.Detail)
		}
		fmt.Fprintln(e.stdout, "\nexecution modes:")
		for _, m := range modes {
			mark := "available    "
			if !m.Available {
				mark = "UNAVAILABLE  "
			}
			fmt.Fprintf(e.stdout, "  %-26s %s%s\n", m.Mode, mark, m.Detail)
		}
	}
	if want != "" {
		for _, m := range modes {
			if m.Mode == want && !m.Available {
				err := step.Errorf(step.CodeUnavailable, "execution mode %s is unavailable on this host: %s", m.Mode, m.Detail)
				fmt.Fprintln(e.stderr, "airlock check:", err)
				return step.ExitCode(err.Code)
			}
		}
	}
	return exitOK
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func join(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "; " + b
}
