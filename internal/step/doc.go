// Package step defines the contract shared by every execution mode: what a
// code step is (source, inputs, limits), what it produces (output JSON, usage,
// streamed logs) and the stable error codes a failed step carries.
//
// The isolate (SANDBOX_CODE_ONLY), the jail-backed Node runner
// (SANDBOX_PROCESS) and any later mode all return these types, so the CLI,
// the HTTP API and embedders translate them in one place.
//
// # Errors
//
// Every failure is an *Error carrying a Code. Codes and their text are API:
// they never change meaning once released. The CLI maps codes to exit codes
// with ExitCode.
package step
