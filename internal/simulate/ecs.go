package simulate

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"strconv"
	"time"
	"unicode/utf8"
)

const ecsVersion = "8.17.0"

// appendStr appends s as a JSON string.
func appendStr(b []byte, s string) []byte {
	b = append(b, '"')
	b = appendStrBody(b, s)
	return append(b, '"')
}

// appendStrBody appends s escaped for a JSON string, without quotes.
func appendStrBody(b []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				b = append(b, s[start:i]...)
				b = append(b, `\ufffd`...)
				i++
				start = i
				continue
			}
			i += size
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"':
			b = append(b, `\"`...)
		case '\\':
			b = append(b, `\\`...)
		case '\n':
			b = append(b, `\n`...)
		case '\t':
			b = append(b, `\t`...)
		case '\r':
			b = append(b, `\r`...)
		default:
			b = append(b, `\u00`...)
			b = append(b, "0123456789abcdef"[c>>4], "0123456789abcdef"[c&15])
		}
		i++
		start = i
	}
	return append(b, s[start:]...)
}

func appendStrs(b []byte, ss []string) []byte {
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendStr(b, s)
	}
	return append(b, ']')
}

// tsCache formats Unix nanoseconds as RFC 3339 UTC with microseconds,
// reusing the formatted second.
type tsCache struct {
	sec    int64
	prefix []byte
}

func (c *tsCache) appendTS(b []byte, t int64) []byte {
	sec := t / 1e9
	if c.prefix == nil || sec != c.sec {
		c.sec = sec
		c.prefix = time.Unix(sec, 0).UTC().AppendFormat(c.prefix[:0], "2006-01-02T15:04:05")
	}
	b = append(b, '"')
	b = append(b, c.prefix...)
	us := (t % 1e9) / 1e3
	b = append(b, '.', byte('0'+us/100000), byte('0'+us/10000%10), byte('0'+us/1000%10),
		byte('0'+us/100%10), byte('0'+us/10%10), byte('0'+us%10), 'Z', '"')
	return b
}

func renderHost(h *host) {
	var b []byte
	b = append(b, `"architecture":"x86_64","hostname":`...)
	b = appendStr(b, h.name)
	b = append(b, `,"id":`...)
	b = appendStr(b, h.id)
	b = append(b, `,"ip":[`...)
	b = appendStr(b, h.ipStr)
	b = append(b, `],"mac":["`...)
	for i, x := range h.mac {
		if i > 0 {
			b = append(b, '-')
		}
		b = append(b, "0123456789ABCDEF"[x>>4], "0123456789ABCDEF"[x&15])
	}
	b = append(b, `"],"name":`...)
	b = appendStr(b, h.name)
	if h.role == "attacker" {
		b = append(b, `,"os":{"family":"debian","kernel":"6.11.2-amd64","name":"Kali GNU/Linux","platform":"kali","type":"linux","version":"2024.4"}`...)
	} else {
		b = append(b, `,"os":{"family":"debian","kernel":"6.1.0-28-amd64","name":"Debian GNU/Linux","platform":"debian","type":"linux","version":"12 (bookworm)"}`...)
	}
	h.frag = b
	for _, u := range h.users {
		renderUser(u)
	}
}

func renderUser(u *user) {
	var b []byte
	b = append(b, `"id":"`...)
	b = strconv.AppendInt(b, int64(u.uid), 10)
	b = append(b, `","name":`...)
	b = appendStr(b, u.name)
	u.frag = b
}

// entityID derives a stable process entity id from host, pid and start
// time, 16 base64 characters like Auditbeat's.
func entityID(h *host, pid int32, start int64) string {
	const prime = 1099511628211
	x := uint64(14695981039346656037)
	for i := 0; i < len(h.id); i++ {
		x = (x ^ uint64(h.id[i])) * prime
	}
	for _, v := range [2]uint64{uint64(pid), uint64(start)} {
		for k := 0; k < 8; k++ {
			x = (x ^ (v >> (8 * k) & 0xff)) * prime
		}
	}
	y := (x ^ 0x5a) * prime
	var buf [12]byte
	binary.BigEndian.PutUint64(buf[0:], x)
	binary.BigEndian.PutUint32(buf[8:], uint32(y>>16))
	var out [16]byte
	base64.StdEncoding.Encode(out[:], buf[:])
	return string(out[:])
}

func (s *sim) hashOf(exe string) string {
	if h, ok := s.exeHash[exe]; ok {
		return h
	}
	sum := sha256.Sum256([]byte("rangehunt-simulated-binary:" + exe))
	h := hex.EncodeToString(sum[:])
	s.exeHash[exe] = h
	return h
}

// renderProc renders the JSON bodies of p once, into one buffer: pfrag
// (what a child shows as process.parent), frag (pfrag plus hash and
// working directory) and sfrag (as session leader).
func (s *sim) renderProc(p *proc) {
	n := 160 + 2*len(p.exe) + len(p.cwd) + 2*len(p.entity) + 64
	for _, a := range p.args {
		n += 2*len(a) + 4
	}
	b := make([]byte, 0, n+n/4)
	b = append(b, `"args":`...)
	b = appendStrs(b, p.args)
	b = append(b, `,"args_count":`...)
	b = strconv.AppendInt(b, int64(len(p.args)), 10)
	// command_line is the args joined by spaces, as the agent reports it.
	b = append(b, `,"command_line":"`...)
	for i, a := range p.args {
		if i > 0 {
			b = append(b, ' ')
		}
		b = appendStrBody(b, a)
	}
	b = append(b, '"')
	b = append(b, `,"entity_id":`...)
	b = appendStr(b, p.entity)
	b = append(b, `,"executable":`...)
	b = appendStr(b, p.exe)
	b = append(b, `,"name":`...)
	b = appendStr(b, p.name)
	b = append(b, `,"pid":`...)
	b = strconv.AppendInt(b, int64(p.pid), 10)
	b = append(b, `,"start":`...)
	b = s.tsCache.appendTS(b, p.start)
	pn := len(b)
	b = append(b, `,"hash":{"sha256":"`...)
	b = append(b, s.hashOf(p.exe)...)
	b = append(b, `"},"working_directory":`...)
	b = appendStr(b, p.cwd)
	fn := len(b)
	b = append(b, `"entity_id":`...)
	b = appendStr(b, p.entity)
	b = append(b, `,"executable":`...)
	b = appendStr(b, p.exe)
	b = append(b, `,"name":`...)
	b = appendStr(b, p.name)
	b = append(b, `,"pid":`...)
	b = strconv.AppendInt(b, int64(p.pid), 10)
	p.pfrag = b[:pn:pn]
	p.frag = b[:fn:fn]
	p.sfrag = b[fn:]
}

func (s *sim) eventHead(b []byte, t int64, h *host, action, category, dataset, typ string) []byte {
	b = append(b, `{"@timestamp":`...)
	b = s.tsCache.appendTS(b, t)
	b = append(b, `,"agent":{"type":"endpoint","version":"`+ecsVersion+`"},"ecs":{"version":"`+ecsVersion+`"},"event":{"action":"`...)
	b = append(b, action...)
	b = append(b, `","category":["`...)
	b = append(b, category...)
	b = append(b, `"],"dataset":"`...)
	b = append(b, dataset...)
	b = append(b, `","kind":"event","module":"endpoint","sequence":`...)
	h.evSeq++
	b = strconv.AppendInt(b, h.evSeq, 10)
	b = append(b, `,"type":[`...)
	b = append(b, typ...)
	b = append(b, `]},"host":{`...)
	b = append(b, h.frag...)
	return append(b, '}')
}

func (s *sim) writeEvent(h *host, b []byte, lbl uint16) {
	h.out.w.Write(b)
	s.record(h.out, s.tEvents, lbl, true)
	s.events++
}

func (s *sim) emitProcStart(t int64, p *proc) {
	h := p.h
	if p.pid == 0 {
		p.pid = h.allocPID()
	}
	p.entity = entityID(h, p.pid, p.start)
	s.renderProc(p)
	action := "exec"
	if p.fork {
		action = "fork"
	}
	b := s.eventHead(s.ebuf[:0], t, h, action, "process", "endpoint.events.process", `"start"`)
	b = s.appendProcess(b, p, false, t)
	s.ebuf = b
	s.writeEvent(h, b, p.lbl)
}

func (s *sim) appendProcess(b []byte, p *proc, end bool, t int64) []byte {
	b = append(b, `,"process":{`...)
	b = append(b, p.frag...)
	if end {
		b = append(b, `,"end":`...)
		b = s.tsCache.appendTS(b, t)
		b = append(b, `,"exit_code":0`...)
	}
	if p.parent != nil {
		b = append(b, `,"parent":{`...)
		b = append(b, p.parent.pfrag...)
		b = append(b, '}')
	}
	if p.leader != nil {
		b = append(b, `,"session_leader":{`...)
		b = append(b, p.leader.sfrag...)
		b = append(b, '}')
	}
	b = append(b, `},"user":{`...)
	b = append(b, p.u.frag...)
	return append(b, "}}\n"...)
}

func (s *sim) emitProcEnd(t int64, p *proc) {
	h := p.h
	b := s.eventHead(s.ebuf[:0], t, h, "end", "process", "endpoint.events.process", `"end"`)
	b = s.appendProcess(b, p, true, t)
	s.ebuf = b
	s.writeEvent(h, b, p.lbl)
	h.freePID(p.pid)
}

// emitNet writes the connection event of one side of c.
func (s *sim) emitNet(t int64, it *item) {
	c := it.c
	h, p, action, dir := c.cli, c.cp, "connection_attempted", "egress"
	if it.dir == 1 {
		h, p, action, dir = c.srv, c.sp, "connection_accepted", "ingress"
	}
	if p == nil || !h.logged {
		return
	}
	b := s.eventHead(s.ebuf[:0], t, h, action, "network", "endpoint.events.network", `"start","connection"`)
	b = append(b, `,"destination":{"ip":`...)
	b = appendStr(b, c.srv.ipStr)
	b = append(b, `,"port":`...)
	b = strconv.AppendInt(b, int64(c.dport), 10)
	b = append(b, `},"network":{"direction":"`...)
	b = append(b, dir...)
	b = append(b, `","transport":"`...)
	if c.udp {
		b = append(b, "udp"...)
	} else {
		b = append(b, "tcp"...)
	}
	b = append(b, `","type":"ipv4"},"process":{`...)
	b = append(b, p.sfrag...)
	b = append(b, `},"source":{"ip":`...)
	b = appendStr(b, c.cli.ipStr)
	b = append(b, `,"port":`...)
	b = strconv.AppendInt(b, int64(c.sport), 10)
	b = append(b, `},"user":{`...)
	b = append(b, p.u.frag...)
	b = append(b, "}}\n"...)
	s.ebuf = b
	lbl := c.lbl
	if it.lbl != 0 {
		lbl = it.lbl
	}
	s.writeEvent(h, b, lbl)
}
