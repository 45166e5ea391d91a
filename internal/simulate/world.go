package simulate

import (
	"fmt"
	"hash/fnv"
	"net/netip"
	"path"
	"strings"
)

// segment is one capture point: a network segment whose frames go to
// pcaps/<name>.pcap.
type segment struct {
	name      string
	routerMAC [6]byte
	out       *outFile
}

type user struct {
	name, home string
	uid        int
	frag       []byte // "user":{...} body
}

// host is a machine with an address; logged hosts also have a process
// table and a log file.
type host struct {
	name, role string
	seg        *segment
	ip         [4]byte
	ipStr      string
	mac        [6]byte
	logged     bool
	// absent addresses answer nothing (scans of empty addresses).
	absent bool
	out    *outFile
	frag   []byte
	id     string

	pidNext int32
	live    []uint64
	evSeq   int64
	users   []*user
	listen  map[uint16]*proc
	daemons map[string]*proc
	// ephemeral ports
	portNext uint16
	ipid     uint16
}

const pidMax = 32768

func (h *host) user(name string) *user {
	for _, u := range h.users {
		if u.name == name {
			return u
		}
	}
	panic(fmt.Sprintf("host %s has no user %s", h.name, name))
}

func (h *host) allocPID() int32 {
	for i := 0; i < pidMax; i++ {
		p := h.pidNext
		h.pidNext++
		if h.pidNext >= pidMax {
			h.pidNext = 300 // Linux restarts above RESERVED_PIDS
		}
		if h.live[p>>6]&(1<<(p&63)) == 0 {
			h.live[p>>6] |= 1 << (p & 63)
			return p
		}
	}
	panic("pid table full on " + h.name)
}

func (h *host) freePID(p int32) { h.live[p>>6] &^= 1 << (p & 63) }

func (h *host) ephemeralPort() uint16 {
	p := h.portNext
	h.portNext++
	if h.portNext > 60999 {
		h.portNext = 32768
	}
	return p
}

type world struct {
	segs   []*segment
	hosts  []*host // logged hosts, in output order
	all    []*host
	byIP   map[[4]byte]*host
	byName map[string]*host

	// roles
	attacker, web, proxy, mail, ns, server *host
	admin                                  *host
	workstations                           []*host
	sites                                  []*host
	siteNames                              []string
	mirror, upDNS, ntpPool, mx             *host
}

func ip4(s string) [4]byte { return netip.MustParseAddr(s).As4() }

func (w *world) addHost(s *sim, name, role, seg, ip string, logged bool) *host {
	h := &host{name: name, role: role, ipStr: ip, ip: ip4(ip), logged: logged}
	for _, sg := range w.segs {
		if sg.name == seg {
			h.seg = sg
		}
	}
	hf := fnv.New64a()
	hf.Write([]byte(name))
	sum := hf.Sum64()
	h.mac = [6]byte{0x02, 0x42, h.ip[0], h.ip[1], h.ip[2], h.ip[3]}
	if !logged {
		h.mac = [6]byte{0x02, 0x00, byte(sum >> 24), byte(sum >> 16), byte(sum >> 8), byte(sum)}
	}
	h.id = fmt.Sprintf("%016x%016x", sum, sum*0x9e3779b97f4a7c15)
	h.portNext = uint16(32768 + s.rng.IntN(28000))
	h.ipid = uint16(s.rng.IntN(65536))
	if logged {
		h.pidNext = int32(300 + s.rng.IntN(2000))
		h.live = make([]uint64, pidMax/64)
		h.listen = map[uint16]*proc{}
		h.daemons = map[string]*proc{}
		h.users = []*user{{name: "root", uid: 0, home: "/root"}}
		w.hosts = append(w.hosts, h)
	}
	w.all = append(w.all, h)
	w.byIP[h.ip] = h
	w.byName[name] = h
	return h
}

func (h *host) addUser(name string, uid int, home string) *user {
	u := &user{name: name, uid: uid, home: home}
	h.users = append(h.users, u)
	return u
}

// hostOf returns the host with address ip, creating an absent placeholder
// for unused addresses of a known segment.
func (w *world) hostOf(s *sim, ip [4]byte) *host {
	if h, ok := w.byIP[ip]; ok {
		return h
	}
	seg := "internet"
	if ip[0] == 172 && ip[1] == 16 && ip[2] == 0 {
		seg = "dmz"
	} else if ip[0] == 172 && ip[1] == 16 && ip[2] == 1 {
		seg = "intranet"
	}
	a := netip.AddrFrom4(ip).String()
	h := w.addHost(s, a, "", seg, a, false)
	h.absent = true
	return h
}

// floramaWorld builds the network of the florama scenario: an outside
// segment with the attacker and internet services, a DMZ with the Tomcat
// web server, the Squid proxy and mail, and an intranet with a DNS/NTP
// server, the target (update) server and workstations.
func floramaWorld(s *sim, workstations int) *world {
	w := &world{byIP: map[[4]byte]*host{}, byName: map[string]*host{}}
	for i, name := range []string{"internet", "dmz", "intranet"} {
		w.segs = append(w.segs, &segment{name: name, routerMAC: [6]byte{0x02, 0x00, 0x5e, 0x00, 0x01, byte(i + 1)}})
	}
	w.attacker = w.addHost(s, "attacker", "attacker", "internet", "198.51.100.23", true)
	w.web = w.addHost(s, "web", "webserver", "dmz", "172.16.0.10", true)
	w.proxy = w.addHost(s, "proxy", "proxy", "dmz", "172.16.0.20", true)
	w.mail = w.addHost(s, "mail", "mail", "dmz", "172.16.0.30", true)
	w.ns = w.addHost(s, "ns", "dns", "intranet", "172.16.1.2", true)
	w.server = w.addHost(s, "server", "server", "intranet", "172.16.1.4", true)
	for i := 0; i < workstations; i++ {
		ws := w.addHost(s, fmt.Sprintf("ws%d", i+1), "workstation", "intranet", fmt.Sprintf("172.16.1.%d", 101+i), true)
		w.workstations = append(w.workstations, ws)
	}
	w.admin = w.workstations[0]
	w.siteNames = []string{"www.debian.org", "news.example.com", "docs.example.org", "cdn.example.net", "mail.example.com", "wiki.example.org", "github.com"}
	for i, n := range w.siteNames {
		w.sites = append(w.sites, w.addHost(s, n, "site", "internet", fmt.Sprintf("203.0.113.%d", 10+i), false))
	}
	w.mirror = w.addHost(s, "deb.debian.org", "mirror", "internet", "203.0.113.80", false)
	w.upDNS = w.addHost(s, "dns.example.net", "dns", "internet", "203.0.113.53", false)
	w.ntpPool = w.addHost(s, "pool.ntp.org", "ntp", "internet", "203.0.113.123", false)
	w.mx = w.addHost(s, "mx.example.com", "mail", "internet", "203.0.113.25", false)

	for _, h := range w.hosts {
		s.bootDaemons(w, h)
	}
	return w
}

// Executable paths as Debian 12 resolves them (symlinks followed, as the
// endpoint agent reports process.executable).
var binPath = map[string]string{
	"sh": "/usr/bin/dash", "dash": "/usr/bin/dash", "bash": "/usr/bin/bash", "python3": "/usr/bin/python3.11",
	"python": "/usr/bin/python3.11", "java": "/usr/lib/jvm/java-17-openjdk-amd64/bin/java",
	"sshd": "/usr/sbin/sshd", "squid": "/usr/sbin/squid", "nginx": "/usr/sbin/nginx", "cron": "/usr/sbin/cron",
	"logrotate": "/usr/sbin/logrotate", "apache2": "/usr/sbin/apache2", "named": "/usr/sbin/named",
	"chronyd": "/usr/sbin/chronyd", "dovecot": "/usr/sbin/dovecot", "sendmail": "/usr/sbin/sendmail",
	"useradd": "/usr/sbin/useradd", "iptables": "/usr/sbin/iptables", "ip": "/usr/bin/ip",
	"awk": "/usr/bin/mawk", "nc": "/usr/bin/nc.openbsd", "vi": "/usr/bin/vim.basic", "vim": "/usr/bin/vim.basic",
	"which": "/usr/bin/which", "pager": "/usr/bin/less",
}

var symlinks = map[string]string{
	"/bin/sh": "/usr/bin/dash", "/usr/bin/sh": "/usr/bin/dash", "/bin/bash": "/usr/bin/bash",
	"/usr/bin/python3": "/usr/bin/python3.11", "/usr/bin/python": "/usr/bin/python3.11",
	"/lib/systemd/systemd-timesyncd": "/usr/lib/systemd/systemd-timesyncd", "/sbin/init": "/usr/lib/systemd/systemd",
	"/usr/bin/awk": "/usr/bin/mawk", "/bin/nc": "/usr/bin/nc.openbsd",
}

// resolveExe returns the executable a shell runs for argv0 in cwd.
func resolveExe(argv0, cwd string) string {
	if strings.Contains(argv0, "/") {
		p := argv0
		if !path.IsAbs(p) {
			p = path.Join(cwd, p)
		}
		p = path.Clean(p)
		if r, ok := symlinks[p]; ok {
			return r
		}
		if strings.HasPrefix(p, "/bin/") || strings.HasPrefix(p, "/sbin/") {
			return "/usr" + p
		}
		return p
	}
	if p, ok := binPath[argv0]; ok {
		return p
	}
	return "/usr/bin/" + argv0
}
