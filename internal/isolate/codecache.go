package isolate

import (
	"container/list"
	"crypto/sha256"
	"sync"
)

// codeCache keeps the bytecode QuickJS compiled for recently run sources,
// so a step that runs again skips parsing (a quarter of the shared
// workflow step's time). Entries are keyed by the SHA-256 of the source,
// its filename and its kind (module or script), and bounded in number and
// bytes; the least recently used go first.
//
// # Security
//
// Bytecode is never accepted from outside: it is what the engine itself
// produced, inside a wasm instance, from exactly the source that keys it,
// and it is only loaded to run that same source again, inside another
// wasm instance. QuickJS's bytecode reader is not hardened against crafted
// input, so this matters: a caller cannot supply bytecode, only source.
type codeCache struct {
	mu       sync.Mutex
	entries  map[[32]byte]*list.Element
	lru      list.List // of *codeEntry, most recent first
	bytes    int
	maxBytes int
	maxLen   int
}

type codeEntry struct {
	key  [32]byte
	code []byte
}

const (
	codeCacheBytes   = 64 << 20
	codeCacheEntries = 1024
	// maxCachedCode: larger bytecode is not worth a cache slot.
	maxCachedCode = 4 << 20
)

func newCodeCache() *codeCache {
	return &codeCache{entries: make(map[[32]byte]*list.Element), maxBytes: codeCacheBytes, maxLen: codeCacheEntries}
}

func codeKey(src, filename string, module bool) [32]byte {
	h := sha256.New()
	kind := "script\x00"
	if module {
		kind = "module\x00"
	}
	h.Write([]byte(kind))
	h.Write([]byte(filename))
	h.Write([]byte{0})
	h.Write([]byte(src))
	var k [32]byte
	h.Sum(k[:0])
	return k
}

func (c *codeCache) get(k [32]byte) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[k]
	if !ok {
		return nil, false
	}
	c.lru.MoveToFront(el)
	return el.Value.(*codeEntry).code, true
}

func (c *codeCache) put(k [32]byte, code []byte) {
	if len(code) > maxCachedCode {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.entries[k]; ok {
		return
	}
	c.entries[k] = c.lru.PushFront(&codeEntry{key: k, code: code})
	c.bytes += len(code)
	for c.bytes > c.maxBytes || c.lru.Len() > c.maxLen {
		old := c.lru.Remove(c.lru.Back()).(*codeEntry)
		delete(c.entries, old.key)
		c.bytes -= len(old.code)
	}
}
