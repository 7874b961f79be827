// Package quickjswasi embeds the vendored QuickJS-NG engine compiled to
// wasm32-wasip1 (npm package quickjs-wasi; version, checksum and license in
// this directory). `make fetch-quickjs` re-fetches and verifies it.
package quickjswasi

import _ "embed"

// Wasm is quickjs.wasm, exactly as published (see VERSION for its sha256).
//
//go:embed quickjs.wasm
var Wasm []byte
