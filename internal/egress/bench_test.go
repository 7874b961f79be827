package egress_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/airlockhq/airlock/internal/egress"
	"github.com/airlockhq/airlock/netguard"
)

// benchProxy runs a STRICT proxy allow-listing 127.0.0.1, logging JSON to
// io.Discard as production would log to a file.
func benchProxy(b *testing.B) string {
	b.Helper()
	pol, err := netguard.New(netguard.WithAllowList("127.0.0.1"))
	if err != nil {
		b.Fatal(err)
	}
	p, err := egress.New(egress.Config{Policy: pol, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go func() { _ = p.Serve(ln) }()
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = p.Shutdown(ctx)
	})
	return ln.Addr().String()
}

// sinkServer reads exactly n bytes per connection then answers one byte
// (upload), or writes n bytes after reading one byte (download).
func sinkServer(b *testing.B, n int64, download bool) string {
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
			go func() {
				defer c.Close()
				one := make([]byte, 1)
				for {
					if download {
						if _, err := io.ReadFull(c, one); err != nil {
							return
						}
						if _, err := io.CopyN(c, zeros{}, n); err != nil {
							return
						}
						continue
					}
					if _, err := io.CopyN(io.Discard, c, n); err != nil {
						return
					}
					if _, err := c.Write(one); err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func openTunnel(b *testing.B, proxy, target string) (net.Conn, *bufio.Reader) {
	b.Helper()
	c, err := net.Dial("tcp", proxy)
	if err != nil {
		b.Fatal(err)
	}
	fmt.Fprintf(c, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", target, target)
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
	if err != nil || resp.StatusCode != 200 {
		b.Fatalf("CONNECT: %v %v", resp, err)
	}
	return c, br
}

// transfer moves n bytes over c in the benchmark's direction and waits for
// the far end to confirm.
// compareTransfers alternates one transfer over the direct connection dc
// and one over via (read through vr), and reports both rates and the ratio
// direct time / via time (1 means the hop costs nothing).
func compareTransfers(b *testing.B, n int64, download bool, dc, via net.Conn, vr io.Reader, name string) {
	var direct, other time.Duration
	b.SetBytes(2 * n)
	for b.Loop() {
		t0 := time.Now()
		transfer(b, dc, dc, n, download)
		t1 := time.Now()
		transfer(b, via, vr, n, download)
		direct += t1.Sub(t0)
		other += time.Since(t1)
	}
	mb := float64(n) * float64(b.N) / (1 << 20)
	b.ReportMetric(mb/direct.Seconds(), "direct-MiB/s")
	b.ReportMetric(mb/other.Seconds(), name+"-MiB/s")
	b.ReportMetric(direct.Seconds()/other.Seconds(), "ratio")
}

func transfer(b *testing.B, c net.Conn, r io.Reader, n int64, download bool) {
	one := make([]byte, 1)
	if download {
		if _, err := c.Write(one); err != nil {
			b.Fatal(err)
		}
		if _, err := io.CopyN(io.Discard, r, n); err != nil {
			b.Fatal(err)
		}
		return
	}
	if _, err := io.CopyN(c, zeros{}, n); err != nil {
		b.Fatal(err)
	}
	if _, err := io.ReadFull(r, one); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkTunnelThroughput moves 64 MiB per iteration over a direct
// loopback TCP connection and over a CONNECT tunnel through the proxy,
// alternating, and reports both rates and proxied/direct (target >= 0.9).
func BenchmarkTunnelThroughput(b *testing.B) {
	const n = 64 << 20
	for _, dir := range []string{"upload", "download"} {
		b.Run(dir, func(b *testing.B) {
			download := dir == "download"
			target := sinkServer(b, n, download)
			proxy := benchProxy(b)
			dc, err := net.Dial("tcp", target)
			if err != nil {
				b.Fatal(err)
			}
			defer dc.Close()
			tc, tr := openTunnel(b, proxy, target)
			defer tc.Close()
			compareTransfers(b, n, download, dc, tc, tr, "proxied")
		})
	}
}

// BenchmarkAddedLatency measures the median added latency per request:
// small HTTP GETs over keep-alive connections through the forward proxy
// versus direct, and one-byte round trips through a CONNECT tunnel versus
// a direct connection. Reports medians in microseconds (target: added
// <= 100 µs).
func BenchmarkAddedLatency(b *testing.B) {
	b.Run("http", func(b *testing.B) {
		web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
		defer web.Close()
		pu, _ := url.Parse("http://" + benchProxy(b))
		direct := &http.Client{Transport: &http.Transport{Proxy: nil}}
		proxied := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(pu)}}
		get := func(c *http.Client) time.Duration {
			t0 := time.Now()
			resp, err := c.Get(web.URL)
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			return time.Since(t0)
		}
		get(direct)
		get(proxied)
		var ds, ps []time.Duration
		for b.Loop() {
			ds = append(ds, get(direct))
			ps = append(ps, get(proxied))
		}
		reportMedians(b, ds, ps)
	})
	b.Run("tunnel-rtt", func(b *testing.B) {
		echo, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		defer echo.Close()
		go func() {
			for {
				c, err := echo.Accept()
				if err != nil {
					return
				}
				go func() { defer c.Close(); _, _ = io.Copy(c, c) }()
			}
		}()
		dc, err := net.Dial("tcp", echo.Addr().String())
		if err != nil {
			b.Fatal(err)
		}
		defer dc.Close()
		tc, tr := openTunnel(b, benchProxy(b), echo.Addr().String())
		defer tc.Close()
		buf := []byte{1}
		rtt := func(c net.Conn, r io.Reader) time.Duration {
			t0 := time.Now()
			if _, err := c.Write(buf); err != nil {
				b.Fatal(err)
			}
			if _, err := io.ReadFull(r, buf); err != nil {
				b.Fatal(err)
			}
			return time.Since(t0)
		}
		var ds, ps []time.Duration
		for b.Loop() {
			ds = append(ds, rtt(dc, dc))
			ps = append(ps, rtt(tc, tr))
		}
		reportMedians(b, ds, ps)
	})
}

func reportMedians(b *testing.B, direct, proxied []time.Duration) {
	med := func(d []time.Duration) float64 {
		slices.Sort(d)
		return float64(d[len(d)/2].Nanoseconds()) / 1e3
	}
	dm, pm := med(direct), med(proxied)
	b.ReportMetric(dm, "direct-median-µs")
	b.ReportMetric(pm, "proxied-median-µs")
	b.ReportMetric(pm-dm, "added-median-µs")
}
