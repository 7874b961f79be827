package egress

import (
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
)

// metrics are the proxy's Prometheus metrics, written in the text
// exposition format (version 0.0.4) by hand: importing the client library
// costs ~3 ms of package initialisation at the start of every airlock
// command, the jail's included (see RATIONALE.md). The label sets are
// bounded: kind and decision are fixed words, reason is netguard's enum.
type metrics struct {
	mu        sync.Mutex
	decisions map[decisionLabels]uint64
	up, down  atomic.Uint64
	tunnels   atomic.Int64
}

type decisionLabels struct{ kind, decision, reason string }

func newMetrics() *metrics {
	return &metrics{decisions: make(map[decisionLabels]uint64)}
}

// decided counts one decision and the bytes it relayed.
func (m *metrics) decided(kind, decision, reason string, up, down int64) {
	m.mu.Lock()
	m.decisions[decisionLabels{kind, decision, reason}]++
	m.mu.Unlock()
	m.up.Add(uint64(up))
	m.down.Add(uint64(down))
}

func (m *metrics) handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		m.write(w)
	})
}

// write emits every metric, families and series in a stable order.
func (m *metrics) write(w io.Writer) {
	fmt.Fprint(w, "# HELP airlock_egress_bytes_total Bytes relayed, by direction: up (client to target) and down (target to client); counted when each request or tunnel ends.\n")
	fmt.Fprint(w, "# TYPE airlock_egress_bytes_total counter\n")
	fmt.Fprintf(w, "airlock_egress_bytes_total{direction=\"down\"} %d\n", m.down.Load())
	fmt.Fprintf(w, "airlock_egress_bytes_total{direction=\"up\"} %d\n", m.up.Load())

	m.mu.Lock()
	type series struct {
		l decisionLabels
		n uint64
	}
	all := make([]series, 0, len(m.decisions))
	for l, n := range m.decisions {
		all = append(all, series{l, n})
	}
	m.mu.Unlock()
	sort.Slice(all, func(i, j int) bool {
		a, b := all[i].l, all[j].l
		if a.decision != b.decision {
			return a.decision < b.decision
		}
		if a.kind != b.kind {
			return a.kind < b.kind
		}
		return a.reason < b.reason
	})
	fmt.Fprint(w, "# HELP airlock_egress_decisions_total Egress decisions by kind (http, connect), verdict (allow, deny, would_deny, error) and reason.\n")
	fmt.Fprint(w, "# TYPE airlock_egress_decisions_total counter\n")
	for _, s := range all {
		fmt.Fprintf(w, "airlock_egress_decisions_total{decision=\"%s\",kind=\"%s\",reason=\"%s\"} %d\n",
			escapeLabel(s.l.decision), escapeLabel(s.l.kind), escapeLabel(s.l.reason), s.n)
	}

	fmt.Fprint(w, "# HELP airlock_egress_tunnels_active CONNECT tunnels currently open.\n")
	fmt.Fprint(w, "# TYPE airlock_egress_tunnels_active gauge\n")
	fmt.Fprintf(w, "airlock_egress_tunnels_active %d\n", m.tunnels.Load())
}

var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

func escapeLabel(s string) string { return labelEscaper.Replace(s) }
