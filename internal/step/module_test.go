package step

import "testing"

func TestIsModule(t *testing.T) {
	cases := map[string]bool{
		"export const code = 1":            true,
		"  export default () => 1":         true,
		"import x from 'y'\nx":             true,
		"export{a}":                        true,
		"1 + 1":                            false,
		"const exportX = 1; exportX":       false,
		"// export const code = () => 1\n": false,
		"'import x'":                       false,
		"x\n\t export\ndefault 1":          true,
		"\timport{a}from'b'":               true,
		"import 'side-effect'":             true,
		"import\"x\"":                      true,
		"exports.x = 1":                    false,
		"important()":                      false,
		"import('x')":                      false,
		"export":                           false,
		"x\r\nexport default 1":            true,
	}
	for src, want := range cases {
		if got := IsModule(src); got != want {
			t.Errorf("IsModule(%q) = %v, want %v", src, got, want)
		}
	}
}
