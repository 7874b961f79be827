package wasmpatch

import "fmt"

// MutableState lists what a module can change about itself at run time,
// besides linear memory: its mutable globals and whether any instruction
// can write a table. A host that resets an instance between uses must reset
// exactly these.
type MutableState struct {
	// MutableGlobals are the indices (in the global index space) of the
	// module's own mutable globals.
	MutableGlobals []uint32
	// TableWrites counts table.set, table.grow, table.fill, table.init and
	// table.copy instructions.
	TableWrites int
}

// Inspect reports the module's mutable state.
func Inspect(module []byte) (MutableState, error) {
	var ms MutableState
	if len(module) < 8 {
		return ms, fmt.Errorf("%w: too short", ErrMalformed)
	}
	var importedGlobals uint32
	r := &reader{b: module, off: 8}
	for !r.done() {
		id := r.byte()
		body := r.bytes(int(r.u32()))
		if r.err != nil {
			return ms, r.err
		}
		switch id {
		case secImport:
			n, err := countImportedGlobals(body)
			if err != nil {
				return ms, err
			}
			importedGlobals = n
		case secGlobal:
			gr := &reader{b: body}
			n := gr.u32()
			for i := uint32(0); i < n && gr.err == nil; i++ {
				gr.byte()
				if gr.byte() == 1 {
					ms.MutableGlobals = append(ms.MutableGlobals, importedGlobals+i)
				}
				for gr.err == nil { // constant expression up to its end
					op := gr.byte()
					if op == 0x0b {
						break
					}
					gr.immediates(op)
				}
			}
			if gr.err != nil {
				return ms, gr.err
			}
		case secCode:
			cr := &reader{b: body}
			n := cr.u32()
			for i := uint32(0); i < n && cr.err == nil; i++ {
				fr := &reader{b: cr.bytes(int(cr.u32()))}
				nl := fr.u32()
				for j := uint32(0); j < nl; j++ {
					fr.u32()
					fr.byte()
				}
				for !fr.done() && fr.err == nil {
					op := fr.byte()
					switch {
					case op == 0x26:
						ms.TableWrites++
						fr.u32()
					case op == 0xfc:
						save := fr.off
						sub := fr.u32()
						fr.off = save
						if sub >= 12 && sub <= 17 && sub != 13 && sub != 16 {
							ms.TableWrites++
						}
						fr.prefixFC()
					default:
						fr.immediates(op)
					}
				}
				if fr.err != nil {
					return ms, fr.err
				}
			}
			if cr.err != nil {
				return ms, cr.err
			}
		}
	}
	return ms, nil
}
