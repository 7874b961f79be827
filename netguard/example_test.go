package netguard_test

import (
	"errors"
	"fmt"
	"net/netip"

	"github.com/airlockhq/airlock/netguard"
)

// A code step asks for the cloud metadata endpoint, spelled as a decimal
// integer; the guard decides the address it denotes.
func ExamplePolicy_Check() {
	policy, err := netguard.New() // STRICT, empty allow-list
	if err != nil {
		panic(err)
	}
	ip, _, _ := netguard.ParseHost("2852039166")
	err = policy.Check(ip)
	fmt.Println(errors.Is(err, netguard.ErrBlocked))
	fmt.Println(err)
	// Output:
	// true
	// netguard: destination "169.254.169.254" blocked: metadata; if this destination is legitimate, add 169.254.169.254 to AP_SSRF_ALLOW_LIST
}

// Rolling out: UNRESTRICTED reports what STRICT would refuse, and the
// allow-list admits known internal services in every mode.
func ExamplePolicy_Decide() {
	policy, err := netguard.New(
		netguard.WithMode(netguard.ModeUnrestricted),
		netguard.WithAllowList("10.20.0.0/16"),
	)
	if err != nil {
		panic(err)
	}
	for _, s := range []string{"93.184.215.14", "10.20.1.2", "10.30.0.1", "169.254.169.254"} {
		d := policy.Decide(netip.MustParseAddr(s))
		fmt.Println(s, d.Verdict, d.Reason)
	}
	// Output:
	// 93.184.215.14 allow global
	// 10.20.1.2 allow allow_list
	// 10.30.0.1 would_deny private
	// 169.254.169.254 deny metadata
}

func ExampleParseAllowList() {
	_, err := netguard.ParseAllowList("10.0.0.0/8, 192.168.1.10/24")
	fmt.Println(err)
	// Output:
	// netguard: allow-list entry "192.168.1.10/24": host bits set (did you mean 192.168.1.0/24?)
}
