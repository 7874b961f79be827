#!/usr/bin/env bash
# Re-fetches quickjs.wasm and LICENSE from the npm registry at the pinned
# version and verifies the checksum recorded in VERSION. Fails (and leaves the
# vendored files untouched) on any mismatch.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
version=$(awk '/^version:/ {print $2}' "$here/VERSION")
want=$(awk '/^sha256:/ {print $2}' "$here/VERSION")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "quickjs-wasi@$version" >/dev/null && tar xzf "quickjs-wasi-$version.tgz")
got=$(sha256sum "$tmp/package/quickjs.wasm" | awk '{print $1}')
if [ "$got" != "$want" ]; then
  echo "quickjs.wasm checksum mismatch: got $got, want $want" >&2
  exit 1
fi
cp "$tmp/package/quickjs.wasm" "$tmp/package/LICENSE" "$here/"
echo "quickjs-wasi $version verified: $got"
