package netguard_test

import (
	"encoding/csv"
	"net/netip"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/airlockhq/airlock/netguard"
)

// TestEveryRegistryBlockIsDenied reads the vendored IANA registries and
// checks the first and last address of every block, so a registry update
// that the generated table missed fails here.
func TestEveryRegistryBlockIsDenied(t *testing.T) {
	footnote := regexp.MustCompile(`\s*\[\d+\]`)
	n := 0
	for _, file := range []string{"iana-ipv4-special-registry-1.csv", "iana-ipv6-special-registry-1.csv"} {
		f, err := os.Open("internal/gen/registry/" + file)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(f).ReadAll()
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, row := range rows[1:] {
			for _, s := range strings.Split(footnote.ReplaceAllString(row[0], ""), ",") {
				p := netip.MustParsePrefix(strings.TrimSpace(s))
				first := p.Masked().Addr()
				last := lastAddr(p)
				for _, a := range []netip.Addr{first, last} {
					n++
					if r := netguard.Classify(a); r == netguard.ReasonGlobal {
						t.Errorf("%s (%s, %s) is allowed", a, p, row[1])
					}
				}
			}
		}
	}
	if n < 90 {
		t.Fatalf("checked only %d addresses", n)
	}
}

func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}
