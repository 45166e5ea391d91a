package simulate

import (
	"path"
	"strings"
)

// proc is one process on a logged host.
type proc struct {
	h      *host
	pid    int32
	parent *proc
	leader *proc
	exe    string
	name   string
	args   []string
	cwd    string
	u      *user
	start  int64
	lbl    uint16
	fork   bool
	entity string
	frag   []byte
	pfrag  []byte
	sfrag  []byte
}

const (
	us  = int64(1000)
	ms  = 1000 * us
	sec = 1000 * ms
)

// spawn schedules the exec (or fork) of a process at t. newSession makes
// it a session leader.
func (s *sim) spawn(h *host, parent *proc, argv []string, exe, cwd string, u *user, t int64, lbl uint16, fork, newSession bool) *proc {
	p := &proc{h: h, parent: parent, exe: exe, name: path.Base(exe), args: argv, cwd: cwd, u: u, start: t, lbl: lbl, fork: fork}
	if newSession || parent == nil {
		p.leader = p
	} else {
		p.leader = parent.leader
	}
	if t < s.now {
		t = s.now
		p.start = t
	}
	s.push(item{t: t, kind: itProcStart, p: p})
	return p
}

func (s *sim) exit(p *proc, t int64) {
	if t < p.start+20*us {
		t = p.start + 20*us
	}
	s.push(item{t: t, kind: itProcEnd, p: p})
}

// daemon creates a process that was already running when the capture
// started; it has no start event.
func (s *sim) daemon(h *host, parent *proc, key string, argv []string, exe, user string, cwd string, pid int32) *proc {
	if exe == "" {
		exe = resolveExe(argv[0], "/")
	}
	p := &proc{h: h, parent: parent, exe: exe, name: path.Base(exe), args: argv, cwd: cwd, u: h.user(user),
		start: s.start - int64(3600+s.rng.IntN(86400*3))*sec}
	p.leader = p
	if pid == 0 {
		pid = h.allocPID()
	} else {
		h.live[pid>>6] |= 1 << (pid & 63)
	}
	p.pid = pid
	p.entity = entityID(h, pid, p.start)
	s.renderProc(p)
	h.daemons[key] = p
	return p
}

// bootDaemons creates the long-running processes of a host by role.
func (s *sim) bootDaemons(w *world, h *host) {
	switch h.role {
	case "webserver":
		h.addUser("tomcat", 997, "/opt/tomcat")
	case "proxy":
		h.addUser("proxy", 13, "/bin")
	case "mail":
		h.addUser("postfix", 104, "/var/spool/postfix")
		h.addUser("dovecot", 105, "/usr/lib/dovecot")
	case "dns":
		h.addUser("bind", 106, "/var/cache/bind")
		h.addUser("_chrony", 107, "/var/lib/chrony")
	case "server":
		h.addUser("www-data", 33, "/var/www")
	case "attacker":
		h.addUser("www-data", 33, "/var/www")
		h.addUser("kali", 1000, "/home/kali")
	}
	if h.role == "workstation" {
		h.addUser("user", 1001, "/home/user")
	}
	if h.role != "attacker" {
		h.addUser("admin", 1000, "/home/admin")
	}
	h.addUser("systemd-timesync", 996, "/")
	renderHost(h)

	initp := s.daemon(h, nil, "init", []string{"/sbin/init"}, "/usr/lib/systemd/systemd", "root", "/", 1)
	s.daemon(h, initp, "cron", []string{"/usr/sbin/cron", "-f"}, "", "root", "/", 0)
	h.listen[22] = s.daemon(h, initp, "sshd", []string{"sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups"}, "/usr/sbin/sshd", "root", "/", 0)
	if h.role != "dns" {
		s.daemon(h, initp, "timesyncd", []string{"/lib/systemd/systemd-timesyncd"}, "", "systemd-timesync", "/", 0)
	}
	switch h.role {
	case "webserver":
		h.listen[8080] = s.daemon(h, initp, "java", []string{"/usr/lib/jvm/java-17-openjdk-amd64/bin/java",
			"-Djava.util.logging.config.file=/opt/tomcat/conf/logging.properties",
			"-Djava.util.logging.manager=org.apache.juli.ClassLoaderLogManager", "-Djdk.tls.ephemeralDHKeySize=2048",
			"-classpath", "/opt/tomcat/bin/bootstrap.jar:/opt/tomcat/bin/tomcat-juli.jar", "-Dcatalina.base=/opt/tomcat",
			"-Dcatalina.home=/opt/tomcat", "-Djava.io.tmpdir=/opt/tomcat/temp", "org.apache.catalina.startup.Bootstrap", "start"},
			"", "tomcat", "/opt/tomcat", 0)
	case "proxy":
		h.listen[3128] = s.daemon(h, initp, "squid", []string{"/usr/sbin/squid", "--foreground", "-sYC"}, "", "proxy", "/", 0)
	case "mail":
		m := s.daemon(h, initp, "postfix", []string{"/usr/lib/postfix/sbin/master", "-w"}, "/usr/lib/postfix/sbin/master", "root", "/var/spool/postfix", 0)
		h.listen[25], h.listen[587] = m, m
		h.listen[143] = s.daemon(h, initp, "dovecot", []string{"/usr/sbin/dovecot", "-F"}, "", "root", "/", 0)
	case "dns":
		h.listen[53] = s.daemon(h, initp, "named", []string{"/usr/sbin/named", "-f", "-u", "bind"}, "", "bind", "/", 0)
		h.listen[123] = s.daemon(h, initp, "chronyd", []string{"/usr/sbin/chronyd", "-F", "1"}, "", "_chrony", "/", 0)
	case "server":
		a := s.daemon(h, initp, "apache2", []string{"/usr/sbin/apache2", "-k", "start"}, "", "root", "/", 0)
		h.listen[80], h.listen[8530], h.listen[8531] = a, a, a
	case "workstation":
		sess := s.daemon(h, initp, "session", []string{"/usr/lib/systemd/systemd", "--user"}, "/usr/lib/systemd/systemd", "user", "/home/user", 0)
		ff := s.daemon(h, sess, "firefox", []string{"/usr/lib/firefox-esr/firefox-esr"}, "/usr/lib/firefox-esr/firefox-esr", "user", "/home/user", 0)
		ff.leader = sess
		tb := s.daemon(h, sess, "thunderbird", []string{"/usr/lib/thunderbird/thunderbird"}, "/usr/lib/thunderbird/thunderbird", "user", "/home/user", 0)
		tb.leader = sess
		term := s.daemon(h, sess, "shell", []string{"bash"}, "/usr/bin/bash", "user", "/home/user", 0)
		term.leader = term
	case "attacker":
		term := s.daemon(h, initp, "shell", []string{"bash"}, "/usr/bin/bash", "root", "/root", 0)
		term.leader = term
	}
}

// runSteps runs a shell plan in shell sh from t and returns when the last
// foreground process has ended.
func (s *sim) runSteps(sh *proc, steps []shStep, t int64, lbl uint16) int64 {
	for _, st := range steps {
		end := t
		for i, sp := range st.procs {
			ts := t + int64(i)*(60*us+s.rng.Int64N(200*us))
			var e int64
			if sp.fork {
				child := s.spawn(sh.h, sh, sh.args, sh.exe, sp.cwd, sh.u, ts, lbl, true, false)
				e = s.runSteps(child, sp.body, ts+100*us+s.rng.Int64N(300*us), lbl) + 50*us
				s.exit(child, e)
			} else {
				exe := resolveExe(sp.argv[0], sp.cwd)
				child := s.spawn(sh.h, sh, sp.argv, exe, sp.cwd, sh.u, ts, lbl, false, false)
				e = s.behave(child, ts+200*us+s.rng.Int64N(800*us))
				s.exit(child, e)
			}
			if e > end {
				end = e
			}
		}
		if st.background {
			t += 200*us + s.rng.Int64N(500*us)
		} else {
			t = end + 100*us + s.rng.Int64N(900*us)
		}
	}
	return t
}

// runShell plans payload in shell sh (at sh's working directory) and runs
// it from t.
func (s *sim) runShell(sh *proc, payload string, t int64, lbl uint16) int64 {
	key := sh.cwd + "\x00" + sh.u.home + "\x00" + payload
	steps, ok := s.plans[key]
	if !ok {
		var err error
		steps, err = planShell(payload, sh.cwd, sh.u.home)
		if err != nil {
			// Built-in payloads are fixed; a parse error is a bug.
			panic(err)
		}
		if len(s.plans) < 4096 {
			s.plans[key] = steps
		}
	}
	return s.runSteps(sh, steps, t, lbl)
}

// shellChild starts "sh -c payload" (or bash) as a child of parent and
// runs payload in it; it returns the end time.
func (s *sim) shellChild(parent *proc, shell, payload string, u *user, cwd string, t int64, lbl uint16, newSession bool) int64 {
	sh := s.spawn(parent.h, parent, []string{shell, "-c", payload}, resolveExe(shell, cwd), cwd, u, t, lbl, false, newSession)
	e := s.runShell(sh, payload, t+300*us+s.rng.Int64N(ms), lbl)
	s.exit(sh, e)
	return e
}

// behave simulates what a freshly exec'd process does from t and returns
// when it exits.
func (s *sim) behave(p *proc, t int64) int64 {
	name := p.name
	args := p.args
	switch {
	case (name == "dash" || name == "bash") && len(args) > 2 && args[1] == "-c":
		return s.runShell(p, args[2], t, p.lbl)
	case (name == "dash" || name == "bash") && len(args) == 2:
		if body, ok := s.scripts[p.h.name+":"+args[1]]; ok {
			return s.runShell(p, body, t, p.lbl)
		}
	}
	if fn, ok := s.behaviours[name]; ok {
		return fn(p, t)
	}
	return t + s.shortRun(name)
}

// shortRun is how long a quick command runs.
func (s *sim) shortRun(name string) int64 {
	switch name {
	case "ps", "dpkg", "find", "du", "apt-cache", "journalctl":
		return 20*ms + s.rng.Int64N(180*ms)
	case "sleep":
		return sec + s.rng.Int64N(sec)
	}
	return 500*us + s.rng.Int64N(12*ms)
}

// argAfter returns the argument after flag, or "".
func argAfter(args []string, flags ...string) string {
	for i := 1; i < len(args)-1; i++ {
		for _, f := range flags {
			if args[i] == f {
				return args[i+1]
			}
		}
	}
	return ""
}

func hasArg(args []string, a string) bool {
	for _, x := range args[1:] {
		if x == a || strings.HasPrefix(x, a) && a[len(a)-1] == '=' {
			return true
		}
	}
	return false
}
