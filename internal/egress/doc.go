// Package egress is airlock's SSRF-guarding egress proxy: an HTTP forward
// proxy with CONNECT tunnels that decides every destination with a
// netguard.Policy. It runs as `airlock proxy`, and the jail puts one behind a
// unix socket handed to the jailed process.
package egress
