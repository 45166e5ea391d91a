package rulegen

import "testing"

// TestNewV5 checks against the RFC 9562 / Python uuid.uuid5 reference:
// uuid5(NAMESPACE_DNS, "python.org") = 886313e1-3b8a-5372-9b90-0c9aee199e5d
// and uuid5(NAMESPACE_URL, "http://www.example.com/") (computed by CPython).
func TestNewV5(t *testing.T) {
	dns := UUID{0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8}
	if got := NewV5(dns, "python.org").String(); got != "886313e1-3b8a-5372-9b90-0c9aee199e5d" {
		t.Errorf("uuid5(DNS, python.org) = %s", got)
	}
	if got := NewV5(dns, "www.example.com").String(); got != "2ed6657d-e927-568b-95e1-2665a8aea6a2" {
		t.Errorf("uuid5(DNS, www.example.com) = %s", got)
	}
	a, b := NewV5(Namespace, "x"), NewV5(Namespace, "y")
	if a == b || a != NewV5(Namespace, "x") {
		t.Error("not deterministic or not distinct")
	}
}
