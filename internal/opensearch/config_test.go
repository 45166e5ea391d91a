package opensearch

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadConfigPrecedenceAndSecrets(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "opensearch.yaml")
	if err := os.WriteFile(path, []byte("url: https://search.example:9200\nusername: filer\npassword: from-file-secret\nca_cert: /etc/ca.pem\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv(EnvURL, "")
	t.Setenv(EnvUsername, "")
	t.Setenv(EnvPassword, "")
	t.Setenv(EnvCACert, "")
	cfg, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.URL != "https://search.example:9200" || cfg.Username != "filer" || cfg.Password != "from-file-secret" || cfg.CACert != "/etc/ca.pem" || cfg.Insecure {
		t.Errorf("from file: %+v", cfg)
	}
	t.Setenv(EnvUsername, "envuser")
	t.Setenv(EnvPassword, "env-secret")
	cfg, err = LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Username != "envuser" || cfg.Password != "env-secret" {
		t.Errorf("environment must override the file: %+v", cfg)
	}
	if s := cfg.String(); strings.Contains(s, "secret") || !strings.Contains(s, "envuser") {
		t.Errorf("String() = %q; must name the user and never show the password", s)
	}
	// An explicit config path must exist; unknown keys are errors.
	if _, err := LoadConfig(filepath.Join(dir, "missing.yaml")); err == nil {
		t.Error("missing explicit config file accepted")
	}
	if err := os.WriteFile(path, []byte("url: http://x:9200\npasword: typo\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadConfig(path); err == nil || !strings.Contains(err.Error(), "pasword") {
		t.Errorf("unknown key: err = %v", err)
	}
}

func TestConfigRefusesCredentialsInURL(t *testing.T) {
	for _, u := range []string{"https://admin:hunter2@search:9200", "http://admin@search:9200"} {
		_, err := New(Config{URL: u})
		if err == nil {
			t.Errorf("%s accepted", u)
			continue
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("error leaks the password: %v", err)
		}
	}
	for _, u := range []string{"ftp://search", "search:9200", "http://"} {
		if _, err := New(Config{URL: u}); err == nil {
			t.Errorf("%q accepted", u)
		}
	}
}

func TestConnectWarnsOnInsecure(t *testing.T) {
	t.Setenv(EnvURL, "")
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	var warn bytes.Buffer
	c, err := Connect("", "https://127.0.0.1:9", false, &warn)
	if err != nil {
		t.Fatal(err)
	}
	if c.Config().Insecure || warn.Len() != 0 {
		t.Errorf("TLS verification must be on by default (insecure=%v, warning %q)", c.Config().Insecure, warn.String())
	}
	c, err = Connect("", "https://127.0.0.1:9", true, &warn)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Config().Insecure || !strings.Contains(warn.String(), "verification is OFF") {
		t.Errorf("--insecure: insecure=%v warning %q", c.Config().Insecure, warn.String())
	}
}

func TestTemplateShape(t *testing.T) {
	fields := Fields()
	want := map[string]string{
		"@timestamp": "date", "process.args": "keyword", "process.command_line": "keyword", "process.pid": "long",
		"source.ip": "ip", "destination.port": "long", "threat.technique.id": "keyword", "rangehunt.line": "long",
		"process.parent.name": "keyword", "file.path": "keyword", "tags": "keyword", "event.id": "keyword",
	}
	for f, typ := range want {
		if fields[f] != typ {
			t.Errorf("%s: type %q, want %q", f, fields[f], typ)
		}
	}
	b, err := Template([]string{"logs-*"})
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, frag := range []string{`"normalizer": "rangehunt_lowercase"`, `"cased": {`, `"number_of_replicas": 0`, `"default_field": [`, `"match_mapping_type": "string"`} {
		if !strings.Contains(s, frag) {
			t.Errorf("template lacks %s", frag)
		}
	}
}

func TestStripProvenance(t *testing.T) {
	var buf bytes.Buffer
	raw := []byte(`{"a":1,"b":{"c":"x,\"rangehunt\":{"}}`)
	writeWithProvenance(&buf, raw, []byte(`"/tmp/f.ndjson"`), 7, "abc")
	if got := StripProvenance(buf.Bytes()); string(got) != string(raw) {
		t.Errorf("StripProvenance(%s) = %s, want %s", buf.Bytes(), got, raw)
	}
	buf.Reset()
	writeWithProvenance(&buf, []byte(`{}`), []byte(`"f"`), 1, "id")
	if got := StripProvenance(buf.Bytes()); string(got) != `{}` {
		t.Errorf("empty object: %s", got)
	}
	// A source rewritten by the server (after a partial update).
	if got := StripProvenance([]byte(`{"tags":["x"],"rangehunt":{"line":3,"file":"f","id":"i"},"z":1}`)); string(got) != `{"tags":["x"],"z":1}` {
		t.Errorf("rewritten source: %s", got)
	}
}

// TestDocIDStable pins the document id: an index loaded by an earlier
// version must see its documents replaced, not duplicated, on re-ingest.
func TestDocIDStable(t *testing.T) {
	// sha256("/tmp/a.ndjson\x0042")[:16] in hex.
	if got := DocID("/tmp/a.ndjson", 42); got != "2069de8f76cc51abb17e907c0d755e64" {
		t.Errorf("DocID = %s", got)
	}
}
