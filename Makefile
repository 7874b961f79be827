GO ?= go

.PHONY: test race bench bench-peers lint check fetch-quickjs verify-quickjs build

build:
	$(GO) build -o bin/airlock ./cmd/airlock

# The README's test command; .ci/run runs the same.
test:
	$(GO) test -race ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem -count 5 ./... | tee bench.out

# Runs the peer benchmarks (isolated-vm, Node vm) next to airlock's and prints ratios.
bench-peers:
	./scripts/bench-peers.sh

lint:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

check: lint test verify-quickjs
	$(GO) mod verify

# Re-fetch the vendored QuickJS-NG wasm from npm and verify its checksum.
fetch-quickjs:
	./third_party/quickjs-wasi/fetch.sh

verify-quickjs:
	cd third_party/quickjs-wasi && echo "$$(awk '/^sha256:/ {print $$2}' VERSION)  quickjs.wasm" | sha256sum -c -

# Cold `airlock jail -- /bin/true` vs bubblewrap, and the Node process-mode
# overhead (scripts/bench-jail.sh).
.PHONY: bench-jail
bench-jail:
	./scripts/bench-jail.sh
