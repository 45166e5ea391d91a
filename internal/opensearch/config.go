// Package opensearch is rangehunt's OpenSearch backend: the connection
// configuration (credentials only from the environment or a config file),
// the project's index template (a minimal ECS mapping), bulk ingest with
// retries and deterministic document ids, idempotent tagging with bulk
// partial updates, and searches that pull every hit with point-in-time and
// search_after.
//
// It never imports cobra and never writes to the terminal: commands pass
// options in and get statistics back.
package opensearch

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// DefaultURL is the node scripts/opensearch.sh starts.
const DefaultURL = "http://127.0.0.1:9200"

// Environment variables read by LoadConfig. Credentials are read only from
// these and from the config file, never from flags.
const (
	EnvURL      = "OPENSEARCH_URL"
	EnvUsername = "OPENSEARCH_USERNAME"
	EnvPassword = "OPENSEARCH_PASSWORD"
	EnvCACert   = "OPENSEARCH_CA_CERT"
)

// Config is how to reach an OpenSearch cluster.
type Config struct {
	// URL of one node, http:// or https://. It must not carry credentials.
	URL string `yaml:"url"`
	// Username and Password for HTTP basic authentication.
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	// CACert is the path of a PEM file with the CA certificates to trust
	// (the system pool is used when empty).
	CACert string `yaml:"ca_cert"`
	// Insecure disables TLS certificate verification. It is an explicit
	// opt-out: the command warns when it is set.
	Insecure bool `yaml:"insecure"`
	// Timeout bounds one HTTP attempt (default 60s).
	Timeout time.Duration `yaml:"timeout"`
	// MaxRetries is how often a request is retried after a connection
	// error, 429 or 5xx (default 8); negative disables retries.
	MaxRetries int `yaml:"max_retries"`
	// RetryBase and RetryMax shape the exponential backoff between
	// attempts (default 200ms doubling up to 10s).
	RetryBase time.Duration `yaml:"retry_base"`
	RetryMax  time.Duration `yaml:"retry_max"`
}

// String describes the configuration without its secrets, for logs.
func (c Config) String() string {
	auth := "none"
	if c.Username != "" {
		auth = "basic (user " + c.Username + ")"
	}
	return fmt.Sprintf("url=%s auth=%s ca_cert=%q insecure=%v", c.URL, auth, c.CACert, c.Insecure)
}

// DefaultConfigPath is ~/.config/rangehunt/opensearch.yaml (under
// $XDG_CONFIG_HOME when set).
func DefaultConfigPath() string {
	dir, err := os.UserConfigDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "rangehunt", "opensearch.yaml")
}

// LoadConfig builds the configuration from, in increasing precedence: the
// defaults, the config file (path, or DefaultConfigPath when path is empty
// and that file exists; an explicit path must exist), and the environment
// (OPENSEARCH_URL, OPENSEARCH_USERNAME, OPENSEARCH_PASSWORD,
// OPENSEARCH_CA_CERT). The caller applies --url and --insecure on top.
func LoadConfig(path string) (Config, error) {
	cfg := Config{URL: DefaultURL}
	explicit := path != ""
	if !explicit {
		path = DefaultConfigPath()
	}
	if path != "" {
		data, err := os.ReadFile(path)
		switch {
		case err == nil:
			var fc Config
			dec := yaml.NewDecoder(strings.NewReader(string(data)))
			dec.KnownFields(true)
			if err := dec.Decode(&fc); err != nil && !errors.Is(err, io.EOF) {
				return cfg, fmt.Errorf("config %s: %w", path, err)
			}
			mergeConfig(&cfg, fc)
		case explicit || !errors.Is(err, os.ErrNotExist):
			return cfg, fmt.Errorf("config: %w", err)
		}
	}
	if v := os.Getenv(EnvURL); v != "" {
		cfg.URL = v
	}
	if v := os.Getenv(EnvUsername); v != "" {
		cfg.Username = v
	}
	if v := os.Getenv(EnvPassword); v != "" {
		cfg.Password = v
	}
	if v := os.Getenv(EnvCACert); v != "" {
		cfg.CACert = v
	}
	return cfg, nil
}

func mergeConfig(dst *Config, src Config) {
	if src.URL != "" {
		dst.URL = src.URL
	}
	if src.Username != "" {
		dst.Username = src.Username
	}
	if src.Password != "" {
		dst.Password = src.Password
	}
	if src.CACert != "" {
		dst.CACert = src.CACert
	}
	dst.Insecure = dst.Insecure || src.Insecure
	if src.Timeout != 0 {
		dst.Timeout = src.Timeout
	}
	if src.MaxRetries != 0 {
		dst.MaxRetries = src.MaxRetries
	}
	if src.RetryBase != 0 {
		dst.RetryBase = src.RetryBase
	}
	if src.RetryMax != 0 {
		dst.RetryMax = src.RetryMax
	}
}

// Validate checks the URL: a scheme of http or https, a host, and no
// user:password part (credentials belong in the environment or the config
// file, where they do not end up in shell history or process lists).
func (c Config) Validate() error {
	u, err := url.Parse(c.URL)
	if err != nil {
		return fmt.Errorf("url: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("url %q: scheme must be http or https", redactURL(c.URL))
	}
	if u.Host == "" {
		return fmt.Errorf("url %q: no host", redactURL(c.URL))
	}
	if u.User != nil {
		return fmt.Errorf("url %q: credentials in the URL are refused; set %s and %s or use the config file", redactURL(c.URL), EnvUsername, EnvPassword)
	}
	if c.Password != "" && c.Username == "" {
		return errors.New("a password is set without a username")
	}
	return nil
}

func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	u.User = url.User("REDACTED")
	return u.String()
}

// Connect loads the configuration (see LoadConfig), applies the --url and
// --insecure flags of a command (urlFlag "" keeps the configured URL) and
// returns a client. warn receives the warning printed when TLS
// verification is turned off.
func Connect(configPath, urlFlag string, insecure bool, warn io.Writer) (*Client, error) {
	cfg, err := LoadConfig(configPath)
	if err != nil {
		return nil, err
	}
	if urlFlag != "" {
		cfg.URL = urlFlag
	}
	if insecure {
		cfg.Insecure = true
	}
	if cfg.Insecure && warn != nil {
		fmt.Fprintf(warn, "warning: TLS certificate verification is OFF for %s (--insecure); the connection can be intercepted\n", redactURL(cfg.URL))
	}
	return New(cfg)
}
