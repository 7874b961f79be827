package egress

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

type metrics struct {
	reg       *prometheus.Registry
	decisions *prometheus.CounterVec
	tunnels   prometheus.Gauge
	bytes     *prometheus.CounterVec
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "airlock_egress_decisions_total",
			Help: "Egress decisions by kind (http, connect), verdict (allow, deny, would_deny, error) and reason.",
		}, []string{"kind", "decision", "reason"}),
		tunnels: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "airlock_egress_tunnels_active",
			Help: "CONNECT tunnels currently open.",
		}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "airlock_egress_bytes_total",
			Help: "Bytes relayed, by direction: up (client to target) and down (target to client); counted when each request or tunnel ends.",
		}, []string{"direction"}),
	}
	m.reg.MustRegister(m.decisions, m.tunnels, m.bytes)
	return m
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}
