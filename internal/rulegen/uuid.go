package rulegen

import (
	"crypto/sha1"
	"fmt"
)

// UUID is an RFC 9562 UUID.
type UUID [16]byte

// NamespaceURL is the RFC 9562 name space for URLs.
var NamespaceURL = UUID{0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8}

// Namespace is rangehunt's name space for generated rule ids: the UUIDv5
// of its URL in NamespaceURL.
var Namespace = NewV5(NamespaceURL, "https://github.com/rangehunt/rangehunt/rulegen")

// NewV5 returns the name-based (SHA-1) UUID of name in name space ns
// (RFC 9562 section 5.5).
func NewV5(ns UUID, name string) UUID {
	h := sha1.New()
	h.Write(ns[:])
	h.Write([]byte(name))
	var u UUID
	copy(u[:], h.Sum(nil))
	u[6] = u[6]&0x0f | 0x50 // version 5
	u[8] = u[8]&0x3f | 0x80 // RFC 9562 variant
	return u
}

// String formats the UUID as 8-4-4-4-12 lower-case hex.
func (u UUID) String() string {
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}
