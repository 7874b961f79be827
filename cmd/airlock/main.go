package main

import (
	"fmt"
	"io"
	"os"
	"sort"
)

func main() {
	os.Exit(run(os.Args, os.Stdin, os.Stdout, os.Stderr))
}

// env gives a command its standard streams, so commands are testable in
// process.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

// command is one subcommand.
type command struct {
	summary string
	// main runs the command with the arguments after its name and returns
	// the process exit code.
	main func(e env, args []string) int
}

// commands is filled by each subcommand file's init.
var commands = map[string]command{}

func register(name, summary string, main func(e env, args []string) int) {
	if _, dup := commands[name]; dup {
		panic("duplicate command " + name)
	}
	commands[name] = command{summary: summary, main: main}
}

// Exit codes shared by every command.
const (
	exitOK    = 0
	exitUsage = 2
)

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := env{stdin: stdin, stdout: stdout, stderr: stderr}
	if len(args) < 2 {
		usage(stderr)
		return exitUsage
	}
	name := args[1]
	switch name {
	case "-h", "--help", "help":
		usage(stdout)
		return exitOK
	}
	c, ok := commands[name]
	if !ok {
		fmt.Fprintf(stderr, "airlock: unknown command %q\n", name)
		usage(stderr)
		return exitUsage
	}
	return c.main(e, args[2:])
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: airlock COMMAND [flags] [args]")
	fmt.Fprintln(w, "\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-8s %s\n", n, commands[n].summary)
	}
}
