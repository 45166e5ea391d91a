package importer

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/rangehunt/rangehunt/internal/scenario"
)

// calderaEvent is one link of Caldera's operation event logs
// (Operation.event_logs()).
type calderaEvent struct {
	Command           string  `json:"command"`
	PlaintextCommand  *string `json:"plaintext_command"`
	Delegated         string  `json:"delegated_timestamp"`
	Collected         *string `json:"collected_timestamp"`
	Finished          *string `json:"finished_timestamp"`
	AgentReportedTime *string `json:"agent_reported_time"`
	Status            int     `json:"status"`
	Platform          string  `json:"platform"`
	Executor          string  `json:"executor"`
	Agent             struct {
		Paw  string `json:"paw"`
		Host string `json:"host"`
	} `json:"agent_metadata"`
	Ability struct {
		ID          string `json:"ability_id"`
		Name        string `json:"ability_name"`
		Description string `json:"ability_description"`
	} `json:"ability_metadata"`
	Operation struct {
		Name string `json:"operation_name"`
	} `json:"operation_metadata"`
	Attack calderaAttack `json:"attack_metadata"`
}

type calderaAttack struct {
	Tactic        string `json:"tactic"`
	TechniqueName string `json:"technique_name"`
	TechniqueID   string `json:"technique_id"`
}

// calderaReport is Caldera's operation report (Operation.report()).
type calderaReport struct {
	Name      string `json:"name"`
	HostGroup []struct {
		Paw      string   `json:"paw"`
		Host     string   `json:"host"`
		IPs      []string `json:"host_ip_addrs"`
		Platform string   `json:"platform"`
	} `json:"host_group"`
	Steps map[string]struct {
		Steps []struct {
			AbilityID        string        `json:"ability_id"`
			Command          string        `json:"command"`
			PlaintextCommand *string       `json:"plaintext_command"`
			Delegated        string        `json:"delegated"`
			Run              *string       `json:"run"`
			Status           int           `json:"status"`
			Platform         string        `json:"platform"`
			Executor         string        `json:"executor"`
			Name             string        `json:"name"`
			Description      string        `json:"description"`
			Attack           calderaAttack `json:"attack"`
		} `json:"steps"`
	} `json:"steps"`
}

// jsonError adds line and column to encoding/json errors.
func jsonError(in Input, err error) error {
	var off int64 = -1
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
	}
	if off < 0 {
		return fmt.Errorf("%s: %w", in.Name, err)
	}
	if off > int64(len(in.Data)) {
		off = int64(len(in.Data))
	}
	before := in.Data[:off]
	line := bytes.Count(before, []byte("\n")) + 1
	col := int(off) - bytes.LastIndexByte(before, '\n')
	return fmt.Errorf("%s:%d:%d: %w", in.Name, line, col, err)
}

// decodeCommand returns a link's command in plain text: plaintext_command
// when present (Caldera ≥ 4.2 also writes command in plain text), else
// command decoded from base64 (older Caldera), else command as is.
func decodeCommand(command string, plaintext *string) (string, bool) {
	if plaintext != nil && *plaintext != "" {
		return *plaintext, false
	}
	s := strings.TrimSpace(command)
	if s == "" || strings.ContainsAny(s, " \t\n") {
		return command, false
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || !utf8.Valid(b) || len(b) == 0 {
		return command, false
	}
	for _, r := range string(b) {
		if r < 0x20 && r != '\n' && r != '\t' && r != '\r' {
			return command, false
		}
	}
	return string(b), true
}

type agentInfo struct {
	host     string
	ips      []string
	platform string
}

// Caldera imports operation event logs (JSON lists) and/or operation
// reports (JSON objects with "steps"). With opts.Report, agents' paws are
// resolved to hosts and IP addresses.
func Caldera(inputs []Input, opts Options) (*Result, error) {
	res := &Result{}
	s := &scenario.Scenario{Name: opts.Name, TimeZone: "UTC"}
	res.Scenario = s
	agents := map[string]agentInfo{}
	hosts := map[string]*scenario.Host{}
	addReport := func(in Input, rep *calderaReport) {
		if s.Name == "" {
			s.Name = rep.Name
		}
		for _, a := range rep.HostGroup {
			agents[a.Paw] = agentInfo{a.Host, a.IPs, platformName(a.Platform)}
			h := hosts[a.Host]
			if h == nil {
				h = &scenario.Host{Name: a.Host, Role: "agent"}
				hosts[a.Host] = h
			}
			h.Platform = platformName(a.Platform)
			for _, ip := range a.IPs {
				if !contains(h.IPs, ip) {
					h.IPs = append(h.IPs, ip)
				}
			}
		}
	}
	if opts.Report != nil {
		var rep calderaReport
		if err := json.Unmarshal(opts.Report.Data, &rep); err != nil {
			return nil, fmt.Errorf("caldera report: %w", jsonError(*opts.Report, err))
		}
		addReport(*opts.Report, &rep)
	}
	type link struct {
		where              string
		name, ability      string
		command            string
		executor, platform string
		paw, host          string
		start, end         string
		status             int
		attack             calderaAttack
	}
	var links []link
	for _, in := range inputs {
		trim := bytes.TrimSpace(in.Data)
		if len(trim) > 0 && trim[0] == '{' {
			var rep calderaReport
			if err := json.Unmarshal(in.Data, &rep); err != nil {
				return nil, fmt.Errorf("caldera report: %w", jsonError(in, err))
			}
			if rep.Steps == nil {
				return nil, fmt.Errorf("%s: a JSON object without \"steps\": not a Caldera operation report", in.Name)
			}
			addReport(in, &rep)
			paws := make([]string, 0, len(rep.Steps))
			for p := range rep.Steps {
				paws = append(paws, p)
			}
			sortStrings(paws)
			for _, paw := range paws {
				for i, st := range rep.Steps[paw].Steps {
					cmd, _ := decodeCommand(st.Command, st.PlaintextCommand)
					end := ""
					if st.Run != nil {
						end = *st.Run
					}
					links = append(links, link{
						where: fmt.Sprintf("%s: steps[%s][%d]", in.Name, paw, i), name: st.Name, ability: st.AbilityID,
						command: cmd, executor: st.Executor, platform: st.Platform, paw: paw,
						start: st.Delegated, end: end, status: st.Status, attack: st.Attack,
					})
				}
			}
			continue
		}
		var evs []calderaEvent
		if err := json.Unmarshal(in.Data, &evs); err != nil {
			return nil, fmt.Errorf("caldera event logs: %w", jsonError(in, err))
		}
		for i, ev := range evs {
			if s.Name == "" {
				s.Name = ev.Operation.Name
			}
			cmd, _ := decodeCommand(ev.Command, ev.PlaintextCommand)
			start := ev.Delegated
			if ev.Collected != nil && *ev.Collected != "" {
				start = *ev.Collected // the agent fetched the task: execution follows
			}
			end := ""
			switch {
			case ev.Finished != nil && *ev.Finished != "":
				end = *ev.Finished
			case ev.AgentReportedTime != nil:
				end = *ev.AgentReportedTime
			}
			links = append(links, link{
				where: fmt.Sprintf("%s: [%d]", in.Name, i), name: ev.Ability.Name, ability: ev.Ability.ID,
				command: cmd, executor: ev.Executor, platform: ev.Platform, paw: ev.Agent.Paw, host: ev.Agent.Host,
				start: start, end: end, status: ev.Status, attack: ev.Attack,
			})
		}
	}
	if s.Name == "" {
		s.Name = "caldera-operation"
	}
	n := 0
	for _, l := range links {
		info, known := agents[l.paw]
		host := l.host
		if host == "" {
			host = info.host
		}
		if host == "" {
			if l.paw == "" {
				res.Skipped = append(res.Skipped, l.where+": no agent paw or host")
				continue
			}
			host = "agent-" + l.paw
			res.warnf("%s: agent %s is gone and not in the report: host named %s", l.where, l.paw, host)
		}
		if hosts[host] == nil {
			hosts[host] = &scenario.Host{Name: host, Role: "agent", Platform: hostPlatform(l.platform, l.executor)}
			if !known && opts.Report != nil {
				res.warnf("%s: agent %s (%s) is not in the report's host_group: no IP addresses", l.where, l.paw, host)
			}
		}
		if strings.TrimSpace(l.command) == "" {
			res.Skipped = append(res.Skipped, l.where+": empty command")
			continue
		}
		exe, ok := executorName(l.executor)
		if !ok {
			res.Skipped = append(res.Skipped, fmt.Sprintf("%s: executor %q is not a shell rangehunt can mine", l.where, l.executor))
			continue
		}
		loc := time.UTC
		st, err := scenario.ParseTime(l.start, loc)
		if err != nil {
			res.Skipped = append(res.Skipped, fmt.Sprintf("%s: start: %v", l.where, err))
			continue
		}
		et := st
		if l.end != "" {
			if et, err = scenario.ParseTime(l.end, loc); err != nil {
				res.Skipped = append(res.Skipped, fmt.Sprintf("%s: end: %v", l.where, err))
				continue
			}
		} else {
			res.warnf("%s: link has not finished: end set to start", l.where)
		}
		if et.Before(st) {
			res.warnf("%s: finished %s before collected %s (clock skew): window widened", l.where, l.end, l.start)
			st, et = et, st
		}
		if l.status != 0 {
			res.warnf("%s: link status %d (not successful); kept", l.where, l.status)
		}
		platform := hostPlatform(l.platform, exe)
		n++
		name := l.name
		if name == "" {
			name = l.ability
		}
		p := scenario.Procedure{
			ID:       procID(n, name),
			Name:     name,
			Tactics:  tacticIDs(res, l.where, []string{l.attack.Tactic}),
			Host:     host,
			Targets:  targetsIn(l.command, hosts[host].IPs),
			Start:    st.UTC(),
			End:      et.UTC(),
			Platform: platform,
			Commands: []scenario.Command{{Payload: strings.TrimRight(l.command, "\n"), Executor: exe}},
		}
		if l.attack.TechniqueID != "" {
			p.Techniques = []string{l.attack.TechniqueID}
		}
		s.Procedures = append(s.Procedures, p)
	}
	for _, h := range hosts {
		s.Hosts = append(s.Hosts, *h)
	}
	sortHosts(s.Hosts)
	return res, nil
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// hostPlatform is the platform a link ran on: its own, else implied by
// the executor (Caldera's psh and cmd executors run on Windows agents).
func hostPlatform(platform, executor string) string {
	if p := platformName(platform); p != "" {
		return p
	}
	switch strings.ToLower(executor) {
	case "psh", "cmd", "powershell", "command_prompt":
		return "windows"
	}
	return ""
}
