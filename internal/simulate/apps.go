package simulate

import (
	"net/url"
	"strconv"
	"strings"
	"time"
)

func (s *sim) httpDate(t int64) string {
	return time.Unix(t/1e9, 0).UTC().Format(http1123)
}

const http1123 = "Mon, 02 Jan 2006 15:04:05 GMT"

// fetchSpec is one HTTP(S) download.
type fetchSpec struct {
	method  string
	url     string
	proxy   *host // explicit proxy, or nil
	headers []string
	body    []byte // request body
	size    int    // response body size
	ctype   string
	ua      string
}

// objectSize is the size of a file served by the attacker's nginx.
var attackFiles = map[string]int{
	"/nmap": 641_208, "/hydra": 282_352, "/agent": 424_976, "/passwords.txt": 412,
	"/rw.py": 1_337, "/Exploit.class": 1_246,
}

// resolveName returns the host for an URL host name or address.
func (s *sim) resolveName(name string) *host {
	if h, ok := s.w.byName[name]; ok {
		return h
	}
	var a [4]byte
	parts := strings.Split(name, ".")
	if len(parts) == 4 {
		for i, p := range parts {
			n, err := strconv.Atoi(p)
			if err != nil || n < 0 || n > 255 {
				return nil
			}
			a[i] = byte(n)
		}
		return s.w.hostOf(s, a)
	}
	return nil
}

// dnsLookup resolves name for h through the intranet DNS server at t
// and returns when the answer arrived.
func (s *sim) dnsLookup(t int64, h *host, cp *proc, name string, target *host, lbl uint16) int64 {
	ns := s.w.ns
	if h == ns || !h.logged || target == nil {
		return t
	}
	q, r := s.dnsQuery(name, target.ip)
	if h.seg.name == "internet" {
		// Outside hosts use a public resolver.
		return s.udpExchange(t, h, s.w.upDNS, 0, 53, q, r, cp, lbl)
	}
	if s.rng.IntN(3) == 0 && !target.logged {
		// Cache miss: the server asks upstream first.
		s.udpExchange(t+100*us, ns, s.w.upDNS, 0, 53, q, r, ns.daemons["named"], lbl)
		t += 20 * ms
	}
	return s.udpExchange(t, h, ns, 0, 53, q, r, cp, lbl)
}

// httpFetch runs one HTTP(S) request from cli, directly or through a
// proxy, and returns when the client has the whole response.
func (s *sim) httpFetch(t int64, cli *host, cp *proc, f fetchSpec, lbl uint16) int64 {
	u, err := url.Parse(f.url)
	if err != nil {
		return t
	}
	srv := s.resolveName(u.Hostname())
	if srv == nil {
		return t + 5*ms
	}
	port := 80
	tls := u.Scheme == "https"
	if tls {
		port = 443
	}
	if p := u.Port(); p != "" {
		port, _ = strconv.Atoi(p)
	}
	if f.method == "" {
		f.method = "GET"
	}
	path := u.RequestURI()
	if f.proxy != nil {
		return s.proxiedFetch(t, cli, cp, f, u, srv, port, tls, lbl)
	}
	if srv.name == u.Hostname() && !srv.logged {
		t = s.dnsLookup(t, cli, cp, u.Hostname(), srv, lbl)
	}
	ts := s.dial(t, cli, srv, uint16(port), cp, lbl)
	if !ts.up {
		return ts.t
	}
	hostHdr := u.Host
	if tls {
		ts.send(ts.t+200*us, true, s.tlsClientHello(u.Hostname()), 0, false, lbl)
		ts.send(ts.t+500*us, false, s.tlsServerHello(), 2400, true, lbl)
		ts.send(ts.t+300*us, true, nil, 80+len(path)+len(f.headers)*40, true, lbl)
		ts.send(ts.t+5*ms+s.rng.Int64N(40*ms), false, nil, f.size+300, true, lbl)
		return ts.close(ts.t+s.rng.Int64N(5*ms), true)
	}
	hdrs := append([]string{"User-Agent: " + f.ua, "Accept: */*"}, f.headers...)
	ts.send(ts.t+200*us, true, httpRequest(f.method, path, hostHdr, hdrs, len(f.body)), 0, false, lbl)
	if len(f.body) > 0 {
		ts.send(ts.t, true, f.body, 0, false, lbl)
	}
	at := ts.t + 2*ms + s.rng.Int64N(20*ms)
	if s.onRequest != nil {
		at = s.onRequest(srv, port, f, ts.t, lbl, at)
	}
	server := "nginx/1.22.1"
	if srv.role == "server" {
		server = "Apache/2.4.62 (Debian)"
	}
	ts.send(at, false, httpResponse(200, server, f.ctype, f.size, s.httpDate(at)), f.size, false, lbl)
	return ts.close(ts.t+100*us, false)
}

// proxiedFetch sends the request through Squid: the client talks to the
// proxy, which resolves the name and fetches from the origin.
func (s *sim) proxiedFetch(t int64, cli *host, cp *proc, f fetchSpec, u *url.URL, srv *host, port int, tls bool, lbl uint16) int64 {
	px := f.proxy
	squid := px.daemons["squid"]
	up, upLbl := srv, lbl
	if s.aitm != 0 && !tls && srv == s.w.mirror {
		// Squid's url_rewrite_program sends package downloads to the
		// attacker's server.
		up, upLbl = s.w.attacker, s.aitm
		lbl = s.aitm
	}
	ts := s.dial(t, cli, px, 3128, cp, lbl)
	if tls {
		ts.send(ts.t+200*us, true, httpRequest("CONNECT", u.Hostname()+":443", u.Hostname()+":443", []string{"User-Agent: " + f.ua}, 0), 0, false, lbl)
		t2 := s.dnsLookup(ts.t+300*us, px, squid, u.Hostname(), srv, lbl)
		us2 := s.dial(t2, px, up, uint16(port), squid, upLbl)
		ts.send(us2.t+100*us, false, []byte("HTTP/1.1 200 Connection established\r\n\r\n"), 0, false, lbl)
		ch := s.tlsClientHello(u.Hostname())
		ts.send(ts.t+200*us, true, ch, 0, false, lbl)
		us2.send(ts.t+100*us, true, ch, 0, false, upLbl)
		sh := s.tlsServerHello()
		us2.send(us2.t+500*us, false, sh, 2400, true, upLbl)
		ts.send(us2.t+100*us, false, sh, 2400, true, lbl)
		n := 80 + len(u.RequestURI()) + 40*len(f.headers)
		ts.send(ts.t+300*us, true, nil, n, true, lbl)
		us2.send(ts.t+100*us, true, nil, n, true, upLbl)
		us2.send(us2.t+5*ms+s.rng.Int64N(40*ms), false, nil, f.size+300, true, upLbl)
		ts.send(us2.t+200*us, false, nil, f.size+300, true, lbl)
		end := ts.close(ts.t+s.rng.Int64N(5*ms), true)
		us2.close(end, true)
		return end
	}
	hdrs := append([]string{"User-Agent: " + f.ua, "Accept: */*"}, f.headers...)
	ts.send(ts.t+200*us, true, httpRequest(f.method, u.String(), u.Host, hdrs, len(f.body)), 0, false, lbl)
	if len(f.body) > 0 {
		ts.send(ts.t, true, f.body, 0, false, lbl)
	}
	t2 := ts.t + 300*us
	if up == srv && !srv.logged {
		t2 = s.dnsLookup(t2, px, squid, u.Hostname(), srv, lbl)
	}
	us2 := s.dial(t2, px, up, uint16(port), squid, upLbl)
	uhdrs := append(hdrs, "Via: 1.1 proxy (squid/5.7)", "X-Forwarded-For: "+cli.ipStr, "Cache-Control: max-age=259200")
	target := u.RequestURI()
	if up != srv {
		target = "/debian" + target
	}
	us2.send(us2.t+100*us, true, httpRequest(f.method, target, up.ipStr, uhdrs, len(f.body)), 0, false, upLbl)
	if len(f.body) > 0 {
		us2.send(us2.t, true, f.body, 0, false, upLbl)
	}
	at := us2.t + 2*ms + s.rng.Int64N(30*ms)
	server := "nginx/1.22.1"
	if up.role == "server" {
		server = "Apache/2.4.62 (Debian)"
	}
	us2.send(at, false, httpResponse(200, server, f.ctype, f.size, s.httpDate(at)), f.size, false, upLbl)
	end := us2.close(us2.t+100*us, false)
	ts.send(at+300*us, false, httpResponse(200, "squid/5.7", f.ctype, f.size, s.httpDate(at)), f.size, false, lbl)
	if e := ts.close(ts.t+100*us, false); e > end {
		end = e
	}
	return ts.t
}

const (
	sshClientBanner = "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n"
	sshServerBanner = "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n"
)

// sshLogin performs banner exchange, key exchange and one password
// attempt, and returns the session (still open) and the time of the
// server's answer.
func (s *sim) sshLogin(t int64, cli *host, cp *proc, srv *host, banner string, lbl uint16) (*tcpSess, *proc) {
	ts := s.dial(t, cli, srv, 22, cp, lbl)
	var priv *proc
	if srv.logged && ts.up {
		priv = s.spawn(srv, srv.listen[22], []string{"/usr/sbin/sshd", "-D", "-R"}, "/usr/sbin/sshd", "/", srv.user("root"), ts.t+300*us, lbl, false, true)
	}
	ts.send(ts.t+100*us, true, []byte(banner), 0, false, lbl)
	ts.send(ts.t+2*ms, false, []byte(sshServerBanner), 0, false, lbl)
	ts.send(ts.t+300*us, true, s.sshKexInit(false), 0, false, lbl)
	ts.send(ts.t+300*us, false, s.sshKexInit(true), 0, false, lbl)
	ts.send(ts.t+200*us, true, s.sshKexClient(), 0, false, lbl)
	ts.send(ts.t+3*ms, false, s.sshKexServer(), 0, false, lbl)
	ts.send(ts.t+300*us, true, sshNewKeys, 0, false, lbl)
	ts.ssh = true // from here on, encrypted packets
	// service request / accept, password attempt
	ts.send(ts.t+300*us, true, nil, 44, false, lbl)
	ts.send(ts.t+200*us, false, nil, 44, false, lbl)
	ts.send(ts.t+300*us, true, nil, 124, false, lbl)
	return ts, priv
}

// sshExec logs in to srv as user and runs cmd (empty: the commands of an
// interactive session, typed one by one); ok false is a failed login.
func (s *sim) sshExec(t int64, cli *host, cp *proc, srv *host, userName string, ok bool, cmd string, interactive []string, banner string, lbl uint16) int64 {
	ts, priv := s.sshLogin(t, cli, cp, srv, banner, lbl)
	if !ts.up {
		return ts.t
	}
	if !ok {
		ts.send(ts.t+2*sec+s.rng.Int64N(sec), false, nil, 52, false, lbl) // USERAUTH_FAILURE after the delay
		end := ts.close(ts.t+5*ms, true)
		if priv != nil {
			s.exit(priv, end+ms)
		}
		return end
	}
	ts.send(ts.t+30*ms, false, nil, 28, false, lbl) // USERAUTH_SUCCESS
	if cmd == "" && len(interactive) == 0 {
		// Authentication only (a password check): the client disconnects.
		if srv.logged && priv != nil {
			sess := s.spawn(srv, priv, priv.args, priv.exe, "/", srv.user(userName), ts.t+ms, lbl, true, false)
			s.exit(sess, ts.t+6*ms)
		}
		ts.send(ts.t+2*ms, true, nil, 52, false, lbl) // DISCONNECT
		e := ts.close(ts.t+ms, true)
		if priv != nil {
			s.exit(priv, e+2*ms)
		}
		return e
	}
	ts.send(ts.t+300*us, true, nil, 112, false, lbl) // channel open, exec/pty request
	ts.send(ts.t+2*ms, false, nil, 84, false, lbl)
	start := ts.t + ms
	end := start + 5*ms
	if srv.logged && priv != nil {
		u := srv.user(userName)
		sess := s.spawn(srv, priv, priv.args, priv.exe, "/", u, start, lbl, true, false)
		if cmd != "" {
			sh := s.spawn(srv, sess, []string{"bash", "-c", cmd}, "/usr/bin/bash", u.home, u, start+2*ms, lbl, false, true)
			end = s.runShell(sh, cmd, start+3*ms, lbl)
			s.exit(sh, end)
			ts.send(end, false, nil, 200+s.rng.IntN(1800), false, lbl)
		} else {
			sh := s.spawn(srv, sess, []string{"-bash"}, "/usr/bin/bash", u.home, u, start+2*ms, lbl, false, true)
			t := start + 500*ms
			for _, c := range interactive {
				t += 2*sec + s.rng.Int64N(6*sec) // reading, typing
				for k := 0; k < len(c)/4+1; k++ {
					ts.send(t, true, nil, 36, false, lbl)
					ts.send(ts.t+200*us, false, nil, 36, false, lbl)
					t = ts.t + 60*ms + s.rng.Int64N(150*ms)
				}
				e := s.runShell(sh, c, t, lbl)
				ts.send(e, false, nil, 100+s.rng.IntN(3000), false, lbl)
				t = ts.t
			}
			end = t + sec
			ts.send(end, true, nil, 36, false, lbl) // exit
			s.exit(sh, end+ms)
		}
		s.exit(sess, end+3*ms)
	} else {
		ts.send(end, false, nil, 500, false, lbl)
	}
	ts.send(ts.t+ms, false, nil, 96, false, lbl) // exit-status, eof, close
	ts.send(ts.t+200*us, true, nil, 36, false, lbl)
	e := ts.close(ts.t+ms, true)
	if priv != nil {
		s.exit(priv, e+2*ms)
	}
	return e
}

// Nmap's "-F" list: the 100 most common TCP ports.
var nmapTop100 = []int{7, 9, 13, 21, 22, 23, 25, 26, 37, 53, 79, 80, 81, 88, 106, 110, 111, 113, 119, 135, 139, 143, 144, 179, 199,
	389, 427, 443, 444, 445, 465, 513, 514, 515, 543, 544, 548, 554, 587, 631, 646, 873, 990, 993, 995, 1025, 1026, 1027, 1028,
	1029, 1110, 1433, 1720, 1723, 1755, 1900, 2000, 2001, 2049, 2121, 2717, 3000, 3128, 3306, 3389, 3986, 4899, 5000, 5009,
	5051, 5060, 5101, 5190, 5357, 5432, 5631, 5666, 5800, 5900, 6000, 6001, 6646, 7070, 8000, 8008, 8009, 8080, 8081, 8443,
	8888, 9100, 9999, 10000, 32768, 49152, 49153, 49154, 49155, 49156, 49157}

// probe is one connect() of a scan: open ports complete the handshake and
// are reset, closed ports answer RST, absent hosts nothing.
func (s *sim) probe(t int64, cli *host, cp *proc, dst *host, port int, lbl uint16) int64 {
	if dst.listen != nil && dst.listen[uint16(port)] != nil {
		ts := s.dial(t, cli, dst, uint16(port), cp, lbl)
		return ts.reset(ts.t + 50*us)
	}
	return s.refused(t, cli, dst, uint16(port), cp, lbl)
}

// nmapRun simulates an unprivileged (connect) nmap scan.
func (s *sim) nmapRun(p *proc, t int64) int64 {
	args := p.args
	var targets []*host
	ports := nmapTop100[:0:0]
	ping := false
	for i := 1; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-sn":
			ping = true
		case a == "-F":
			ports = append(ports, nmapTop100...)
		case a == "-p" && i+1 < len(args):
			i++
			for _, x := range strings.Split(args[i], ",") {
				if n, err := strconv.Atoi(x); err == nil {
					ports = append(ports, n)
				}
			}
		case strings.HasPrefix(a, "-"):
		default:
			targets = append(targets, s.expandTargets(a)...)
		}
	}
	if ping {
		ports = []int{80, 443}
	} else if len(ports) == 0 {
		ports = nmapTop100
	}
	t += 30 * ms
	end := t
	for _, dst := range targets {
		order := s.rng.Perm(len(ports))
		for _, i := range order {
			e := s.probe(t, p.h, p, dst, ports[i], p.lbl)
			if e > end {
				end = e
			}
			t += 300*us + s.rng.Int64N(700*us)
		}
	}
	if end < t {
		end = t
	}
	return end + 10*ms
}

func (s *sim) expandTargets(a string) []*host {
	base, bits, ok := strings.Cut(a, "/")
	h := s.resolveName(base)
	if h == nil {
		return nil
	}
	if !ok {
		return []*host{h}
	}
	n, _ := strconv.Atoi(bits)
	if n < 24 {
		n = 24
	}
	var out []*host
	ip := h.ip
	size := 1 << (32 - n)
	for i := 1; i < size-1; i++ {
		ip[3] = byte(int(h.ip[3])&^(size-1) + i)
		out = append(out, s.w.hostOf(s, ip))
	}
	return out
}

// curlRun simulates curl and wget: each URL argument is fetched.
func (s *sim) curlRun(p *proc, t int64) int64 {
	var proxy *host
	var headers []string
	if x := argAfter(p.args, "-x", "--proxy"); x != "" {
		if u, err := url.Parse(x); err == nil {
			proxy = s.resolveName(u.Hostname())
		}
	}
	ua := "curl/7.88.1"
	if p.name == "wget" {
		ua = "Wget/1.21.3"
	}
	for i := 1; i < len(p.args)-1; i++ {
		if p.args[i] == "-H" {
			headers = append(headers, p.args[i+1])
		}
	}
	end := t
	for _, a := range p.args[1:] {
		if !strings.Contains(a, "://") || strings.HasPrefix(a, "-") {
			continue
		}
		if proxy != nil && argAfter(p.args, "-x", "--proxy") == a {
			continue
		}
		u, err := url.Parse(a)
		if err != nil {
			continue
		}
		size, ok := attackFiles[u.Path]
		if !ok {
			size = 2_000 + s.rng.IntN(20_000)
		}
		f := fetchSpec{url: a, proxy: proxy, headers: headers, size: size, ctype: "application/octet-stream", ua: ua}
		end = s.httpFetch(end+ms, p.h, p, f, p.lbl)
	}
	return end + ms
}
