package opensearch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/opensearch-project/opensearch-go/v4"
)

// Client talks to one OpenSearch cluster through the official Go client
// (github.com/opensearch-project/opensearch-go/v4). Every request goes
// through one retry loop: connection errors, 429 and 5xx are retried with
// exponential backoff and jitter, up to Config.MaxRetries times.
type Client struct {
	os  *opensearch.Client
	cfg Config
	// Retries counts the retried attempts over the client's life.
	retries retryCounter
	sleep   func(context.Context, time.Duration) error
}

// New returns a client for cfg. It does not contact the server.
func New(cfg Config) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 60 * time.Second
	}
	if cfg.MaxRetries == 0 {
		cfg.MaxRetries = 8
	}
	if cfg.MaxRetries < 0 {
		cfg.MaxRetries = 0
	}
	if cfg.RetryBase == 0 {
		cfg.RetryBase = 200 * time.Millisecond
	}
	if cfg.RetryMax == 0 {
		cfg.RetryMax = 10 * time.Second
	}
	oc := opensearch.Config{
		Addresses:             []string{strings.TrimRight(cfg.URL, "/")},
		Username:              cfg.Username,
		Password:              cfg.Password,
		InsecureSkipVerify:    cfg.Insecure,
		DisableRetry:          true, // retries are ours: see do
		HealthCheckMaxRetries: -1,
		DiscoverNodesOnStart:  new(false),
		CompressRequestBody:   false,
	}
	if cfg.CACert != "" {
		pem, err := os.ReadFile(cfg.CACert)
		if err != nil {
			return nil, fmt.Errorf("ca_cert: %w", err)
		}
		oc.CACert = pem
	}
	c, err := opensearch.NewClient(oc)
	if err != nil {
		return nil, fmt.Errorf("opensearch client: %w", err)
	}
	return &Client{os: c, cfg: cfg, sleep: sleepCtx}, nil
}

// Config returns the client's configuration (with defaults filled in).
func (c *Client) Config() Config { return c.cfg }

// Retries returns how many attempts were retried so far.
func (c *Client) Retries() int64 { return c.retries.load() }

// StatusError is a response with a non-2xx status.
type StatusError struct {
	Method, Path string
	Status       int
	Body         string // the start of the response body
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%s %s: HTTP %d: %s", e.Method, e.Path, e.Status, e.Body)
}

// Retryable reports whether a status is worth retrying: 429 (too many
// requests) and the 5xx family.
func Retryable(status int) bool { return status == http.StatusTooManyRequests || status >= 500 }

// request performs one HTTP request with retries and returns the status
// and body of a 2xx response. Non-2xx responses that are not retryable (or
// still failing after the last retry) give a *StatusError.
func (c *Client) request(ctx context.Context, method, path string, query url.Values, body []byte) ([]byte, error) {
	var last error
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			c.retries.add(1)
			if err := c.sleep(ctx, c.backoff(attempt)); err != nil {
				return nil, fmt.Errorf("%s %s: %w (last error: %v)", method, path, err, last)
			}
		}
		status, data, err := c.once(ctx, method, path, query, body)
		if err == nil && status/100 == 2 {
			return data, nil
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%s %s: %w", method, path, ctx.Err())
		}
		if err != nil {
			last = fmt.Errorf("%s %s: %w", method, path, err)
		} else {
			se := &StatusError{Method: method, Path: path, Status: status, Body: truncate(string(data), 500)}
			if !Retryable(status) {
				return data, se
			}
			last = se
		}
		if attempt >= c.cfg.MaxRetries {
			return nil, fmt.Errorf("giving up after %d attempts: %w", attempt+1, last)
		}
	}
}

func (c *Client) once(ctx context.Context, method, path string, query url.Values, body []byte) (int, []byte, error) {
	actx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	u := &url.URL{Path: path, RawQuery: query.Encode()}
	req, err := http.NewRequestWithContext(actx, method, u.String(), rd)
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		if strings.HasSuffix(path, "_bulk") {
			req.Header.Set("Content-Type", "application/x-ndjson")
		} else {
			req.Header.Set("Content-Type", "application/json")
		}
	}
	resp, err := c.os.Perform(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, nil, fmt.Errorf("reading response: %w", err)
	}
	return resp.StatusCode, data, nil
}

// backoff is the delay before attempt (1-based): RetryBase doubling up to
// RetryMax, with ±25 % jitter so that parallel workers spread out.
func (c *Client) backoff(attempt int) time.Duration {
	d := c.cfg.RetryBase
	for i := 1; i < attempt && d < c.cfg.RetryMax; i++ {
		d *= 2
	}
	if d > c.cfg.RetryMax {
		d = c.cfg.RetryMax
	}
	j := time.Duration(rand.Int64N(int64(d)/2+1)) - d/4
	return d + j
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func truncate(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// Ping checks that the server answers; it does not retry.
func (c *Client) Ping(ctx context.Context) error {
	status, body, err := c.once(ctx, http.MethodGet, "/", nil, nil)
	if err != nil {
		return fmt.Errorf("opensearch at %s: %w", c.cfg.URL, err)
	}
	if status/100 != 2 {
		return fmt.Errorf("opensearch at %s: %w", c.cfg.URL, &StatusError{Method: "GET", Path: "/", Status: status, Body: truncate(string(body), 300)})
	}
	return nil
}

// IsNotFound reports whether err is a 404 from the server.
func IsNotFound(err error) bool {
	var se *StatusError
	return errors.As(err, &se) && se.Status == http.StatusNotFound
}

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }
