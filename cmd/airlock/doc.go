// Command airlock runs untrusted code: JavaScript code steps in a
// wasm-contained isolate, or any program in an unprivileged kernel jail,
// with one SSRF policy for every outbound connection.
//
//	airlock run FILE [--input JSON|@FILE] [--mode code|process] [limits]   run a code step
//	airlock jail [flags] -- CMD ARGS...                                    run a program in the kernel jail
//	airlock proxy --listen ADDR                                           the SSRF-guarding egress proxy
//	airlock check [--mode MODE]                                           what this host supports
//
// `airlock run` prints the step's output JSON on stdout and its console
// output on stderr. Exit codes: 0 success, 1 the step threw (or does not
// parse, or has no runnable export), 2 usage error, 3 memory limit,
// 4 payload too large, 5 wall-clock timeout, 6 engine stack exhausted,
// 7 access denied, 8 invalid limits, 9 execution mode unavailable, 70
// internal error, 124 CPU time limit. `airlock jail` exits with the
// program's status; see its --help and the README for the meta file.
//
// Each subcommand lives in its own file and registers itself in commands,
// and main is a thin wrapper over run, so every command is testable in
// process.
package main
