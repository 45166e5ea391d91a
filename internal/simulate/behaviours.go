package simulate

import (
	"fmt"
	"net/url"
	"strings"
)

// forever is the end time of processes that outlive the run.
func (s *sim) forever() int64 { return s.end + 3600*sec }

func (s *sim) initBehaviours() {
	s.behaviours = map[string]func(*proc, int64) int64{
		"curl":         s.curlRun,
		"wget":         s.curlRun,
		"nmap":         s.nmapRun,
		"ssh":          s.sshRun,
		"sshpass":      s.sshpassRun,
		"hydra":        s.hydraRun,
		"python3.11":   s.pythonRun,
		"java":         s.javaRun,
		"systemctl":    s.systemctlRun,
		"nc.openbsd":   s.ncRun,
		".agent":       s.agentRun,
		"squid":        s.squidRun,
		"apt-get":      s.aptRun,
		"run-parts":    s.runPartsRun,
		"sessionclean": func(p *proc, t int64) int64 { return t + 30*ms + s.rng.Int64N(50*ms) },
	}
}

// sshRun: ssh [-o opt] [user@]host [command...]
func (s *sim) sshRun(p *proc, t int64) int64 {
	var dest string
	var cmd []string
	for i := 1; i < len(p.args); i++ {
		a := p.args[i]
		if dest == "" {
			if a == "-o" || a == "-p" || a == "-i" || a == "-l" {
				i++
				continue
			}
			if strings.HasPrefix(a, "-") {
				continue
			}
			dest = a
			continue
		}
		cmd = append(cmd, a)
	}
	userName, hostName, ok := strings.Cut(dest, "@")
	if !ok {
		userName, hostName = p.u.name, dest
	}
	srv := s.resolveName(hostName)
	if srv == nil {
		return t + 5*ms
	}
	return s.sshExec(t, p.h, p, srv, userName, true, strings.Join(cmd, " "), nil, sshClientBanner, p.lbl) + ms
}

// sshpassRun execs its command (ssh) as a child.
func (s *sim) sshpassRun(p *proc, t int64) int64 {
	i := 1
	for i < len(p.args) && strings.HasPrefix(p.args[i], "-") {
		if p.args[i] == "-p" || p.args[i] == "-f" || p.args[i] == "-e" {
			i++
		}
		i++
	}
	if i >= len(p.args) {
		return t + ms
	}
	argv := p.args[i:]
	child := s.spawn(p.h, p, argv, resolveExe(argv[0], p.cwd), p.cwd, p.u, t+ms, p.lbl, false, false)
	e := s.behave(child, t+2*ms)
	s.exit(child, e)
	return e + ms
}

// hydraRun brute-forces SSH: -l user -P list -t tasks [-f] ssh://host.
func (s *sim) hydraRun(p *proc, t int64) int64 {
	var srv *host
	for _, a := range p.args {
		if u, err := url.Parse(a); err == nil && u.Scheme == "ssh" {
			srv = s.resolveName(u.Hostname())
		}
	}
	if srv == nil {
		return t + ms
	}
	userName := argAfter(p.args, "-l")
	tries := 24 + s.rng.IntN(24)
	tasks := 4
	lanes := make([]int64, tasks)
	for i := range lanes {
		lanes[i] = t + 50*ms + int64(i)*3*ms
	}
	end := t
	for i := 0; i < tries; i++ {
		k := i % tasks
		ok := i == tries-1
		// On success hydra only checks the password: no session.
		e := s.sshExec(lanes[k], p.h, p, srv, userName, ok, "", nil, "SSH-2.0-libssh_0.10.4\r\n", p.lbl)
		lanes[k] = e + 20*ms
		if e > end {
			end = e
		}
	}
	return end + 20*ms
}

// pythonRun: a reverse shell one-liner, the C&C server, Squid's rewrite
// helper, or a short script.
func (s *sim) pythonRun(p *proc, t int64) int64 {
	joined := strings.Join(p.args, " ")
	switch {
	case strings.Contains(joined, "socket") && strings.Contains(joined, ".connect(("):
		i := strings.Index(joined, ".connect((")
		rest := joined[i+len(".connect(("):]
		ip, rest, _ := strings.Cut(strings.Trim(rest, `"'`), `",`)
		ip = strings.Trim(ip, `"'`)
		portStr, _, _ := strings.Cut(rest, ")")
		var port int
		fmt.Sscanf(portStr, "%d", &port)
		dst := s.resolveName(ip)
		if dst == nil || port == 0 {
			return t + 10*ms
		}
		ts := s.dial(t+20*ms, p.h, dst, uint16(port), p, p.lbl)
		sh := s.spawn(p.h, p, []string{"/bin/sh", "-i"}, "/usr/bin/dash", p.cwd, p.u, ts.t+2*ms, p.lbl, false, false)
		ts.send(ts.t+3*ms, false, []byte("# "), 0, false, p.lbl)
		s.rev = &revShell{ts: ts, sh: sh}
		return s.forever()
	case strings.HasSuffix(joined, "server.py") || strings.Contains(joined, "/opt/c2/"):
		p.h.listen[8000] = p
		return s.forever()
	case strings.Contains(joined, ".rw.py"):
		return s.forever()
	}
	return t + 30*ms + s.rng.Int64N(200*ms)
}

// javaRun: marshalsec's LDAP referral server listens on its port.
func (s *sim) javaRun(p *proc, t int64) int64 {
	if strings.Contains(strings.Join(p.args, " "), "LDAPRefServer") {
		p.h.listen[1389] = p
		return s.forever()
	}
	return t + 500*ms
}

// systemctlRun: "systemctl start nginx" makes systemd start nginx.
func (s *sim) systemctlRun(p *proc, t int64) int64 {
	if len(p.args) >= 3 && p.args[1] == "start" && p.args[2] == "nginx" {
		h := p.h
		initp := h.daemons["init"]
		m := s.spawn(h, initp, []string{"/usr/sbin/nginx", "-g", "daemon on; master_process on;"}, "/usr/sbin/nginx", "/", h.user("root"), t+8*ms, p.lbl, false, true)
		w := s.spawn(h, m, m.args, m.exe, "/", h.user("www-data"), t+10*ms, p.lbl, true, false)
		h.listen[80] = w
		s.exit(m, t+12*ms) // the master daemonizes: its first process exits
		return t + 15*ms
	}
	return t + 5*ms + s.rng.Int64N(20*ms)
}

func (s *sim) ncRun(p *proc, t int64) int64 {
	if hasArg(p.args, "-lvnp") || hasArg(p.args, "-l") || hasArg(p.args, "-lnvp") {
		port := p.args[len(p.args)-1]
		var n int
		fmt.Sscanf(port, "%d", &n)
		p.h.listen[uint16(n)] = p
		return s.forever()
	}
	return t + 10*ms
}

// squidRun: "squid -k reconfigure" makes the running Squid start the
// url_rewrite helpers; the adversary-in-the-middle is then active.
func (s *sim) squidRun(p *proc, t int64) int64 {
	if argAfter(p.args, "-k") == "reconfigure" {
		sq := p.h.daemons["squid"]
		for i := 0; i < 5; i++ {
			hp := s.spawn(p.h, sq, []string{"/usr/bin/python3", "/tmp/.rw.py"}, "/usr/bin/python3.11", "/", sq.u, t+20*ms+int64(i)*3*ms, p.lbl, false, false)
			s.exit(hp, s.forever())
		}
		lbl := p.lbl
		s.at(t+40*ms, func() { s.aitm = lbl })
		return t + 15*ms
	}
	return t + 5*ms
}

// aptRun: apt-get update/upgrade downloads index files through the proxy
// with its http method helper.
func (s *sim) aptRun(p *proc, t int64) int64 {
	h := p.h
	m := s.spawn(h, p, []string{"/usr/lib/apt/methods/http"}, "/usr/lib/apt/methods/http", p.cwd, h.user("root"), t+5*ms, p.lbl, false, false)
	end := t + 10*ms
	n := 1 + s.rng.IntN(3)
	for i := 0; i < n; i++ {
		path := []string{"/debian/dists/bookworm/InRelease", "/debian-security/dists/bookworm-security/InRelease",
			"/debian/dists/bookworm-updates/InRelease", "/debian/pool/main/o/openssl/libssl3_3.0.15-1~deb12u1_amd64.deb"}[i%4]
		f := fetchSpec{url: "http://deb.debian.org" + path, proxy: s.w.proxy, size: 2_000 + s.rng.IntN(30_000),
			ctype: "application/octet-stream", ua: "Debian APT-HTTP/1.3 (2.6.1)"}
		if h == s.w.proxy {
			f.proxy = nil
		}
		end = s.httpFetch(end+ms, h, m, f, p.lbl)
	}
	s.exit(m, end+ms)
	return end + 30*ms
}

// runPartsRun runs the scripts of a cron directory.
func (s *sim) runPartsRun(p *proc, t int64) int64 {
	dir := p.args[len(p.args)-1]
	scripts := map[string][]string{
		"/etc/cron.hourly": {},
		"/etc/cron.daily":  {"apt-compat", "dpkg", "logrotate", "man-db"},
	}[dir]
	t += 2 * ms
	for _, sc := range scripts {
		c := s.spawn(p.h, p, []string{dir + "/" + sc}, dir+"/"+sc, p.cwd, p.u, t, p.lbl, false, false)
		e := t + 5*ms + s.rng.Int64N(80*ms)
		if sc == "logrotate" {
			l := s.spawn(p.h, c, []string{"/usr/sbin/logrotate", "/etc/logrotate.conf"}, "/usr/sbin/logrotate", p.cwd, p.u, t+2*ms, p.lbl, false, false)
			s.exit(l, e-ms)
		}
		s.exit(c, e)
		t = e + ms
	}
	return t
}
