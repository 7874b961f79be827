package step

import "strings"

// IsModule reports whether src is an ES module, for every execution mode
// alike: it has a line that begins (after spaces and tabs) with an import or export declaration, that is
// `export` followed by white space, `{` or `*`, or `import` followed by
// white space, `{`, `*` or a quote. Anything else is a plain script whose
// completion value is the result. (QuickJS's own JS_DetectModule reports
// every source as a module.) A hand-written scan: the equivalent multi-line
// regexp cost a tenth of a typical step's run time.
func IsModule(src string) bool {
	for line := range strings.Lines(src) {
		line = strings.TrimLeft(line, " \t")
		var follow string
		switch {
		case strings.HasPrefix(line, "export"):
			follow = " \t\n\f\r{*"
		case strings.HasPrefix(line, "import"):
			follow = " \t\n\f\r{*'\""
		default:
			continue
		}
		if len(line) > 6 && strings.IndexByte(follow, line[6]) >= 0 {
			return true
		}
	}
	return false
}
