package hunt

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rangehunt/rangehunt/internal/testutil"
	"github.com/rangehunt/rangehunt/internal/testutil/sigmahq"
)

// auditRecord is one raw audit.log line.
type auditRecord struct {
	typ    string
	ts     time.Time
	serial string
	kv     map[string]string
	keys   []string
}

// parseAuditLine parses `type=T msg=audit(SEC.MS:SERIAL): k=v k="v" ...`.
// Unquoted EXECVE arguments and proctitle are hex-encoded by auditd when
// they hold special characters; they are decoded.
func parseAuditLine(line string) (auditRecord, error) {
	var r auditRecord
	if !strings.HasPrefix(line, "type=") {
		return r, fmt.Errorf("no type= prefix")
	}
	sp := strings.IndexByte(line, ' ')
	r.typ = line[5:sp]
	rest := line[sp+1:]
	if !strings.HasPrefix(rest, "msg=audit(") {
		return r, fmt.Errorf("no msg=audit(")
	}
	end := strings.Index(rest, "):")
	stamp := rest[len("msg=audit("):end]
	colon := strings.IndexByte(stamp, ':')
	secs, err := strconv.ParseFloat(stamp[:colon], 64)
	if err != nil {
		return r, fmt.Errorf("timestamp %q: %w", stamp, err)
	}
	r.ts = time.Unix(0, int64(secs*1e3)*int64(time.Millisecond)).UTC()
	r.serial = stamp[colon+1:]
	r.kv = map[string]string{}
	s := strings.TrimSpace(rest[end+2:])
	for s != "" {
		eq := strings.IndexByte(s, '=')
		if eq < 0 {
			break
		}
		k := s[:eq]
		s = s[eq+1:]
		var v string
		if strings.HasPrefix(s, `"`) {
			q := strings.IndexByte(s[1:], '"')
			v, s = s[1:1+q], s[q+2:]
		} else {
			n := strings.IndexByte(s, ' ')
			if n < 0 {
				n = len(s)
			}
			v, s = s[:n], s[n:]
			if (r.typ == "EXECVE" && len(k) > 1 && k[0] == 'a' && k != "argc") || k == "proctitle" {
				if b, err := hex.DecodeString(v); err == nil {
					v = strings.ReplaceAll(string(b), "\x00", " ")
				}
			}
		}
		r.kv[k] = v
		r.keys = append(r.keys, k)
		s = strings.TrimSpace(s)
	}
	return r, nil
}

// auditdToECS converts raw audit records to the events the ecs_linux
// pipeline expects: one Auditbeat-style event per record
// (auditd.message_type, auditd.data.<key>, plus the coalesced ECS names
// the pipeline maps exe/comm/pid... to), and one ECS process start event
// per execve group (SYSCALL + EXECVE + CWD) for process_creation rules.
func auditdToECS(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	groups := map[string][]auditRecord{}
	var order []string
	sc := bufio.NewScanner(f)
	line := 0
	for sc.Scan() {
		line++
		r, err := parseAuditLine(sc.Text())
		if err != nil {
			t.Fatalf("%s:%d: %v", path, line, err)
		}
		if _, ok := groups[r.serial]; !ok {
			order = append(order, r.serial)
		}
		groups[r.serial] = append(groups[r.serial], r)
		data := map[string]string{}
		for _, k := range r.keys {
			data[k] = r.kv[k]
		}
		ev := map[string]any{
			"@timestamp": r.ts.Format(time.RFC3339Nano),
			"event":      map[string]any{"module": "auditd"},
			"auditd":     map[string]any{"message_type": r.typ, "sequence": r.serial, "data": data},
		}
		proc := map[string]any{}
		for k, ecsName := range map[string]string{"exe": "executable", "comm": "name", "pid": "pid", "cwd": "working_directory"} {
			if v, ok := r.kv[k]; ok {
				proc[ecsName] = v
			}
		}
		if v, ok := r.kv["ppid"]; ok {
			proc["parent"] = map[string]any{"pid": v}
		}
		if len(proc) > 0 {
			ev["process"] = proc
		}
		if v, ok := r.kv["name"]; ok {
			ev["file"] = map[string]any{"path": v}
		}
		if v, ok := r.kv["uid"]; ok {
			ev["user"] = map[string]any{"id": v}
		}
		b, _ := json.Marshal(ev)
		out = append(out, string(b))
	}
	for _, serial := range order {
		g := groups[serial]
		var sys, exe, cwd *auditRecord
		for i := range g {
			switch g[i].typ {
			case "SYSCALL":
				sys = &g[i]
			case "EXECVE":
				exe = &g[i]
			case "CWD":
				cwd = &g[i]
			}
		}
		if sys == nil || exe == nil {
			continue
		}
		argc, _ := strconv.Atoi(exe.kv["argc"])
		var args []string
		for i := 0; i < argc; i++ {
			args = append(args, exe.kv[fmt.Sprintf("a%d", i)])
		}
		proc := map[string]any{
			"executable":   sys.kv["exe"],
			"name":         sys.kv["comm"],
			"pid":          json.Number(sys.kv["pid"]),
			"parent":       map[string]any{"pid": json.Number(sys.kv["ppid"])},
			"args":         args,
			"command_line": strings.Join(args, " "),
		}
		if cwd != nil {
			proc["working_directory"] = cwd.kv["cwd"]
		}
		ev := map[string]any{
			"@timestamp": sys.ts.Format(time.RFC3339Nano),
			"event":      map[string]any{"category": []string{"process"}, "type": []string{"start"}, "module": "auditd"},
			"process":    proc,
			"user":       map[string]any{"id": sys.kv["uid"]},
		}
		b, _ := json.Marshal(ev)
		out = append(out, string(b))
	}
	return out
}

// TestAuditdAtomicDetections converts the raw auditd records of two real
// Atomic Red Team runs (OTRF Security-Datasets) to ECS events and runs the
// 248 SigmaHQ Linux rules over them with ecs_linux: T1027.001 (dd binary
// padding) must be found by "Binary Padding - Linux" (and "Overwriting the
// File with Dev Zero or Null") on the EXECVE record,
// T1018 (arp -a) by "Remote System Discovery - Linux" on the process start.
func TestAuditdAtomicDetections(t *testing.T) {
	logs := testutil.SharedDir(t, "logs")
	rules, _ := sigmahq.LinuxRules(t)
	rs, err := NewRuleSet(rules, nil, LoadOptions{Pipeline: "ecs_linux"})
	if err != nil {
		t.Fatal(err)
	}
	if len(rs.Errors) > 0 {
		t.Fatalf("rule errors: %v", rs.Errors)
	}
	cases := []struct {
		file string
		want []string // rule id @ kind of event
	}{
		{"otrf-linux-auditd-atomic/sh_binary_padding_dd_2020-11-10081941.log",
			// "Overwriting the File with Dev Zero or Null" fires too: the
			// same record reads dd if=/dev/zero.
			[]string{"37222991-11e9-4b6d-8bdf-60fbe48f753e@EXECVE", "c52a914f-3d8b-4b2a-bb75-b3991e75f8ba@EXECVE"}},
		{"otrf-linux-auditd-atomic/sh_arp_cache_2020-11-10074812.log",
			[]string{"11063ec2-de63-4153-935e-b1a8b9e616f1@process-start"}},
	}
	for _, c := range cases {
		t.Run(filepath.Base(c.file), func(t *testing.T) {
			evs := auditdToECS(t, filepath.Join(logs, c.file))
			p := writeEvents(t, evs)
			lines, _, st := runHunt(t, rs, 2, p)
			if st.Rules != len(rs.Rules) || len(st.RuleErrors) > 0 {
				t.Errorf("rules run %d of %d, errors %v", st.Rules, len(rs.Rules), st.RuleErrors)
			}
			var got []string
			for _, l := range lines {
				var e struct {
					Auditd struct {
						MessageType string `json:"message_type"`
					} `json:"auditd"`
				}
				json.Unmarshal(l.Event, &e)
				kind := e.Auditd.MessageType
				if kind == "" {
					kind = "process-start"
				}
				got = append(got, l.Rule.ID+"@"+kind)
			}
			sort.Strings(got)
			if strings.Join(got, ",") != strings.Join(c.want, ",") {
				t.Errorf("detections = %v, want %v", got, c.want)
			}
			if st.Events != int64(len(evs)) {
				t.Errorf("events read %d, want %d", st.Events, len(evs))
			}
		})
	}
}
