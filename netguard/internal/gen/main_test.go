package main

import (
	"bytes"
	"os"
	"testing"
)

// TestGeneratedFileIsCurrent fails when registry_gen.go was not regenerated
// after a change to the vendored registries or the extras.
func TestGeneratedFileIsCurrent(t *testing.T) {
	want, err := generate("registry")
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("../../registry_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("netguard/registry_gen.go is stale: run go generate ./netguard")
	}
}
