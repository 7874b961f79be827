package egress

import (
	"bufio"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

// The exposition is valid text format: every sample line is
// name{labels} value, each family has HELP and TYPE, label values are
// escaped, and series are in a stable order.
func TestMetricsExposition(t *testing.T) {
	m := newMetrics()
	m.decided("http", "deny", "private", 0, 0)
	m.decided("connect", "allow", "", 10, 20)
	m.decided("http", "deny", "private", 0, 0)
	m.decided("http", "error", "bad\"reason\\\n", 1, 2)
	m.tunnels.Add(2)
	rec := httptest.NewRecorder()
	m.handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Fatalf("content type %q", ct)
	}
	body := rec.Body.String()
	for _, want := range []string{
		`airlock_egress_decisions_total{decision="deny",kind="http",reason="private"} 2`,
		`airlock_egress_decisions_total{decision="allow",kind="connect",reason=""} 1`,
		`airlock_egress_decisions_total{decision="error",kind="http",reason="bad\"reason\\\n"} 1`,
		`airlock_egress_bytes_total{direction="up"} 11`,
		`airlock_egress_bytes_total{direction="down"} 22`,
		`airlock_egress_tunnels_active 2`,
	} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("missing %s in:\n%s", want, body)
		}
	}
	sample := regexp.MustCompile(`^[a-z_]+(\{([a-z_]+="([^"\\]|\\.)*",?)*\})? -?[0-9]+$`)
	families := map[string]int{}
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "# HELP "), strings.HasPrefix(line, "# TYPE "):
			families[strings.Fields(line)[2]]++
		case !sample.MatchString(line):
			t.Errorf("not a valid sample line: %q", line)
		}
	}
	if len(families) != 3 {
		t.Errorf("families %v, want 3 with HELP and TYPE each", families)
	}
	for f, n := range families {
		if n != 2 {
			t.Errorf("family %s has %d HELP/TYPE lines", f, n)
		}
	}
	again := httptest.NewRecorder()
	m.handler().ServeHTTP(again, httptest.NewRequest("GET", "/metrics", nil))
	if again.Body.String() != body {
		t.Error("series order is not stable")
	}
}
