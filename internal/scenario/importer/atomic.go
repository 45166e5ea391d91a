package importer

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/rangehunt/rangehunt/internal/scenario"
)

// AtomicTechnique is one Atomic Red Team definition file
// (atomics/Txxxx/Txxxx.yaml).
type AtomicTechnique struct {
	Technique   string       `yaml:"attack_technique"`
	DisplayName string       `yaml:"display_name"`
	Tests       []AtomicTest `yaml:"atomic_tests"`
}

// AtomicTest is one test of an Atomic Red Team technique.
type AtomicTest struct {
	Name        string   `yaml:"name"`
	GUID        string   `yaml:"auto_generated_guid"`
	Description string   `yaml:"description"`
	Platforms   []string `yaml:"supported_platforms"`
	Inputs      map[string]struct {
		Description string `yaml:"description"`
		Type        string `yaml:"type"`
		Default     any    `yaml:"default"`
	} `yaml:"input_arguments"`
	DependencyExecutor string `yaml:"dependency_executor_name"`
	Dependencies       []struct {
		Description      string `yaml:"description"`
		PrereqCommand    string `yaml:"prereq_command"`
		GetPrereqCommand string `yaml:"get_prereq_command"`
	} `yaml:"dependencies"`
	Executor struct {
		Name              string `yaml:"name"`
		Command           string `yaml:"command"`
		CleanupCommand    string `yaml:"cleanup_command"`
		ElevationRequired bool   `yaml:"elevation_required"`
		Steps             string `yaml:"steps"`
	} `yaml:"executor"`
	// Number is the test's 1-based position in its file (Invoke-AtomicTest
	// -TestNumbers).
	Number int `yaml:"-"`
	// Technique is copied from the file.
	Technique string `yaml:"-"`
}

var inputRE = regexp.MustCompile(`#\{([A-Za-z0-9_.\-]+)\}`)

// Command returns the test's command with the input arguments' defaults
// substituted (what Invoke-AtomicTest runs without -InputArgs), and the
// names of placeholders that have no default.
func (t *AtomicTest) Command() (string, []string) {
	return t.Substitute(t.Executor.Command)
}

// Substitute replaces #{name} placeholders in text with the defaults.
func (t *AtomicTest) Substitute(text string) (string, []string) {
	var missing []string
	out := inputRE.ReplaceAllStringFunc(text, func(m string) string {
		name := inputRE.FindStringSubmatch(m)[1]
		in, ok := t.Inputs[name]
		if !ok || in.Default == nil {
			missing = append(missing, name)
			return m
		}
		return fmt.Sprint(in.Default)
	})
	return out, missing
}

// ParseAtomics reads Atomic Red Team definition files.
func ParseAtomics(inputs []Input) ([]AtomicTechnique, error) {
	var out []AtomicTechnique
	for _, in := range inputs {
		var t AtomicTechnique
		if err := yaml.Unmarshal(in.Data, &t); err != nil {
			return nil, fmt.Errorf("atomics %s: %w", in.Name, err)
		}
		if t.Technique == "" {
			return nil, fmt.Errorf("atomics %s: no attack_technique: not an Atomic Red Team file", in.Name)
		}
		for i := range t.Tests {
			t.Tests[i].Number = i + 1
			t.Tests[i].Technique = t.Technique
		}
		out = append(out, t)
	}
	return out, nil
}

// csvColumns are the Default-ExecutionLogger's columns.
var csvColumns = []string{"Execution Time (UTC)", "Technique", "Test Number", "Test Name", "Hostname", "IP Address", "GUID"}

// DefaultAtomicDuration is the window given to a CSV row that has no
// later row on the same host (the CSV logs start times only).
const DefaultAtomicDuration = time.Minute

// Atomic imports Invoke-AtomicRedTeam execution logs: the
// Default-ExecutionLogger CSV (commands looked up by test GUID, or by
// technique and test number, in opts.Atomics) and Attire-ExecutionLogger
// JSON files (commands included).
func Atomic(inputs []Input, opts Options) (*Result, error) {
	res := &Result{Scenario: &scenario.Scenario{Name: opts.Name, TimeZone: "UTC"}}
	techs, err := ParseAtomics(opts.Atomics)
	if err != nil {
		return nil, err
	}
	byGUID := map[string]*AtomicTest{}
	byNum := map[string]*AtomicTest{}
	for ti := range techs {
		for i := range techs[ti].Tests {
			t := &techs[ti].Tests[i]
			byGUID[strings.ToLower(t.GUID)] = t
			byNum[fmt.Sprintf("%s#%d", strings.ToUpper(t.Technique), t.Number)] = t
		}
	}
	hosts := map[string]*scenario.Host{}
	var procs []scenario.Procedure
	for _, in := range inputs {
		trim := bytes.TrimSpace(in.Data)
		var ps []scenario.Procedure
		var err error
		if len(trim) > 0 && trim[0] == '{' {
			ps, err = attire(in, res, hosts)
		} else {
			ps, err = atomicCSV(in, res, hosts, byGUID, byNum)
		}
		if err != nil {
			return nil, err
		}
		procs = append(procs, ps...)
	}
	sort.SliceStable(procs, func(i, j int) bool { return procs[i].Start.Before(procs[j].Start) })
	for i := range procs {
		procs[i].ID = procID(i+1, procs[i].ID)
	}
	res.Scenario.Procedures = procs
	if res.Scenario.Name == "" {
		res.Scenario.Name = "atomic-red-team"
	}
	for _, h := range hosts {
		res.Scenario.Hosts = append(res.Scenario.Hosts, *h)
	}
	sortHosts(res.Scenario.Hosts)
	return res, nil
}

func addHost(hosts map[string]*scenario.Host, name, ip string) {
	h := hosts[name]
	if h == nil {
		h = &scenario.Host{Name: name}
		hosts[name] = h
	}
	if ip != "" && !contains(h.IPs, ip) {
		h.IPs = append(h.IPs, ip)
	}
}

func atomicCSV(in Input, res *Result, hosts map[string]*scenario.Host, byGUID, byNum map[string]*AtomicTest) ([]scenario.Procedure, error) {
	r := csv.NewReader(bytes.NewReader(in.Data))
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("atomic CSV %s: header: %w", in.Name, err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))] = i
	}
	for _, c := range csvColumns {
		if _, ok := col[c]; !ok {
			return nil, fmt.Errorf("atomic CSV %s:1: missing column %q (is this an Invoke-AtomicRedTeam execution log?)", in.Name, c)
		}
	}
	type row struct {
		line int
		p    scenario.Procedure
	}
	var rows []row
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, fmt.Errorf("atomic CSV %s:%d:%d: %w", in.Name, pe.Line, pe.Column, pe.Err)
			}
			return nil, fmt.Errorf("atomic CSV %s: %w", in.Name, err)
		}
		line, _ := r.FieldPos(0)
		where := fmt.Sprintf("%s:%d", in.Name, line)
		get := func(c string) string {
			if i, ok := col[c]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		start, err := scenario.ParseTime(get("Execution Time (UTC)"), time.UTC)
		if err != nil {
			res.Skipped = append(res.Skipped, fmt.Sprintf("%s: %v", where, err))
			continue
		}
		tech, name, host, ip := get("Technique"), get("Test Name"), get("Hostname"), get("IP Address")
		t := byGUID[strings.ToLower(get("GUID"))]
		if t == nil {
			if n, err := strconv.Atoi(get("Test Number")); err == nil {
				t = byNum[fmt.Sprintf("%s#%d", strings.ToUpper(tech), n)]
			}
		}
		if t == nil {
			res.Skipped = append(res.Skipped, fmt.Sprintf("%s: test %s %s (%s) not found in the atomics given (--atomics): no command", where, tech, get("Test Number"), get("GUID")))
			continue
		}
		cmd, missing := t.Command()
		if len(missing) > 0 {
			res.warnf("%s: input arguments without default left as placeholders: %s", where, strings.Join(missing, ", "))
		}
		exe, ok := executorName(t.Executor.Name)
		if !ok || strings.TrimSpace(cmd) == "" {
			res.Skipped = append(res.Skipped, fmt.Sprintf("%s: executor %q has no command to mine", where, t.Executor.Name))
			continue
		}
		if host == "" {
			host = "unknown"
		}
		addHost(hosts, host, ip)
		res.warnf("%s: command from the test definition with default input arguments (the CSV does not log the command or -InputArgs)", where)
		rows = append(rows, row{line, scenario.Procedure{
			ID: slug(tech + "_" + get("Test Number") + "_" + name), Name: name,
			Tactics:    tacticIDs(res, where, TacticsOfTechnique(tech)),
			Techniques: []string{tech}, Host: host, Start: start.UTC(),
			Targets:  targetsIn(cmd, []string{ip}),
			Platform: "",
			Commands: []scenario.Command{{Payload: strings.TrimRight(cmd, "\n"), Executor: exe}},
		}})
	}
	// The CSV has start times only: a row ends where the next row on the
	// same host starts, the last after DefaultAtomicDuration.
	out := make([]scenario.Procedure, len(rows))
	for i, rw := range rows {
		p := rw.p
		p.End = p.Start.Add(DefaultAtomicDuration)
		for _, nx := range rows[i+1:] {
			if nx.p.Host == p.Host && !nx.p.Start.Before(p.Start) {
				if nx.p.Start.Before(p.End) {
					p.End = nx.p.Start
				}
				break
			}
		}
		out[i] = p
	}
	if len(rows) > 0 {
		res.warnf("%s: the CSV logs start times only: each test ends where the next on its host starts, at most %s later", in.Name, DefaultAtomicDuration)
	}
	return out, nil
}

type attireLog struct {
	Version   string `json:"attire-version"`
	Execution struct {
		Target struct {
			User string `json:"user"`
			Host string `json:"host"`
			IP   string `json:"ip"`
		} `json:"target"`
	} `json:"execution-data"`
	Procedures []struct {
		Technique   string `json:"mitre-technique-id"`
		Name        string `json:"procedure-name"`
		Description string `json:"procedure-description"`
		Order       int    `json:"order"`
		Steps       []struct {
			Order    int    `json:"order"`
			Start    string `json:"time-start"`
			Stop     string `json:"time-stop"`
			Executor string `json:"executor"`
			Command  string `json:"command"`
		} `json:"steps"`
	} `json:"procedures"`
}

func attire(in Input, res *Result, hosts map[string]*scenario.Host) ([]scenario.Procedure, error) {
	var a attireLog
	if err := json.Unmarshal(in.Data, &a); err != nil {
		return nil, fmt.Errorf("ATTiRe: %w", jsonError(in, err))
	}
	if a.Version == "" || a.Procedures == nil {
		return nil, fmt.Errorf("%s: no attire-version/procedures: not an ATTiRe execution log", in.Name)
	}
	host := a.Execution.Target.Host
	if host == "" {
		host = "unknown"
	}
	addHost(hosts, host, a.Execution.Target.IP)
	var out []scenario.Procedure
	for i, pr := range a.Procedures {
		where := fmt.Sprintf("%s: procedures[%d]", in.Name, i)
		p := scenario.Procedure{
			ID: slug(pr.Technique + "_" + pr.Name), Name: pr.Name,
			Tactics:    tacticIDs(res, where, TacticsOfTechnique(pr.Technique)),
			Techniques: []string{pr.Technique}, Host: host,
		}
		for k, st := range pr.Steps {
			sw := fmt.Sprintf("%s.steps[%d]", where, k)
			t0, err := scenario.ParseTime(st.Start, time.UTC)
			if err != nil {
				res.Skipped = append(res.Skipped, fmt.Sprintf("%s: time-start: %v", sw, err))
				continue
			}
			t1, err := scenario.ParseTime(st.Stop, time.UTC)
			if err != nil {
				res.warnf("%s: time-stop: %v: end set to start", sw, err)
				t1 = t0
			}
			if p.Start.IsZero() || t0.Before(p.Start) {
				p.Start = t0.UTC()
			}
			if t1.After(p.End) {
				p.End = t1.UTC()
			}
			exe, ok := executorName(st.Executor)
			if !ok || strings.TrimSpace(st.Command) == "" {
				res.Skipped = append(res.Skipped, fmt.Sprintf("%s: executor %q has no command to mine", sw, st.Executor))
				continue
			}
			p.Commands = append(p.Commands, scenario.Command{Payload: strings.TrimRight(st.Command, "\n"), Executor: exe})
			for _, t := range targetsIn(st.Command, []string{a.Execution.Target.IP}) {
				if !contains(p.Targets, t) {
					p.Targets = append(p.Targets, t)
				}
			}
		}
		if len(p.Commands) == 0 {
			res.Skipped = append(res.Skipped, where+": no step with a command")
			continue
		}
		out = append(out, p)
	}
	return out, nil
}
