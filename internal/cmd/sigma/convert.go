package sigma

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/rangehunt/rangehunt/internal/cmdutil"
	"github.com/rangehunt/rangehunt/internal/iostreams"
	"github.com/rangehunt/rangehunt/internal/lucene"
	"github.com/rangehunt/rangehunt/internal/sigma/pipeline"
)

func init() { verbs = append(verbs, newCmdConvert) }

// ConvertOptions are the flags of "sigma convert".
type ConvertOptions struct {
	IO            *iostreams.IOStreams
	Paths         []string
	Pipeline      string
	Format        string
	JSON          bool
	Since, Until  string
	Placeholders  []string
	PySigmaCompat bool
	KeywordFields []string
}

func newCmdConvert(f *cmdutil.Factory) *cobra.Command { return NewCmdConvert(f, nil) }

// NewCmdConvert returns "sigma convert"; runF replaces the work in tests.
func NewCmdConvert(f *cmdutil.Factory, runF func(*ConvertOptions) error) *cobra.Command {
	opts := &ConvertOptions{IO: f.IOStreams}
	cmd := &cobra.Command{
		Use:   "convert [--pipeline NAME[,NAME|FILE...]] [--format lucene|dsl] [--json] PATH...",
		Short: "Convert Sigma rules to OpenSearch Lucene query strings",
		Long: `Convert Sigma rules to OpenSearch query_string queries (Lucene syntax).

A pipeline maps the rules' field names first: none (default), ecs_linux,
ecs_windows, the event-kind step ecs_event_kind, or a pipeline YAML file;
several chain in order (--pipeline ecs_linux,ecs_event_kind). See
docs/pipelines.md.

The output matches Sigma's semantics on rangehunt's index template
(case-insensitive values, ".cased" sub-fields for the cased modifier and
regexes, regexes translated to Lucene's dialect, keyword searches bound to
--keyword-fields). --pysigma-compat prints what pySigma's OpenSearch Lucene
backend prints instead. See docs/lucene.md.

--format lucene prints one query per line (a rule with a list of
conditions has several); --format dsl prints the OpenSearch search request
body, with a range filter on @timestamp when --since/--until are given.
With --json, one object per rule: {"path", "id", "queries", "error"}.

Rules that cannot be converted are reported (on standard error, or in the
"error" member with --json) and the exit status is 1.`,
		Example: `  rangehunt sigma convert --pipeline ecs_linux rules/linux/
  rangehunt sigma convert --format dsl --since now-1d rule.yml
  rangehunt sigma convert --json --placeholder Admins=root,admin rules/`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return cmdutil.FlagErrorf("at least one file or folder is required")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Paths = args
			if opts.Format != lucene.FormatLucene && opts.Format != lucene.FormatDSL {
				return cmdutil.FlagErrorf("--format %q: want lucene or dsl", opts.Format)
			}
			if (opts.Since != "" || opts.Until != "") && opts.Format != lucene.FormatDSL {
				return cmdutil.FlagErrorf("--since and --until bound the DSL body: use them with --format dsl")
			}
			for _, t := range []string{opts.Since, opts.Until} {
				if err := lucene.CheckTime(t); err != nil {
					return cmdutil.FlagErrorf("%v", err)
				}
			}
			if runF != nil {
				return runF(opts)
			}
			return convertRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Pipeline, "pipeline", "none", "field-mapping pipeline(s): none, ecs_linux, ecs_windows, ecs_event_kind or a YAML file, comma-separated")
	fl.StringVar(&opts.Format, "format", lucene.FormatLucene, "output format: lucene or dsl")
	fl.BoolVar(&opts.JSON, "json", false, "print one JSON object per rule")
	fl.StringVar(&opts.Since, "since", "", "with --format dsl: only events at or after this time (RFC 3339, date or now-1d)")
	fl.StringVar(&opts.Until, "until", "", "with --format dsl: only events at or before this time")
	fl.StringArrayVar(&opts.Placeholders, "placeholder", nil, "values of an expand placeholder: name=v1,v2 (repeatable)")
	fl.BoolVar(&opts.PySigmaCompat, "pysigma-compat", false, "print pySigma's rendering instead of the correct one")
	fl.StringSliceVar(&opts.KeywordFields, "keyword-fields", nil, "fields that keyword (field-less) searches look in (default: message)")
	return cmd
}

func convertRun(ctx context.Context, opts *ConvertOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	p, err := pipeline.Resolve(opts.Pipeline)
	if err != nil {
		return cmdutil.FlagErrorf("--pipeline: %v", err)
	}
	ph, err := pipeline.ParsePlaceholderFlags(opts.Placeholders)
	if err != nil {
		return cmdutil.FlagErrorf("%v", err)
	}
	p = pipeline.WithPlaceholders(p, ph)
	prog := opts.IO.NewProgress("converting", "files", 0)
	st, err := lucene.ConvertPaths(ctx, opts.IO.Out, opts.Paths, lucene.BatchOptions{
		Options:  lucene.Options{PySigmaCompat: opts.PySigmaCompat, KeywordFields: opts.KeywordFields},
		Pipeline: p,
		Format:   opts.Format,
		JSON:     opts.JSON,
		Since:    opts.Since,
		Until:    opts.Until,
		Errors:   opts.IO.ErrOut,
		Progress: func() { prog.Add(1) },
	})
	prog.Done()
	if err != nil {
		return err
	}
	if !opts.IO.Quiet {
		fmt.Fprintf(opts.IO.ErrOut, "%d files, %d rules, %d converted, %d not converted%s\n",
			st.Files, st.Rules, st.Converted, st.Failed, reasons(st.Reasons))
	}
	if st.Failed > 0 {
		return cmdutil.ErrSilent
	}
	return nil
}

func reasons(m map[string]int) string {
	if len(m) == 0 {
		return ""
	}
	s := " ("
	for i, k := range []string{"parse", "pipeline", "convert", "correlation"} {
		if m[k] == 0 {
			continue
		}
		if i > 0 && s != " (" {
			s += ", "
		}
		s += fmt.Sprintf("%s: %d", k, m[k])
	}
	return s + ")"
}
