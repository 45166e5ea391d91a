package hunt

import (
	"github.com/rangehunt/rangehunt/internal/cmdutil"
	"github.com/rangehunt/rangehunt/internal/hunt"
	"github.com/rangehunt/rangehunt/internal/opensearch"
)

func init() { backends["opensearch"] = newOpenSearchBackend }

// newOpenSearchBackend builds the OpenSearch backend from --url, --index,
// --since and --until. The URL defaults to $OPENSEARCH_URL, the config
// file (~/.config/rangehunt/opensearch.yaml) or http://127.0.0.1:9200;
// credentials come only from the environment or the config file (see
// docs/opensearch.md).
func newOpenSearchBackend(o *Options) (hunt.Backend, error) {
	if o.Index == "" {
		return nil, cmdutil.FlagErrorf("--index is required with --backend opensearch")
	}
	if len(o.Logs) > 0 {
		return nil, cmdutil.FlagErrorf("--logs is for --backend file; load files with \"rangehunt opensearch ingest\"")
	}
	since, err := opensearch.ParseTime(o.Since)
	if err != nil {
		return nil, cmdutil.FlagErrorf("--since: %v", err)
	}
	until, err := opensearch.ParseTime(o.Until)
	if err != nil {
		return nil, cmdutil.FlagErrorf("--until: %v", err)
	}
	if !since.IsZero() && !until.IsZero() && !since.Before(until) {
		return nil, cmdutil.FlagErrorf("--since %s is not before --until %s", o.Since, o.Until)
	}
	c, err := opensearch.Connect(o.Config, o.URL, o.Insecure, o.IO.ErrOut)
	if err != nil {
		return nil, err
	}
	b := &opensearch.HuntBackend{Client: c, Index: o.Index, Since: since, Until: until}
	if o.Progress != nil {
		p := o.Progress
		b.Progress = func(n int64) { p.Add(n) }
	}
	return b, nil
}
