package egress_test

import (
	"bufio"
	"io"
	"net"
	"testing"
)

// bareRelay is the floor for any TCP relay: accept, dial, io.Copy both
// ways (splice on Linux), nothing else.
func bareRelay(b *testing.B, target string) string {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			t, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			go func() { _, _ = io.Copy(t, c); t.Close() }()
			go func() { _, _ = io.Copy(c, t); c.Close() }()
		}
	}()
	return ln.Addr().String()
}

// BenchmarkBareRelayThroughput is the reference for BenchmarkTunnelThroughput:
// the same transfers through bareRelay, so the proxy's own cost can be told
// apart from the cost of any extra loopback hop on this machine.
func BenchmarkBareRelayThroughput(b *testing.B) {
	const n = 64 << 20
	for _, dir := range []string{"upload", "download"} {
		b.Run(dir, func(b *testing.B) {
			download := dir == "download"
			target := sinkServer(b, n, download)
			dc, err := net.Dial("tcp", target)
			if err != nil {
				b.Fatal(err)
			}
			defer dc.Close()
			rc, err := net.Dial("tcp", bareRelay(b, target))
			if err != nil {
				b.Fatal(err)
			}
			defer rc.Close()
			rr := bufio.NewReader(rc)
			compareTransfers(b, n, download, dc, rc, rr, "relayed")
		})
	}
}
