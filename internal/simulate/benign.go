package simulate

import (
	"fmt"
	"strings"
)

type activity struct {
	weight float64
	run    func(h *host, t int64)
}

// startBenign starts the background activity of every logged host: a
// Poisson stream of activities at Options.BenignRate per host and minute.
func (s *sim) startBenign() {
	if s.opts.BenignRate <= 0 {
		return
	}
	for _, h := range s.w.hosts {
		mix := s.mixFor(h)
		var total float64
		for _, a := range mix {
			total += a.weight
		}
		h := h
		mean := float64(60*sec) / s.opts.BenignRate
		var next func()
		next = func() {
			r := s.rng.Float64() * total
			for _, a := range mix {
				if r < a.weight {
					a.run(h, s.now)
					break
				}
				r -= a.weight
			}
			s.at(s.now+int64(s.rng.ExpFloat64()*mean)+1, next)
		}
		s.at(s.start+int64(s.rng.ExpFloat64()*mean), next)
	}
}

func (s *sim) mixFor(h *host) []activity {
	switch s.opts.Workload {
	case "process":
		return []activity{{3, s.cronJob}, {2, s.systemdService}}
	case "network":
		if h.role == "workstation" {
			return []activity{{1, s.browse}}
		}
		return []activity{{1, s.ntpSync}}
	}
	mix := []activity{
		{3, s.cronJob},
		{2, s.systemdService},
		{2, s.ntpSync},
		{0.5, s.aptUpdate},
	}
	switch h.role {
	case "workstation":
		mix = append(mix, activity{8, s.browse}, activity{3, s.mailClient}, activity{3, s.userCommands})
		if h == s.w.admin {
			mix = append(mix, activity{3, s.adminSSH})
		}
	case "webserver":
		mix = append(mix, activity{8, s.webVisitor}, activity{1, s.adminSSHTo})
	case "mail":
		mix = append(mix, activity{3, s.mailRelay}, activity{1, s.adminSSHTo})
	case "dns":
		mix = append(mix, activity{1, s.monitorScan}, activity{1, s.adminSSHTo})
	case "attacker":
		mix = mix[:2]
	default:
		mix = append(mix, activity{1, s.adminSSHTo})
	}
	return mix
}

var cronCommands = []string{
	"cd / && run-parts --report /etc/cron.hourly",
	"test -x /usr/sbin/anacron || ( cd / && run-parts --report /etc/cron.daily )",
	"[ -x /usr/lib/php/sessionclean ] && /usr/lib/php/sessionclean",
	"find /tmp -type f -atime +7 -delete",
	"tar czf /var/backups/etc.tgz /etc 2>/dev/null",
	"df -h / | tail -n 1 | awk '{print $5}' > /var/tmp/disk_usage",
}

// cronJob: cron forks, the child runs "/bin/sh -c <command>".
func (s *sim) cronJob(h *host, t int64) {
	cron := h.daemons["cron"]
	cmd := cronCommands[s.rng.IntN(len(cronCommands))]
	if h.role == "dns" && s.rng.IntN(3) == 0 {
		cmd = "/usr/local/bin/check-services.sh"
		s.scripts[h.name+":/usr/local/bin/check-services.sh"] = "for p in 22 53 123; do ss -tuln | grep -q \":$p \" || logger check-services: port $p down; done"
		cmd = "sh /usr/local/bin/check-services.sh"
	}
	child := s.spawn(h, cron, cron.args, cron.exe, "/", cron.u, t, 0, true, false)
	end := s.shellChild(child, "/bin/sh", cmd, h.user("root"), "/root", t+300*us, 0, true)
	s.exit(child, end+ms)
}

var services = [][]string{
	{"/usr/bin/systemd-tmpfiles", "--clean"},
	{"/usr/sbin/logrotate", "/etc/logrotate.conf"},
	{"/usr/bin/mandb", "--quiet"},
	{"/usr/sbin/e2scrub_all", "-A", "-r"},
	{"/usr/lib/apt/apt-helper", "wait-online"},
	{"/usr/bin/updatedb.plocate"},
}

// systemdService: systemd starts a oneshot unit.
func (s *sim) systemdService(h *host, t int64) {
	argv := services[s.rng.IntN(len(services))]
	p := s.spawn(h, h.daemons["init"], argv, argv[0], "/", h.user("root"), t, 0, false, true)
	s.exit(p, t+20*ms+s.rng.Int64N(400*ms))
}

// ntpSync: systemd-timesyncd asks the intranet server; the server asks
// the pool.
func (s *sim) ntpSync(h *host, t int64) {
	if h == s.w.ns {
		req, resp := s.ntpPair(t, 2)
		s.udpExchange(t, h, s.w.ntpPool, 123, 123, req, resp, h.daemons["chronyd"], 0)
		return
	}
	if h.role == "attacker" {
		return
	}
	req, resp := s.ntpPair(t, 3)
	s.udpExchange(t, h, s.w.ns, 0, 123, req, resp, h.daemons["timesyncd"], 0)
}

func (s *sim) aptUpdate(h *host, t int64) {
	if h.role == "attacker" {
		return
	}
	initp := h.daemons["init"]
	daily := s.spawn(h, initp, []string{"/bin/sh", "/usr/lib/apt/apt.systemd.daily", "update"}, "/usr/bin/dash", "/", h.user("root"), t, 0, false, true)
	apt := s.spawn(h, daily, []string{"apt-get", "-qq", "-y", "update"}, "/usr/bin/apt-get", "/", h.user("root"), t+30*ms, 0, false, false)
	e := s.aptRun(apt, t+35*ms)
	s.exit(apt, e)
	s.exit(daily, e+5*ms)
}

var adminCommands = []string{
	"uptime", "df -h", "free -m", "ps aux", "ps aux | grep -v grep | grep squid", "systemctl status ssh --no-pager",
	"tail -n 50 /var/log/syslog", "journalctl -u ssh --since today --no-pager", "ls -la /tmp", "who", "last -n 5",
	"ss -tlnp", "ip a", "cat /etc/os-release", "du -sh /var/log", "grep -i error /var/log/syslog | tail -n 20",
	// look-alikes of attack commands
	"dpkg -l | grep -i openssl", "env | grep -i proxy", "wget -q -O /tmp/shop.html http://172.16.0.10:8080/",
	"chmod +x /home/admin/bin/rotate.sh", "python3 -c 'import sys; print(sys.version)'",
}

// adminSSH: the admin workstation logs in to a server and types a few
// commands; sometimes the first password is mistyped.
func (s *sim) adminSSH(h *host, t int64) {
	targets := []*host{s.w.web, s.w.proxy, s.w.mail, s.w.ns, s.w.server}
	s.adminSession(h, targets[s.rng.IntN(len(targets))], t)
}

func (s *sim) adminSSHTo(h *host, t int64) { s.adminSession(s.w.admin, h, t) }

func (s *sim) adminSession(from, to *host, t int64) {
	term := from.daemons["shell"]
	argv := []string{"ssh", "admin@" + to.ipStr}
	ssh := s.spawn(from, term, argv, "/usr/bin/ssh", term.cwd, term.u, t, 0, false, false)
	if s.rng.IntN(5) == 0 {
		// A mistyped password: one failed attempt in its own connection.
		t = s.sshExec(t+ms, from, ssh, to, "admin", false, "", nil, sshClientBanner, 0) + 500*ms
	}
	n := 2 + s.rng.IntN(4)
	cmds := make([]string, n)
	for i := range cmds {
		cmds[i] = adminCommands[s.rng.IntN(len(adminCommands))]
	}
	end := s.sshExec(t+ms, from, ssh, to, "admin", true, "", cmds, sshClientBanner, 0)
	s.exit(ssh, end+ms)
}

var userCommandsList = []string{
	"ls -la", "cat notes.txt", "grep -rn TODO projects/", "git -C projects/site status", "python3 projects/report.py",
	"ps aux | grep firefox", "less /var/log/apt/history.log", "cp report.pdf /mnt/share/", "date",
	"curl -s -o /dev/null -x http://172.16.0.20:3128 https://www.debian.org/",
}

func (s *sim) userCommands(h *host, t int64) {
	term := h.daemons["shell"]
	for i := 0; i < 1+s.rng.IntN(3); i++ {
		t = s.runShell(term, userCommandsList[s.rng.IntN(len(userCommandsList))], t, 0) + 2*sec + s.rng.Int64N(20*sec)
	}
}

var sitePaths = []string{"/", "/index.html", "/news/today", "/static/app.js", "/static/style.css", "/images/logo.png", "/api/v1/items?page=2", "/docs/install"}

// browse: Firefox fetches a few pages through the proxy.
func (s *sim) browse(h *host, t int64) {
	ff := h.daemons["firefox"]
	site := s.rng.IntN(len(s.w.sites))
	name := s.w.siteNames[site]
	n := 1 + s.rng.IntN(4)
	for i := 0; i < n; i++ {
		scheme := "https"
		if s.rng.IntN(5) == 0 {
			scheme = "http"
		}
		f := fetchSpec{url: scheme + "://" + name + sitePaths[s.rng.IntN(len(sitePaths))], proxy: s.w.proxy,
			size: 300 + s.rng.IntN(12_000), ctype: "text/html; charset=utf-8", ua: "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"}
		t = s.httpFetch(t, h, ff, f, 0) + 200*ms + s.rng.Int64N(8*sec)
	}
}

// webVisitor: an internet client requests pages from Tomcat.
func (s *sim) webVisitor(h *host, t int64) {
	cli := s.w.sites[s.rng.IntN(len(s.w.sites))]
	paths := []string{"/", "/shop/", "/shop/cart", "/api/products?id=" + fmt.Sprint(s.rng.IntN(500)), "/static/main.css", "/login"}
	ts := s.dial(t, cli, h, 8080, nil, 0)
	for i := 0; i < 1+s.rng.IntN(3); i++ {
		p := paths[s.rng.IntN(len(paths))]
		ts.send(ts.t+300*us, true, httpRequest("GET", p, "172.16.0.10:8080", []string{"User-Agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64)", "Accept: text/html"}, 0), 0, false, 0)
		at := ts.t + 3*ms + s.rng.Int64N(30*ms)
		size := 600 + s.rng.IntN(8_000)
		hdr := []byte(strings.Replace(string(httpResponse(200, "Apache-Coyote/1.1", "text/html;charset=UTF-8", size, s.httpDate(at))), "Connection: close\r\n", "", 1))
		ts.send(at, false, hdr, size, false, 0)
		ts.t += 500*ms + s.rng.Int64N(3*sec)
	}
	ts.close(ts.t, true)
}

// mailClient: Thunderbird submits a message (SMTP) or checks the inbox
// (IMAP).
func (s *sim) mailClient(h *host, t int64) {
	tb := h.daemons["thunderbird"]
	m := s.w.mail
	t = s.dnsLookup(t, h, tb, "mail.florama.local", m, 0) + 200*us
	if s.rng.IntN(2) == 0 {
		ts := s.dial(t, h, m, 587, tb, 0)
		s.smtpDialog(ts, h.name, "user@florama.local", "colleague@florama.local", 0)
		ts.close(ts.t+ms, true)
		return
	}
	ts := s.dial(t, h, m, 143, tb, 0)
	lines := [][2]string{
		{"", "* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ AUTH=PLAIN] Dovecot (Debian) ready.\r\n"},
		{"a1 LOGIN user \"s3cret-mail\"\r\n", "a1 OK [CAPABILITY IMAP4rev1 IDLE] Logged in\r\n"},
		{"a2 SELECT INBOX\r\n", fmt.Sprintf("* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n* %d EXISTS\r\n* 0 RECENT\r\na2 OK [READ-WRITE] Select completed (0.001 + 0.000 secs).\r\n", 3+s.rng.IntN(40))},
		{"a3 LOGOUT\r\n", "* BYE Logging out\r\na3 OK Logout completed (0.001 + 0.000 secs).\r\n"},
	}
	for _, l := range lines {
		if l[0] != "" {
			ts.send(ts.t+2*ms, true, []byte(l[0]), 0, false, 0)
		}
		ts.send(ts.t+ms, false, []byte(l[1]), 0, false, 0)
	}
	ts.close(ts.t+ms, false)
}

func (s *sim) smtpDialog(ts *tcpSess, helo, from, to string, lbl uint16) {
	s2 := func(line string) { ts.send(ts.t+ms, false, []byte(line), 0, false, lbl) }
	c := func(line string) { ts.send(ts.t+ms, true, []byte(line), 0, false, lbl) }
	s2("220 mail.florama.local ESMTP Postfix (Debian/GNU)\r\n")
	c("EHLO " + helo + "\r\n")
	s2("250-mail.florama.local\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-ENHANCEDSTATUSCODES\r\n250 8BITMIME\r\n")
	c("MAIL FROM:<" + from + ">\r\n")
	s2("250 2.1.0 Ok\r\n")
	c("RCPT TO:<" + to + ">\r\n")
	s2("250 2.1.5 Ok\r\n")
	c("DATA\r\n")
	s2("354 End data with <CR><LF>.<CR><LF>\r\n")
	body := "From: <" + from + ">\r\nTo: <" + to + ">\r\nSubject: weekly report\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n" +
		strings.Repeat("The numbers for this week are in the shared folder.\r\n", 1+s.rng.IntN(30)) + ".\r\n"
	c(body)
	s2(fmt.Sprintf("250 2.0.0 Ok: queued as %X\r\n", s.rng.Uint32()))
	c("QUIT\r\n")
	s2("221 2.0.0 Bye\r\n")
}

// mailRelay: Postfix delivers an outgoing message to the internet MX.
func (s *sim) mailRelay(h *host, t int64) {
	master := h.daemons["postfix"]
	smtp := s.spawn(h, master, []string{"smtp", "-t", "unix", "-u", "-c"}, "/usr/lib/postfix/sbin/smtp", "/var/spool/postfix", h.user("postfix"), t, 0, false, false)
	ts := s.dial(t+2*ms, h, s.w.mx, 25, smtp, 0)
	s.smtpDialog(ts, "mail.florama.local", "user@florama.local", "partner@example.com", 0)
	e := ts.close(ts.t+ms, true)
	s.exit(smtp, e+5*ms)
}

// monitorScan: the monitoring job on the DNS server checks a few ports
// of one host with nmap (a benign look-alike of a port scan).
func (s *sim) monitorScan(h *host, t int64) {
	targets := []*host{s.w.web, s.w.proxy, s.w.mail, s.w.server}
	dst := targets[s.rng.IntN(len(targets))]
	cron := h.daemons["cron"]
	child := s.spawn(h, cron, cron.args, cron.exe, "/", cron.u, t, 0, true, false)
	end := s.shellChild(child, "/bin/sh", "nmap -Pn -p 22,80,443,3128 "+dst.ipStr+" -oG - | grep -c open > /var/lib/monitor/"+dst.name, h.user("root"), "/root", t+300*us, 0, true)
	s.exit(child, end+ms)
}
