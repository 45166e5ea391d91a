package scenario

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // time zones must resolve on hosts without zoneinfo

	"go.yaml.in/yaml/v3"
)

// ErrInvalid is the cause of every error about a scenario's content, for
// errors.Is.
var ErrInvalid = errors.New("invalid scenario")

// Diagnostic is one problem found in a scenario: an error, or a warning
// about questionable but usable content.
type Diagnostic struct {
	File string
	// Line and Col are 1-based; zero when unknown (a scenario built in
	// code has no positions).
	Line, Col int
	// Path locates the value in the document, e.g. "procedures[2].end".
	Path    string
	Msg     string
	Warning bool
}

// Error formats the diagnostic as "file:line:col: path: msg".
func (d Diagnostic) Error() string {
	var b strings.Builder
	if d.File != "" {
		b.WriteString(d.File)
		b.WriteByte(':')
	}
	if d.Line > 0 {
		fmt.Fprintf(&b, "%d:", d.Line)
		if d.Col > 0 {
			fmt.Fprintf(&b, "%d:", d.Col)
		}
	}
	if b.Len() > 0 {
		b.WriteByte(' ')
	}
	if d.Warning {
		b.WriteString("warning: ")
	}
	if d.Path != "" {
		b.WriteString(d.Path)
		b.WriteString(": ")
	}
	b.WriteString(d.Msg)
	return b.String()
}

// Unwrap makes errors.Is(d, ErrInvalid) hold.
func (d Diagnostic) Unwrap() error { return ErrInvalid }

// Diagnostics is a list of problems, sorted by position.
type Diagnostics []Diagnostic

// Errors returns the diagnostics that are not warnings.
func (ds Diagnostics) Errors() Diagnostics {
	var out Diagnostics
	for _, d := range ds {
		if !d.Warning {
			out = append(out, d)
		}
	}
	return out
}

// Warnings returns the warnings.
func (ds Diagnostics) Warnings() Diagnostics {
	var out Diagnostics
	for _, d := range ds {
		if d.Warning {
			out = append(out, d)
		}
	}
	return out
}

// Err returns nil when there is no error (warnings do not count), else an
// error describing all errors.
func (ds Diagnostics) Err() error {
	errs := ds.Errors()
	if len(errs) == 0 {
		return nil
	}
	return errs
}

// Error prints the first error and how many more there are.
func (ds Diagnostics) Error() string {
	switch len(ds) {
	case 0:
		return "no errors"
	case 1:
		return ds[0].Error()
	}
	return fmt.Sprintf("%s (and %d more)", ds[0].Error(), len(ds)-1)
}

// Unwrap returns the diagnostics as errors.
func (ds Diagnostics) Unwrap() []error {
	out := make([]error, len(ds))
	for i, d := range ds {
		out[i] = d
	}
	return out
}

func (ds Diagnostics) sort() {
	sort.SliceStable(ds, func(i, j int) bool {
		a, b := ds[i], ds[j]
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
}

// Load reads and validates a scenario file (YAML or JSON). The scenario is
// returned whenever the file could be decoded, also when it has errors;
// check Diagnostics.Err.
func Load(path string) (*Scenario, Diagnostics) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, Diagnostics{{File: path, Msg: err.Error()}}
	}
	return Parse(path, data)
}

// Parse decodes and validates a scenario document. name is used in
// diagnostics. Timestamps without a UTC offset are read in the scenario's
// time_zone (UTC when missing, with a warning).
func Parse(name string, data []byte) (*Scenario, Diagnostics) {
	var ds Diagnostics
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		d := Diagnostic{File: name, Msg: "malformed YAML/JSON: " + err.Error()}
		if m := yamlLineRE.FindStringSubmatch(err.Error()); m != nil {
			d.Line, _ = strconv.Atoi(m[1])
			d.Msg = "malformed YAML/JSON: " + strings.TrimPrefix(err.Error(), m[0])
		}
		return nil, Diagnostics{d}
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, Diagnostics{{File: name, Msg: "empty document"}}
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, Diagnostics{{File: name, Line: root.Line, Col: root.Column, Msg: "a scenario must be a mapping"}}
	}
	pos := map[string]*yaml.Node{}
	add := func(n *yaml.Node, path, msg string, warn bool) {
		d := Diagnostic{File: name, Path: path, Msg: msg, Warning: warn}
		if n != nil {
			d.Line, d.Col = n.Line, n.Column
		}
		ds = append(ds, d)
	}
	checkKeys(root, reflect.TypeOf(Scenario{}), "", pos, add)

	// Time zone first: it governs how the timestamps are read.
	loc := time.UTC
	if n := pos["time_zone"]; n != nil && n.Kind == yaml.ScalarNode && n.Value != "" {
		l, err := time.LoadLocation(n.Value)
		if err != nil {
			add(n, "time_zone", fmt.Sprintf("unknown time zone %q (want an IANA name such as UTC or Europe/Vienna)", n.Value), false)
		} else {
			loc = l
		}
	}
	badTime := map[string]bool{}
	for path, n := range pos {
		if !(strings.HasSuffix(path, "].start") || strings.HasSuffix(path, "].end")) || !strings.HasPrefix(path, "procedures[") {
			continue
		}
		if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
			continue
		}
		t, err := ParseTime(n.Value, loc)
		if err != nil {
			add(n, path, err.Error(), false)
			badTime[path] = true
			n.Tag, n.Value, n.Style = "!!null", "", 0
			continue
		}
		n.Tag, n.Value, n.Style = "!!timestamp", t.Format(time.RFC3339Nano), 0
	}

	var s Scenario
	if err := root.Decode(&s); err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			for _, e := range te.Errors {
				d := Diagnostic{File: name, Msg: e}
				if m := yamlLineRE.FindStringSubmatch(e); m != nil {
					d.Line, _ = strconv.Atoi(m[1])
					d.Msg = strings.TrimPrefix(e, m[0])
				}
				ds = append(ds, d)
			}
		} else {
			add(root, "", err.Error(), false)
		}
	}
	// Re-attach the zone to parsed times (Decode yields UTC/fixed zones).
	for i := range s.Procedures {
		p := &s.Procedures[i]
		if !p.Start.IsZero() {
			p.Start = p.Start.In(loc)
		}
		if !p.End.IsZero() {
			p.End = p.End.In(loc)
		}
	}
	lookup := func(path string) *yaml.Node {
		for path != "" {
			if n := pos[path]; n != nil {
				return n
			}
			// Fall back to the enclosing value.
			i := strings.LastIndexAny(path, ".[")
			if i < 0 {
				break
			}
			path = path[:i]
		}
		return root
	}
	for _, d := range validate(&s, badTime) {
		n := lookup(d.Path)
		d.File, d.Line, d.Col = name, n.Line, n.Column
		ds = append(ds, d)
	}
	ds.sort()
	return &s, ds
}

var yamlLineRE = regexp.MustCompile(`^(?:yaml: )?line ([0-9]+): `)

// checkKeys records every value's node by path and reports keys that are
// not fields of t.
func checkKeys(n *yaml.Node, t reflect.Type, path string, pos map[string]*yaml.Node, add func(*yaml.Node, string, string, bool)) {
	if path != "" {
		pos[path] = n
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch n.Kind {
	case yaml.MappingNode:
		if t.Kind() != reflect.Struct || t == reflect.TypeOf(time.Time{}) {
			return
		}
		fields := map[string]reflect.Type{}
		var names []string
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			tag := strings.Split(f.Tag.Get("yaml"), ",")[0]
			if tag == "" || tag == "-" {
				continue
			}
			fields[tag] = f.Type
			names = append(names, tag)
		}
		seen := map[string]bool{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			sub := k.Value
			if path != "" {
				sub = path + "." + k.Value
			}
			ft, ok := fields[k.Value]
			if !ok {
				add(k, sub, fmt.Sprintf("unknown field %q (known: %s)", k.Value, strings.Join(names, ", ")), false)
				continue
			}
			if seen[k.Value] {
				add(k, sub, fmt.Sprintf("field %q given twice", k.Value), false)
			}
			seen[k.Value] = true
			checkKeys(v, ft, sub, pos, add)
		}
	case yaml.SequenceNode:
		if t.Kind() != reflect.Slice {
			return
		}
		for i, c := range n.Content {
			checkKeys(c, t.Elem(), fmt.Sprintf("%s[%d]", path, i), pos, add)
		}
	}
}

// ParseTime reads a timestamp: RFC 3339 (with or without fraction), also
// with a space instead of "T", and without an offset, in which case it is
// read in loc.
func ParseTime(s string, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999Z07:00"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	for _, layout := range []string{"2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("bad timestamp %q (want RFC 3339, e.g. 2024-03-05T14:02:11Z, or 2024-03-05 14:02:11 in the scenario's time_zone)", s)
}

// Validate checks a scenario built in code (or decoded elsewhere). The
// diagnostics carry paths but no positions.
func Validate(s *Scenario) Diagnostics { return validate(s, nil) }

var (
	procIDRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)
	// Platforms are the values of Host.Platform and Procedure.Platform.
	platforms = []string{"linux", "windows", "macos"}
	// Executors are the values of Command.Executor.
	executors = []string{"sh", "bash", "zsh", "psh", "pwsh", "cmd", "python"}
)

// Platforms returns the valid platform names.
func Platforms() []string { return append([]string(nil), platforms...) }

// Executors returns the valid executor names.
func Executors() []string { return append([]string(nil), executors...) }

func oneOf(v string, set []string) bool {
	for _, s := range set {
		if v == s {
			return true
		}
	}
	return false
}

func validate(s *Scenario, badTime map[string]bool) Diagnostics {
	var ds Diagnostics
	errf := func(path, format string, a ...any) {
		ds = append(ds, Diagnostic{Path: path, Msg: fmt.Sprintf(format, a...)})
	}
	warnf := func(path, format string, a ...any) {
		ds = append(ds, Diagnostic{Path: path, Msg: fmt.Sprintf(format, a...), Warning: true})
	}
	if strings.TrimSpace(s.Name) == "" {
		errf("name", "the scenario has no name (rule ids are derived from it)")
	}
	if s.TimeZone == "" {
		warnf("time_zone", "no time_zone: timestamps without an offset are read as UTC")
	} else if _, err := time.LoadLocation(s.TimeZone); err != nil && badTime == nil {
		errf("time_zone", "unknown time zone %q (want an IANA name such as UTC or Europe/Vienna)", s.TimeZone)
	}
	hosts := map[string]int{}
	for i, h := range s.Hosts {
		p := fmt.Sprintf("hosts[%d]", i)
		if strings.TrimSpace(h.Name) == "" {
			errf(p+".name", "host has no name")
		} else if j, dup := hosts[h.Name]; dup {
			errf(p+".name", "duplicate host %q (first at hosts[%d])", h.Name, j)
		} else {
			hosts[h.Name] = i
		}
		for k, ip := range h.IPs {
			if _, err := netip.ParseAddr(ip); err != nil {
				errf(fmt.Sprintf("%s.ips[%d]", p, k), "bad IP address %q", ip)
			}
		}
		if h.Platform != "" && !oneOf(h.Platform, platforms) {
			errf(p+".platform", "unknown platform %q (want one of %s)", h.Platform, strings.Join(platforms, ", "))
		}
	}
	ids := map[string]int{}
	for i := range s.Procedures {
		pr := &s.Procedures[i]
		p := fmt.Sprintf("procedures[%d]", i)
		switch {
		case pr.ID == "":
			errf(p+".id", "procedure has no id")
		case !procIDRE.MatchString(pr.ID):
			errf(p+".id", "bad procedure id %q: use letters, digits, '_', '.', '-' (it names the rules' folder)", pr.ID)
		}
		if j, dup := ids[pr.ID]; dup && pr.ID != "" {
			errf(p+".id", "duplicate procedure id %q (first at procedures[%d])", pr.ID, j)
		} else {
			ids[pr.ID] = i
		}
		if strings.TrimSpace(pr.Name) == "" {
			warnf(p+".name", "procedure %q has no name; rules are titled with its id", pr.ID)
		}
		for k, t := range pr.Tactics {
			tp := fmt.Sprintf("%s.tactics[%d]", p, k)
			if !ValidTacticID(t) {
				errf(tp, "bad tactic id %q (want TA and four digits, e.g. TA0007)", t)
			} else if _, ok := TacticByID(t); !ok {
				errf(tp, "unknown ATT&CK tactic %q (known: %s)", t, strings.Join(SortedTacticIDs(), " "))
			}
		}
		for k, t := range pr.Techniques {
			if !ValidTechniqueID(t) {
				errf(fmt.Sprintf("%s.techniques[%d]", p, k), "bad technique id %q (want T1046 or T1059.004)", t)
			}
		}
		if !pr.Setup && len(pr.Techniques) == 0 {
			warnf(p+".techniques", "procedure %q has no ATT&CK technique", pr.ID)
		}
		if !pr.Setup && len(pr.Tactics) == 0 {
			warnf(p+".tactics", "procedure %q has no ATT&CK tactic", pr.ID)
		}
		if pr.Host == "" {
			errf(p+".host", "procedure %q has no host", pr.ID)
		} else if _, ok := hosts[pr.Host]; !ok {
			known := make([]string, 0, len(hosts))
			for h := range hosts {
				known = append(known, h)
			}
			sort.Strings(known)
			errf(p+".host", "unknown host %q (hosts: %s)", pr.Host, strings.Join(known, ", "))
		}
		for k, t := range pr.Targets {
			if _, err := netip.ParseAddr(t); err != nil {
				if _, err := netip.ParsePrefix(t); err != nil {
					errf(fmt.Sprintf("%s.targets[%d]", p, k), "bad target %q (want an IP address or CIDR prefix)", t)
				}
			}
		}
		if pr.Start.IsZero() && !badTime[p+".start"] {
			errf(p+".start", "procedure %q has no start time", pr.ID)
		}
		if pr.End.IsZero() && !badTime[p+".end"] {
			errf(p+".end", "procedure %q has no end time", pr.ID)
		}
		if !pr.Start.IsZero() && !pr.End.IsZero() && pr.End.Before(pr.Start) {
			errf(p+".end", "end %s is before start %s", pr.End.Format(time.RFC3339), pr.Start.Format(time.RFC3339))
		}
		if pr.Platform != "" && !oneOf(pr.Platform, platforms) {
			errf(p+".platform", "unknown platform %q (want one of %s)", pr.Platform, strings.Join(platforms, ", "))
		}
		if len(pr.Commands) == 0 {
			if pr.Setup {
				warnf(p+".commands", "setup procedure %q has no commands", pr.ID)
			} else {
				errf(p+".commands", "procedure %q has no commands", pr.ID)
			}
		}
		for k, c := range pr.Commands {
			cp := fmt.Sprintf("%s.commands[%d]", p, k)
			if strings.TrimSpace(c.Payload) == "" {
				if pr.Setup {
					warnf(cp+".payload", "empty command")
				} else {
					errf(cp+".payload", "empty command")
				}
			}
			if c.Executor != "" && !oneOf(c.Executor, executors) {
				errf(cp+".executor", "unknown executor %q (want one of %s)", c.Executor, strings.Join(executors, ", "))
			}
			for m, sc := range c.SubCommands {
				if strings.TrimSpace(sc) == "" {
					warnf(fmt.Sprintf("%s.sub_commands[%d]", cp, m), "empty sub-command")
				}
			}
		}
	}
	return ds
}

// HostByName returns the named host, or nil.
func (s *Scenario) HostByName(name string) *Host {
	for i := range s.Hosts {
		if s.Hosts[i].Name == name {
			return &s.Hosts[i]
		}
	}
	return nil
}

// PlatformOf returns the procedure's platform: its own, else its host's,
// else "linux".
func (s *Scenario) PlatformOf(p *Procedure) string {
	if p.Platform != "" {
		return p.Platform
	}
	if h := s.HostByName(p.Host); h != nil && h.Platform != "" {
		return h.Platform
	}
	return "linux"
}

// Encode writes the scenario as YAML, or as indented JSON when asJSON is set.
func Encode(w io.Writer, s *Scenario, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(s); err != nil {
			return fmt.Errorf("encode scenario %s: %w", s.Name, err)
		}
		return nil
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(s); err != nil {
		return fmt.Errorf("encode scenario %s: %w", s.Name, err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("encode scenario %s: %w", s.Name, err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// Write writes the scenario to path: JSON when the name ends in .json,
// YAML otherwise.
func Write(path string, s *Scenario) error {
	var buf bytes.Buffer
	if err := Encode(&buf, s, strings.EqualFold(filepath.Ext(path), ".json")); err != nil {
		return err
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write scenario: %w", err)
	}
	return nil
}
