package isolate

import (
	"context"
	"strings"
	"testing"

	"github.com/airlockhq/airlock/internal/step"
)

// A cached run behaves exactly like the first: same output, same stack
// positions in the user's source; scripts and modules with the same text
// are different entries; a syntax error is never cached.
func TestCodeCacheHitMatchesMiss(t *testing.T) {
	ctx := context.Background()
	e, err := NewEngine(ctx, CacheDir()) // its own cache, whatever other tests ran
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(ctx)
	src := "export default (x) => {\n  if (x > 1) throw new RangeError('big ' + x)\n  return x + 1\n}"
	var stacks []string
	for i := 0; i < 3; i++ {
		res, err := e.Run(ctx, step.Step{Source: src, Input: []byte("1")}, step.Limits{}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		sameJSON(t, string(res.Output), "2")
		_, err = e.Run(ctx, step.Step{Source: src, Input: []byte("5")}, step.Limits{}, Options{})
		se := wantCode(t, err, step.CodeStepThrew)
		stacks = append(stacks, se.Stack)
	}
	if stacks[0] != stacks[1] || stacks[1] != stacks[2] || !strings.Contains(stacks[0], "step.js:2:") {
		t.Fatalf("stacks differ between miss and hits, or lost the source position: %q", stacks)
	}
	e.code.mu.Lock()
	n := e.code.lru.Len()
	e.code.mu.Unlock()
	if n != 1 {
		t.Fatalf("cache holds %d entries, want 1", n)
	}
	for i := 0; i < 2; i++ {
		_, err := e.Run(ctx, step.Step{Source: "let x = ;"}, step.Limits{}, Options{})
		if se := wantCode(t, err, step.CodeSyntax); se.Line != 1 || se.Column != 9 {
			t.Fatalf("syntax error position %d:%d", se.Line, se.Column)
		}
	}
	e.code.mu.Lock()
	n = e.code.lru.Len()
	e.code.mu.Unlock()
	if n != 1 {
		t.Fatalf("a syntax error was cached: %d entries", n)
	}
}

func TestCodeCacheBounded(t *testing.T) {
	c := newCodeCache()
	c.maxLen, c.maxBytes = 3, 100
	for i := 0; i < 10; i++ {
		c.put(codeKey(string(rune('a'+i)), "f", false), make([]byte, 30))
	}
	if c.lru.Len() != 3 || c.bytes != 90 {
		t.Fatalf("%d entries, %d bytes; want 3, 90", c.lru.Len(), c.bytes)
	}
	if _, ok := c.get(codeKey("a", "f", false)); ok {
		t.Fatal("the oldest entry survived eviction")
	}
	if _, ok := c.get(codeKey("j", "f", false)); !ok {
		t.Fatal("the newest entry was evicted")
	}
	if codeKey("x", "f", true) == codeKey("x", "f", false) || codeKey("x", "f", false) == codeKey("x", "g", false) {
		t.Fatal("kind and filename must be part of the key")
	}
}
