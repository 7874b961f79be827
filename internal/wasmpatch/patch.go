package wasmpatch

import (
	"bytes"
	"errors"
	"fmt"
)

// ErrMalformed is returned (wrapped) for input that is not a well-formed
// module or uses opcodes the patcher does not decode.
var ErrMalformed = errors.New("wasmpatch: malformed or unsupported module")

const (
	secImport = 2
	secGlobal = 6
	secExport = 7
	secCode   = 10

	kindGlobal = 3
)

// Stats describes what Instrument changed.
type Stats struct {
	// GlobalIndex is the index of the added budget global.
	GlobalIndex uint32
	// TickIndex is the function index of the tick import.
	TickIndex uint32
	// Functions is the number of function bodies rewritten.
	Functions int
	// Loops is the number of loop headers instrumented.
	Loops int
}

// Instrument returns a copy of the module with a loop budget global
// exported as budgetExport and, at the head of every loop, a countdown of it
// that calls the imported function tickModule.tickName (type [] -> [i32])
// whenever it reaches zero, trapping if the tick returns non-zero. See the
// package doc.
func Instrument(module []byte, budgetExport, tickModule, tickName string) ([]byte, Stats, error) {
	var st Stats
	if len(module) < 8 || !bytes.Equal(module[:8], []byte("\x00asm\x01\x00\x00\x00")) {
		return nil, st, fmt.Errorf("%w: bad magic or version", ErrMalformed)
	}
	type section struct {
		id   byte
		body []byte
	}
	var secs []section
	r := &reader{b: module, off: 8}
	for !r.done() {
		id := r.byte()
		n := r.u32()
		body := r.bytes(int(n))
		if r.err != nil {
			return nil, st, r.err
		}
		secs = append(secs, section{id, body})
	}

	var importedGlobals, ownGlobals uint32
	haveGlobal, haveExport, haveCode, haveTick := false, false, false, false
	var types [][]byte
	var tickType uint32
	for _, s := range secs {
		switch s.id {
		case secType:
			var err error
			if types, err = readTypes(s.body); err != nil {
				return nil, st, err
			}
		case secImport:
			n, err := countImportedGlobals(s.body)
			if err != nil {
				return nil, st, err
			}
			importedGlobals = n
			st.TickIndex, tickType, haveTick, err = findFuncImport(s.body, tickModule, tickName)
			if err != nil {
				return nil, st, err
			}
		case secGlobal:
			haveGlobal = true
			sr := &reader{b: s.body}
			ownGlobals = sr.u32()
			if sr.err != nil {
				return nil, st, sr.err
			}
		case secExport:
			haveExport = true
		case secCode:
			haveCode = true
		}
	}
	if !haveGlobal || !haveExport || !haveCode {
		return nil, st, fmt.Errorf("%w: module needs global, export and code sections", ErrMalformed)
	}
	if !haveTick {
		return nil, st, fmt.Errorf("%w: no function import %s.%s", ErrMalformed, tickModule, tickName)
	}
	if int(tickType) >= len(types) || string(types[tickType]) != "\x60\x00\x01\x7f" {
		return nil, st, fmt.Errorf("%w: import %s.%s is not of type [] -> [i32]", ErrMalformed, tickModule, tickName)
	}
	st.GlobalIndex = importedGlobals + ownGlobals

	out := append([]byte(nil), module[:8]...)
	for _, s := range secs {
		body := s.body
		var err error
		switch s.id {
		case secGlobal:
			body, err = appendToVec(body, []byte{0x7f, 0x01, 0x41, 0x00, 0x0b}) // (mut i32) (i32.const 0)
		case secExport:
			entry := appendName(nil, budgetExport)
			entry = append(entry, kindGlobal)
			entry = appendU32(entry, st.GlobalIndex)
			body, err = appendToVec(body, entry)
		case secCode:
			body, err = patchCode(body, loopCheck(st.GlobalIndex, st.TickIndex), &st)
		}
		if err != nil {
			return nil, st, err
		}
		out = append(out, s.id)
		out = appendU32(out, uint32(len(body)))
		out = append(out, body...)
	}
	return out, st, nil
}

const secType = 1

// readTypes returns the encoded function types of a type section.
func readTypes(b []byte) ([][]byte, error) {
	r := &reader{b: b}
	n := r.u32()
	var types [][]byte
	for i := uint32(0); i < n && r.err == nil; i++ {
		start := r.off
		if form := r.byte(); form != 0x60 {
			r.fail("type form 0x%02x", form)
		}
		r.bytes(int(r.u32()))
		r.bytes(int(r.u32()))
		types = append(types, r.b[start:r.off])
	}
	return types, r.err
}

// findFuncImport returns the function index and type index of an import.
func findFuncImport(b []byte, module, name string) (idx, typ uint32, found bool, err error) {
	r := &reader{b: b}
	n := r.u32()
	var funcs uint32
	for i := uint32(0); i < n && r.err == nil; i++ {
		m := string(r.bytes(int(r.u32())))
		f := string(r.bytes(int(r.u32())))
		switch kind := r.byte(); kind {
		case 0:
			t := r.u32()
			if m == module && f == name && !found {
				idx, typ, found = funcs, t, true
			}
			funcs++
		case 1:
			r.byte()
			r.limits()
		case 2:
			r.limits()
		case 3:
			r.byte()
			r.byte()
		case 4:
			r.byte()
			r.u32()
		default:
			r.fail("import kind %d", kind)
		}
	}
	return idx, typ, found, r.err
}

func countImportedGlobals(b []byte) (uint32, error) {
	r := &reader{b: b}
	n := r.u32()
	var globals uint32
	for i := uint32(0); i < n && r.err == nil; i++ {
		r.name()
		r.name()
		switch kind := r.byte(); kind {
		case 0: // func
			r.u32()
		case 1: // table
			r.byte()
			r.limits()
		case 2: // memory
			r.limits()
		case 3: // global
			r.byte()
			r.byte()
			globals++
		case 4: // tag
			r.byte()
			r.u32()
		default:
			r.fail("import kind %d", kind)
		}
	}
	return globals, r.err
}

// appendToVec re-encodes a vector section body with one more entry.
func appendToVec(body, entry []byte) ([]byte, error) {
	r := &reader{b: body}
	n := r.u32()
	if r.err != nil {
		return nil, r.err
	}
	out := appendU32(nil, n+1)
	out = append(out, body[r.off:]...)
	return append(out, entry...), nil
}

// loopCheck is the code inserted at the head of every loop body:
//
//	global.get $budget  i32.const 1  i32.sub  global.set $budget
//	global.get $budget  i32.const 0  i32.le_s
//	if
//	  call $tick
//	  if  unreachable  end
//	end
func loopCheck(budget, tick uint32) []byte {
	g := appendU32(nil, budget)
	c := append([]byte{0x23}, g...)
	c = append(c, 0x41, 0x01, 0x6b, 0x24)
	c = append(c, g...)
	c = append(c, 0x23)
	c = append(c, g...)
	c = append(c, 0x41, 0x00, 0x4c, 0x04, 0x40, 0x10)
	c = appendU32(c, tick)
	return append(c, 0x04, 0x40, 0x00, 0x0b, 0x0b)
}

func patchCode(body []byte, check []byte, st *Stats) ([]byte, error) {
	r := &reader{b: body}
	n := r.u32()
	out := appendU32(make([]byte, 0, len(body)+len(body)/8), n)
	var fn []byte
	for i := uint32(0); i < n; i++ {
		size := r.u32()
		code := r.bytes(int(size))
		if r.err != nil {
			return nil, r.err
		}
		var loops int
		var err error
		fn, loops, err = patchFunc(fn[:0], code, check)
		if err != nil {
			return nil, fmt.Errorf("function body %d: %w", i, err)
		}
		st.Functions++
		st.Loops += loops
		out = appendU32(out, uint32(len(fn)))
		out = append(out, fn...)
	}
	if !r.done() {
		return nil, fmt.Errorf("%w: trailing bytes in code section", ErrMalformed)
	}
	return out, nil
}

// patchFunc copies one function body to out, inserting check after each
// loop's block type.
func patchFunc(out, code, check []byte) ([]byte, int, error) {
	r := &reader{b: code}
	nlocals := r.u32()
	for i := uint32(0); i < nlocals; i++ {
		r.u32()
		r.byte()
	}
	if r.err != nil {
		return nil, 0, r.err
	}
	loops := 0
	start := 0 // bytes of code not yet copied begin here
	for !r.done() && r.err == nil {
		op := r.byte()
		if op == 0x03 { // loop
			r.blockType()
			out = append(out, code[start:r.off]...)
			out = append(out, check...)
			start = r.off
			loops++
			continue
		}
		r.immediates(op)
	}
	if r.err != nil {
		return nil, 0, r.err
	}
	if len(code) == 0 || code[len(code)-1] != 0x0b {
		return nil, 0, fmt.Errorf("%w: function body does not end with end", ErrMalformed)
	}
	out = append(out, code[start:]...)
	return out, loops, nil
}
