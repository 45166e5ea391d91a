package scenario

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/rangehunt/rangehunt/internal/cmdutil"
	"github.com/rangehunt/rangehunt/internal/iostreams"
	"github.com/rangehunt/rangehunt/internal/scenario"
	"github.com/rangehunt/rangehunt/internal/scenario/importer"
)

func init() { verbs = append(verbs, newCmdImport) }

// ImportOptions are the flags of "scenario import".
type ImportOptions struct {
	IO      *iostreams.IOStreams
	From    string
	Report  string
	Atomics []string
	Name    string
	Output  string
	JSON    bool
	Files   []string
}

func newCmdImport(f *cmdutil.Factory) *cobra.Command { return NewCmdImport(f, nil) }

// NewCmdImport returns "scenario import"; runF replaces the work in tests.
func NewCmdImport(f *cmdutil.Factory, runF func(*ImportOptions) error) *cobra.Command {
	opts := &ImportOptions{IO: f.IOStreams}
	cmd := &cobra.Command{
		Use:   "import --from caldera|atomic [--report FILE] [--atomics DIR] [-o OUT] FILE...",
		Short: "Convert Caldera or Atomic Red Team execution logs into a scenario",
		Long: `Write rangehunt's scenario format from what adversary-emulation tools log.

--from caldera: operation event logs (JSON list; "Download event logs") and/or
operation reports (JSON object with "steps"). --report adds the report's
host_group so agents' paws resolve to hosts with IP addresses and platforms.
Base64 commands (Caldera < 4.2) are decoded. Each link becomes a procedure
whose window runs from collected (else delegated) to finished.

--from atomic: Invoke-AtomicRedTeam execution logs: the default CSV logger
(start times only; commands are taken from --atomics, the Atomic Red Team
definitions, with default input arguments) or ATTiRe JSON (commands and
start/stop times included). Tactics are derived from the techniques.

Warnings and skipped records go to standard error; the scenario is
validated before it is written (to -o, or standard output).`,
		Example: `  rangehunt scenario import --from caldera --report report.json -o scenario.yaml event-logs.json
  rangehunt scenario import --from atomic --atomics atomic-red-team/atomics -o s.yaml Invoke-AtomicTest-ExecutionLog.csv`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return cmdutil.FlagErrorf("at least one input file is required")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Files = args
			switch opts.From {
			case "caldera", "atomic":
			case "":
				return cmdutil.FlagErrorf("--from is required (caldera or atomic)")
			default:
				return cmdutil.FlagErrorf("--from %q: want caldera or atomic", opts.From)
			}
			if opts.Report != "" && opts.From != "caldera" {
				return cmdutil.FlagErrorf("--report is for --from caldera")
			}
			if len(opts.Atomics) > 0 && opts.From != "atomic" {
				return cmdutil.FlagErrorf("--atomics is for --from atomic")
			}
			if runF != nil {
				return runF(opts)
			}
			return importRun(opts)
		},
	}
	cmd.Flags().StringVar(&opts.From, "from", "", "input format: caldera or atomic")
	cmd.Flags().StringVar(&opts.Report, "report", "", "Caldera operation report (JSON) for agent hosts and IPs")
	cmd.Flags().StringSliceVar(&opts.Atomics, "atomics", nil, "Atomic Red Team definition files or folders (for CSV logs)")
	cmd.Flags().StringVar(&opts.Name, "name", "", "scenario name (default: from the input)")
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "", "output file (.yaml/.yml or .json; default standard output as YAML)")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "write JSON instead of YAML to standard output")
	return cmd
}

func readInput(path string) (importer.Input, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return importer.Input{}, fmt.Errorf("read %s: %w", path, err)
	}
	return importer.Input{Name: path, Data: b}, nil
}

// atomicFiles expands folders to their *.yaml/*.yml files (recursively).
func atomicFiles(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("atomics: %w", err)
		}
		if !st.IsDir() {
			out = append(out, p)
			continue
		}
		err = filepath.WalkDir(p, func(path string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && (strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml")) && !strings.Contains(path, "Indexes") {
				out = append(out, path)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("atomics %s: %w", p, err)
		}
	}
	sort.Strings(out)
	return out, nil
}

func importRun(opts *ImportOptions) error {
	var inputs []importer.Input
	for _, f := range opts.Files {
		in, err := readInput(f)
		if err != nil {
			return err
		}
		inputs = append(inputs, in)
	}
	iopts := importer.Options{Name: opts.Name}
	if opts.Report != "" {
		in, err := readInput(opts.Report)
		if err != nil {
			return err
		}
		iopts.Report = &in
	}
	files, err := atomicFiles(opts.Atomics)
	if err != nil {
		return err
	}
	for _, f := range files {
		in, err := readInput(f)
		if err != nil {
			return err
		}
		iopts.Atomics = append(iopts.Atomics, in)
	}
	var res *importer.Result
	if opts.From == "caldera" {
		res, err = importer.Caldera(inputs, iopts)
	} else {
		res, err = importer.Atomic(inputs, iopts)
	}
	if err != nil {
		return err
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(opts.IO.ErrOut, "warning: %s\n", w)
	}
	for _, s := range res.Skipped {
		fmt.Fprintf(opts.IO.ErrOut, "skipped: %s\n", s)
	}
	var buf bytes.Buffer
	asJSON := opts.JSON || strings.EqualFold(filepath.Ext(opts.Output), ".json")
	if err := scenario.Encode(&buf, res.Scenario, asJSON); err != nil {
		return err
	}
	// Check what was written; its diagnostics name the output.
	name := opts.Output
	if name == "" {
		name = "<stdout>"
	}
	_, ds := scenario.Parse(name, buf.Bytes())
	for _, d := range ds {
		fmt.Fprintf(opts.IO.ErrOut, "%s\n", d.Error())
	}
	if opts.Output == "" {
		if _, err := opts.IO.Out.Write(buf.Bytes()); err != nil {
			return err
		}
	} else if err := os.WriteFile(opts.Output, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", opts.Output, err)
	}
	fmt.Fprintf(opts.IO.ErrOut, "%d procedures on %d hosts, %d warnings, %d skipped\n",
		len(res.Scenario.Procedures), len(res.Scenario.Hosts), len(res.Warnings), len(res.Skipped))
	if ds.Err() != nil {
		return cmdutil.ErrSilent
	}
	return nil
}
