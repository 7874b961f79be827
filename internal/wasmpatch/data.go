package wasmpatch

import "fmt"

const secData = 11

// Segment is an active data segment: Data is written at Offset of memory 0
// when a module is instantiated.
type Segment struct {
	Offset uint32
	Data   []byte
}

// EmptyDataSegments returns a copy of module whose active data segments are
// all empty (their count, order and offsets kept, so data indices stay
// valid), and the segments' original contents. A host that restores a
// memory snapshot into every instance strips them so that instantiation
// does not write over the snapshot; it applies the segments itself when it
// builds the snapshot.
//
// Only active segments for memory 0 with an i32.const offset are supported;
// anything else is an ErrMalformed error.
func EmptyDataSegments(module []byte) ([]byte, []Segment, error) {
	if len(module) < 8 {
		return nil, nil, fmt.Errorf("%w: too short", ErrMalformed)
	}
	out := append([]byte(nil), module[:8]...)
	var segs []Segment
	r := &reader{b: module, off: 8}
	for !r.done() {
		id := r.byte()
		body := r.bytes(int(r.u32()))
		if r.err != nil {
			return nil, nil, r.err
		}
		if id == secData {
			var err error
			body, segs, err = emptyData(body)
			if err != nil {
				return nil, nil, err
			}
		}
		out = append(out, id)
		out = appendU32(out, uint32(len(body)))
		out = append(out, body...)
	}
	return out, segs, nil
}

func emptyData(body []byte) ([]byte, []Segment, error) {
	r := &reader{b: body}
	n := r.u32()
	out := appendU32(nil, n)
	segs := make([]Segment, 0, n)
	for i := uint32(0); i < n && r.err == nil; i++ {
		if flags := r.u32(); flags != 0 {
			return nil, nil, fmt.Errorf("%w: data segment %d has flags %d (only active memory-0 segments are supported)", ErrMalformed, i, flags)
		}
		exprStart := r.off
		if op := r.byte(); op != 0x41 {
			return nil, nil, fmt.Errorf("%w: data segment %d offset is not i32.const", ErrMalformed, i)
		}
		off := uint32(r.sleb32())
		if end := r.byte(); end != 0x0b {
			return nil, nil, fmt.Errorf("%w: data segment %d offset expression too long", ErrMalformed, i)
		}
		expr := body[exprStart:r.off]
		data := r.bytes(int(r.u32()))
		segs = append(segs, Segment{Offset: off, Data: data})
		out = append(out, 0x00)    // active, memory 0
		out = append(out, expr...) // the original offset expression
		out = append(out, 0x00)    // no bytes
	}
	if r.err != nil {
		return nil, nil, r.err
	}
	if !r.done() {
		return nil, nil, fmt.Errorf("%w: trailing bytes in data section", ErrMalformed)
	}
	return out, segs, nil
}
