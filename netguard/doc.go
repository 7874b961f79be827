// Package netguard is airlock's network guard: one SSRF policy for every
// outbound connection.
package netguard
