module github.com/airlockhq/airlock

go 1.26.8

require (
	github.com/miekg/dns v1.1.73
	github.com/tetratelabs/wazero v1.12.0
	golang.org/x/net v0.59.0
	golang.org/x/sys v0.49.0
)
