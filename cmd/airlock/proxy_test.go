package main

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"
)

func TestProxyUsageErrors(t *testing.T) {
	t.Setenv("AP_NETWORK_MODE", "")
	t.Setenv("AP_SSRF_ALLOW_LIST", "")
	for _, c := range []struct {
		name string
		args []string
		want string // in stderr
	}{
		{"unknown flag", []string{"--nope"}, "flag provided but not defined"},
		{"non-loopback listen", []string{"--listen", "0.0.0.0:0"}, "not a loopback address"},
		{"invalid allow-list entry is named", []string{"--allow", "10.0.0.1,10.0.0.0/33"}, `"10.0.0.0/33"`},
		{"unknown mode", []string{"--mode", "OPEN"}, "unknown network mode"},
		{"stray argument", []string{"extra"}, "unexpected argument"},
		{"bad upstream", []string{"--upstream", "socks5://x:1"}, "Upstream"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var stderr bytes.Buffer
			if code := run(append([]string{"airlock", "proxy"}, c.args...), nil, io.Discard, &stderr); code != exitUsage {
				t.Fatalf("exit %d, want %d; stderr %s", code, exitUsage, stderr.String())
			}
			if !strings.Contains(stderr.String(), c.want) {
				t.Fatalf("stderr %q lacks %q", stderr.String(), c.want)
			}
		})
	}
}

func TestProxyInvalidEnvAllowListRefusesToStart(t *testing.T) {
	t.Setenv("AP_SSRF_ALLOW_LIST", "10.0.0.1 bogus")
	var stderr bytes.Buffer
	if code := run([]string{"airlock", "proxy", "--listen", "127.0.0.1:0"}, nil, io.Discard, &stderr); code != exitUsage {
		t.Fatalf("exit %d", code)
	}
	if !strings.Contains(stderr.String(), `AP_SSRF_ALLOW_LIST`) || !strings.Contains(stderr.String(), `"bogus"`) {
		t.Fatalf("stderr %q", stderr.String())
	}
}

// TestProxyServesAndStopsOnSIGTERM runs the command in process: the README's
// curl check (metadata -> 403 with the reason), the metrics endpoint, one
// JSON log line, and a graceful exit 0 on SIGTERM.
func TestProxyServesAndStopsOnSIGTERM(t *testing.T) {
	t.Setenv("AP_NETWORK_MODE", "STRICT")
	t.Setenv("AP_SSRF_ALLOW_LIST", "")
	ready := make(chan [2]net.Addr, 1)
	proxyReady = func(p, m net.Addr) { ready <- [2]net.Addr{p, m} }
	defer func() { proxyReady = nil }()
	var stdout, stderr syncBuf
	done := make(chan int, 1)
	go func() {
		done <- run([]string{"airlock", "proxy", "--listen", "127.0.0.1:0", "--metrics", "127.0.0.1:0"}, nil, &stdout, &stderr)
	}()
	var addrs [2]net.Addr
	select {
	case addrs = <-ready:
	case code := <-done:
		t.Fatalf("exited %d: %s", code, stderr.String())
	}
	pu, _ := url.Parse("http://" + addrs[0].String())
	c := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(pu)}}
	resp, err := c.Get("http://169.254.169.254/latest/meta-data/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 403 || resp.Header.Get("X-Airlock-Error") != "metadata" ||
		!strings.Contains(string(body), "AP_SSRF_ALLOW_LIST") {
		t.Fatalf("%d %q %s", resp.StatusCode, resp.Header.Get("X-Airlock-Error"), body)
	}
	mresp, err := http.Get("http://" + addrs[1].String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	mbody, _ := io.ReadAll(mresp.Body)
	mresp.Body.Close()
	if !strings.Contains(string(mbody), `airlock_egress_decisions_total{decision="deny",kind="http",reason="metadata"} 1`) {
		t.Fatalf("metrics:\n%s", mbody)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := <-done; code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), `"decision":"deny"`) || !strings.Contains(stdout.String(), `"reason":"metadata"`) {
		t.Fatalf("log: %s", stdout.String())
	}
}
