// Command gen writes netguard/registry_gen.go: the deny table of the network
// guard, built from the IANA IPv4 and IPv6 special-purpose address
// registries (vendored CSVs under registry/) plus the extras listed below
// (multicast, non-2000::/3 IPv6 space, IPv4-compatible IPv6, cloud metadata
// endpoints).
//
// Overlapping blocks are flattened into sorted, disjoint ranges; each address
// gets the reason of the most specific block that contains it, so the guard
// looks an address up with one binary search.
//
// Usage (from netguard/, via go:generate):
//
//	go run ./internal/gen -o registry_gen.go
package main

import (
	"bytes"
	"encoding/csv"
	"flag"
	"fmt"
	"go/format"
	"math/big"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// block is one denied prefix with the netguard Reason constant it maps to.
type block struct {
	prefix netip.Prefix
	reason string // Go identifier of a netguard Reason constant
	source string // for the generated comment
}

// extras are denied in addition to the registries.
var extras = []block{
	{p("224.0.0.0/4"), "ReasonMulticast", "multicast [RFC5771]"},
	{p("ff00::/8"), "ReasonMulticast", "multicast [RFC4291]"},
	// IPv6 outside 2000::/3 is not global unicast (IANA IPv6 address space).
	{p("::/3"), "ReasonReserved", "outside 2000::/3 global unicast"},
	{p("4000::/2"), "ReasonReserved", "outside 2000::/3 global unicast"},
	{p("8000::/1"), "ReasonReserved", "outside 2000::/3 global unicast"},
	{p("::/96"), "ReasonIPv4Compatible", "IPv4-compatible IPv6, deprecated [RFC4291]"},
	{p("fec0::/10"), "ReasonReserved", "site-local, deprecated [RFC3879]"},
	// Cloud instance metadata endpoints: credentials live there.
	{p("169.254.169.254/32"), "ReasonMetadata", "metadata: AWS, GCP, Azure, OpenStack, DigitalOcean IMDS"},
	{p("169.254.170.2/32"), "ReasonMetadata", "metadata: AWS ECS task credentials"},
	{p("169.254.170.23/32"), "ReasonMetadata", "metadata: AWS EKS Pod Identity"},
	{p("100.100.100.200/32"), "ReasonMetadata", "metadata: Alibaba Cloud"},
	{p("168.63.129.16/32"), "ReasonMetadata", "metadata: Azure WireServer (public address)"},
	{p("192.0.0.192/32"), "ReasonMetadata", "metadata: Oracle Cloud"},
	{p("fd00:ec2::254/128"), "ReasonMetadata", "metadata: AWS IMDS over IPv6"},
	{p("fd00:ec2::23/128"), "ReasonMetadata", "metadata: AWS EKS Pod Identity over IPv6"},
}

// reasons maps a registry Name (lower case, prefix match) to a Reason.
// Anything else is ReasonSpecialPurpose.
var reasons = []struct{ name, reason string }{
	{`"this host on this network"`, "ReasonUnspecified"},
	{`"this network"`, "ReasonThisNetwork"},
	{"unspecified address", "ReasonUnspecified"},
	{"private-use", "ReasonPrivate"},
	{"shared address space", "ReasonSharedAddressSpace"},
	{"loopback", "ReasonLoopback"},
	{"link local", "ReasonLinkLocal"},
	{"link-local", "ReasonLinkLocal"},
	{"documentation", "ReasonDocumentation"},
	{"benchmarking", "ReasonBenchmarking"},
	{"reserved", "ReasonReserved"},
	{"limited broadcast", "ReasonBroadcast"},
	{"teredo", "ReasonTeredo"},
	{"6to4", "ReasonSixToFour"},
	{"ipv4-ipv6 translat", "ReasonNAT64"},
	{"ipv4-mapped", "ReasonIPv4Mapped"},
	{"unique-local", "ReasonUniqueLocal"},
}

func p(s string) netip.Prefix { return netip.MustParsePrefix(s) }

var footnote = regexp.MustCompile(`\s*\[\d+\]`)

func readRegistry(path string) ([]block, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(rows) < 2 || rows[0][0] != "Address Block" || rows[0][1] != "Name" {
		return nil, fmt.Errorf("%s: unexpected header %q", path, rows[0])
	}
	var out []block
	for _, row := range rows[1:] {
		name := strings.Join(strings.Fields(row[1]), " ")
		reason := "ReasonSpecialPurpose"
		for _, r := range reasons {
			if strings.HasPrefix(strings.ToLower(name), r.name) {
				reason = r.reason
				break
			}
		}
		rfc := strings.Join(strings.Fields(row[2]), " ")
		for _, a := range strings.Split(footnote.ReplaceAllString(row[0], ""), ",") {
			pf, err := netip.ParsePrefix(strings.TrimSpace(a))
			if err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
			out = append(out, block{pf, reason, name + " " + rfc})
		}
	}
	return out, nil
}

// span is a flattened, disjoint range [lo, hi].
type span struct {
	lo, hi *big.Int
	reason string
	source string
}

func bounds(pf netip.Prefix) (lo, hi *big.Int) {
	a := pf.Masked().Addr()
	lo = new(big.Int).SetBytes(a.AsSlice())
	host := a.BitLen() - pf.Bits()
	hi = new(big.Int).Lsh(big.NewInt(1), uint(host))
	hi.Sub(hi, big.NewInt(1))
	hi.Add(hi, lo)
	return lo, hi
}

// flatten turns possibly nested blocks into disjoint spans, the most specific
// block winning, then merges neighbours with the same reason.
func flatten(blocks []block) []span {
	var cuts []*big.Int
	for _, b := range blocks {
		lo, hi := bounds(b.prefix)
		cuts = append(cuts, lo, new(big.Int).Add(hi, big.NewInt(1)))
	}
	sort.Slice(cuts, func(i, j int) bool { return cuts[i].Cmp(cuts[j]) < 0 })
	var out []span
	for i := 0; i+1 < len(cuts); i++ {
		if cuts[i].Cmp(cuts[i+1]) == 0 {
			continue
		}
		lo := cuts[i]
		hi := new(big.Int).Sub(cuts[i+1], big.NewInt(1))
		best := -1
		for j, b := range blocks {
			blo, bhi := bounds(b.prefix)
			if blo.Cmp(lo) <= 0 && bhi.Cmp(hi) >= 0 && (best < 0 || b.prefix.Bits() > blocks[best].prefix.Bits()) {
				best = j
			}
		}
		if best < 0 {
			continue
		}
		b := blocks[best]
		if n := len(out); n > 0 && out[n-1].reason == b.reason &&
			new(big.Int).Add(out[n-1].hi, big.NewInt(1)).Cmp(lo) == 0 {
			out[n-1].hi = hi
			if !strings.Contains(out[n-1].source, b.prefix.String()) {
				out[n-1].source += "; " + b.prefix.String() + " " + b.source
			}
			continue
		}
		out = append(out, span{lo, hi, b.reason, b.prefix.String() + " " + b.source})
	}
	return out
}

func main() {
	outPath := flag.String("o", "registry_gen.go", "output file")
	dir := flag.String("registry", "internal/gen/registry", "directory holding the IANA CSVs")
	flag.Parse()
	src, err := generate(*dir)
	if err != nil {
		fail(err)
	}
	if err := os.WriteFile(*outPath, src, 0o644); err != nil {
		fail(err)
	}
}

// generate returns the gofmt'ed source of registry_gen.go.
func generate(dir string) ([]byte, error) {
	v4, err := readRegistry(filepath.Join(dir, "iana-ipv4-special-registry-1.csv"))
	if err != nil {
		return nil, err
	}
	v6, err := readRegistry(filepath.Join(dir, "iana-ipv6-special-registry-1.csv"))
	if err != nil {
		return nil, err
	}
	for _, e := range extras {
		if e.prefix.Addr().Is4() {
			v4 = append(v4, e)
		} else {
			v6 = append(v6, e)
		}
	}
	var buf bytes.Buffer
	buf.WriteString("// Code generated by \"go run ./internal/gen\"; DO NOT EDIT.\n")
	buf.WriteString("// Source: internal/gen/registry (IANA IPv4 and IPv6 special-purpose address\n")
	buf.WriteString("// registries, 2025-04 revision) and the extras in internal/gen/main.go.\n\n")
	buf.WriteString("package netguard\n\n")
	buf.WriteString("// table4 holds disjoint IPv4 deny ranges sorted by start.\n")
	buf.WriteString("var table4 = [...]range4{\n")
	for _, s := range flatten(v4) {
		fmt.Fprintf(&buf, "\t{0x%08x, 0x%08x, %s}, // %s\n", s.lo.Uint64(), s.hi.Uint64(), s.reason, s.source)
	}
	buf.WriteString("}\n\n// table6 holds disjoint IPv6 deny ranges sorted by start.\n")
	buf.WriteString("var table6 = [...]range6{\n")
	mask := new(big.Int).SetUint64(^uint64(0))
	for _, s := range flatten(v6) {
		fmt.Fprintf(&buf, "\t{u128{0x%016x, 0x%016x}, u128{0x%016x, 0x%016x}, %s}, // %s\n",
			new(big.Int).Rsh(s.lo, 64).Uint64(), new(big.Int).And(s.lo, mask).Uint64(),
			new(big.Int).Rsh(s.hi, 64).Uint64(), new(big.Int).And(s.hi, mask).Uint64(),
			s.reason, s.source)
	}
	buf.WriteString("}\n")
	src, err := format.Source(buf.Bytes())
	if err != nil {
		return nil, fmt.Errorf("gofmt: %w\n%s", err, buf.Bytes())
	}
	return src, nil
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "gen:", err)
	os.Exit(1)
}
