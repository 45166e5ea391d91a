package cmdutil

import (
	"errors"
	"slices"
	"testing"

	"github.com/spf13/cobra"
)

func TestParseMultiValue(t *testing.T) {
	for _, tt := range []struct {
		args        []string
		rules, logs []string
		rest        []string
		wantErr     bool
	}{
		{args: []string{"--rules", "a", "b", "--logs", "c", "d"}, rules: []string{"a", "b"}, logs: []string{"c", "d"}},
		{args: []string{"--logs=c", "--rules", "a", "--json", "x"}, rules: []string{"a"}, logs: []string{"c"}, rest: []string{"x"}},
		{args: []string{"x", "--rules", "a", "--", "--logs"}, rules: []string{"a"}, rest: []string{"x", "--logs"}},
		{args: []string{"--rules", "a", "-q", "b"}, rules: []string{"a"}, rest: []string{"b"}},
		{args: []string{"--bogus"}, wantErr: true},
	} {
		var rules, logs []string
		var asJSON, quiet bool
		cmd := &cobra.Command{Use: "x", DisableFlagParsing: true}
		cmd.Flags().StringSliceVar(&rules, "rules", nil, "")
		cmd.Flags().StringSliceVar(&logs, "logs", nil, "")
		cmd.Flags().BoolVar(&asJSON, "json", false, "")
		cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "")
		rest, help, err := ParseMultiValue(cmd, tt.args, "--rules", "--logs")
		var fe *FlagError
		if tt.wantErr != (err != nil) || err != nil && !errors.As(err, &fe) {
			t.Errorf("%q: err = %v, want a usage error: %v", tt.args, err, tt.wantErr)
			continue
		}
		if help || !slices.Equal(rules, tt.rules) || !slices.Equal(logs, tt.logs) || !slices.Equal(rest, tt.rest) {
			t.Errorf("%q: rules %q logs %q rest %q help %v; want %q %q %q", tt.args, rules, logs, rest, help, tt.rules, tt.logs, tt.rest)
		}
	}
}
