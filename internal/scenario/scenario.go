// Package scenario is rangehunt's domain model of a cyber-range run: the
// network's hosts and the attack's procedures with their commands and times.
// Every other part of rangehunt (rule generation, the simulator, labelling)
// reads and writes this one model.
package scenario

import "time"

// Scenario is the attack metadata of one cyber-range run.
type Scenario struct {
	// Name identifies the scenario, e.g. "florama".
	Name        string `yaml:"name" json:"name"`
	Description string `yaml:"description,omitempty" json:"description,omitempty"`
	// TimeZone is the IANA zone the operators' clocks used (e.g. "UTC",
	// "Europe/Vienna"); timestamps without an offset are read in it.
	TimeZone   string      `yaml:"time_zone" json:"time_zone"`
	Hosts      []Host      `yaml:"hosts" json:"hosts"`
	Procedures []Procedure `yaml:"procedures" json:"procedures"`
}

// Host is a machine of the range.
type Host struct {
	Name string   `yaml:"name" json:"name"`
	IPs  []string `yaml:"ips" json:"ips"`
	// Role says what the host is for: attacker, webserver, proxy, mail,
	// workstation, server, ...
	Role string `yaml:"role,omitempty" json:"role,omitempty"`
	// Platform is linux, windows or macos; it picks the rule conventions.
	Platform string `yaml:"platform,omitempty" json:"platform,omitempty"`
	// Segment names the network segment (e.g. internet, dmz, intranet).
	Segment string `yaml:"segment,omitempty" json:"segment,omitempty"`
}

// Procedure is one step of the attack, as the red team's report gives it.
type Procedure struct {
	// ID is unique in the scenario, e.g. "46_port_scan".
	ID   string `yaml:"id" json:"id"`
	Name string `yaml:"name" json:"name"`
	// Tactics are MITRE ATT&CK tactic ids (TA0007).
	Tactics []string `yaml:"tactics" json:"tactics"`
	// Techniques are ATT&CK technique ids, sub-techniques included
	// (T1046, T1059.004).
	Techniques []string `yaml:"techniques" json:"techniques"`
	// Setup marks deployment steps (starting the attacker's LDAP or C&C
	// server) that are not part of the attack proper.
	Setup bool `yaml:"setup" json:"setup"`
	// Host is the name of the host the commands ran on.
	Host string `yaml:"host" json:"host"`
	// Targets are the IP addresses the procedure acted upon.
	Targets []string  `yaml:"targets,omitempty" json:"targets,omitempty"`
	Start   time.Time `yaml:"start" json:"start"`
	End     time.Time `yaml:"end" json:"end"`
	// Platform overrides the host's platform when set.
	Platform string    `yaml:"platform,omitempty" json:"platform,omitempty"`
	Commands []Command `yaml:"commands" json:"commands"`
}

// Command is one payload the operator ran, in the executor's language.
type Command struct {
	// Payload is the command line as typed, e.g.
	// "chmod +x /tmp/nmap ; /tmp/nmap -Pn -F 172.16.1.4".
	Payload string `yaml:"payload" json:"payload"`
	// Executor is the interpreter that ran it: sh (default), bash, psh
	// (PowerShell), cmd, python.
	Executor string `yaml:"executor,omitempty" json:"executor,omitempty"`
	// SubCommands are commands the payload ran in turn (a script's lines,
	// or the commands a tool reported), when the report lists them.
	SubCommands []string `yaml:"sub_commands,omitempty" json:"sub_commands,omitempty"`
}
