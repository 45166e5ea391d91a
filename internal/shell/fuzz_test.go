package shell

import (
	"errors"
	"strings"
	"testing"
)

// FuzzMine feeds arbitrary text to every miner: no panic, and a syntax
// error's position lies inside the input (line ≤ lines+1).
func FuzzMine(f *testing.F) {
	for _, s := range []string{
		"chmod +x /tmp/nmap ; ( /tmp/nmap -Pn -F 172.16.1.4 ) 2>/dev/null | grep open",
		`echo Y2F0IC9ldGMvcGFzc3dk | base64 -d | bash`, `sh -c 'sh -c "eval id"'`, `f() { f; }; f`,
		`for %i in (a b) do (dir c:\ /b | findstr /e "%i")`, `Get-Item 'a''b' | % { $_ }; & "x.exe" -y`,
		"bash <<'EOF'\nid\nEOF", `a\"b "c\\" d`,
	} {
		for e := uint8(0); e < 4; e++ {
			f.Add(s, e)
		}
	}
	execs := []string{"sh", "cmd", "psh", "python"}
	f.Fuzz(func(t *testing.T, src string, e uint8) {
		if len(src) > 4096 {
			t.Skip()
		}
		r, err := Mine(src, execs[int(e)%len(execs)])
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("%q: error is not a SyntaxError: %v", src, err)
			}
			if se.Pos.Line < 1 || se.Pos.Line > strings.Count(src, "\n")+2 || se.Pos.Col < 1 {
				t.Fatalf("%q: position %v outside the input", src, se.Pos)
			}
			return
		}
		for _, x := range r.Execs {
			if len(x.Args) == 0 {
				t.Fatalf("%q: exec without argv", src)
			}
		}
	})
}
