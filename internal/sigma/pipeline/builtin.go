package pipeline

import (
	"maps"
	"slices"
)

// BuiltinNames lists the built-in pipelines, sorted.
func BuiltinNames() []string {
	return []string{"ecs_event_kind", "ecs_linux", "ecs_windows", "none"}
}

// Builtin returns a fresh copy of the named built-in pipeline.
func Builtin(name string) (*Pipeline, bool) {
	switch name {
	case "none":
		return &Pipeline{Name: "none"}, true
	case "ecs_linux":
		return ecsLinux(), true
	case "ecs_windows":
		return ecsWindows(), true
	case "ecs_event_kind":
		return ecsEventKind(), true
	}
	return nil, false
}

// ECSLinuxProcess etc. are the field mappings of ecs_linux per logsource.
// The three categories process_creation, network_connection and file_event
// are the mapping of the pySigma oracle (../shared/oracle/pysigma); the
// auditd and sudo mappings extend it with Auditbeat's ECS names.
var (
	ECSLinuxProcess = map[string]string{
		"Image":             "process.executable",
		"CommandLine":       "process.command_line",
		"ParentImage":       "process.parent.executable",
		"ParentCommandLine": "process.parent.command_line",
		"CurrentDirectory":  "process.working_directory",
		"ProcessId":         "process.pid",
		"ParentProcessId":   "process.parent.pid",
		"ProcessGuid":       "process.entity_id",
		"ParentProcessGuid": "process.parent.entity_id",
		"User":              "user.name",
		"LogonId":           "process.user.id",
		"OriginalFileName":  "process.pe.original_file_name",
	}
	ECSLinuxNetwork = map[string]string{
		"Image":               "process.executable",
		"CommandLine":         "process.command_line",
		"User":                "user.name",
		"SourceIp":            "source.ip",
		"SourceHostname":      "source.domain",
		"SourcePort":          "source.port",
		"DestinationIp":       "destination.ip",
		"DestinationHostname": "destination.domain",
		"DestinationPort":     "destination.port",
		"Protocol":            "network.transport",
		"Initiated":           "network.direction",
	}
	ECSLinuxFile = map[string]string{
		"Image":          "process.executable",
		"TargetFilename": "file.path",
		"User":           "user.name",
	}
	// ECSLinuxAuditd maps the raw auditd record keys used by SigmaHQ's
	// linux/auditd rules to the fields Auditbeat's auditd module writes:
	// the record type to auditd.message_type, record data to
	// auditd.data.<key> (a0..a7 are the syscall/EXECVE arguments as
	// written in the record), and the coalesced ECS names for exe, comm,
	// PATH name, euid and the rule key.
	ECSLinuxAuditd = map[string]string{
		"type":     "auditd.message_type",
		"SYSCALL":  "auditd.data.syscall",
		"syscall":  "auditd.data.syscall",
		"a0":       "auditd.data.a0",
		"a1":       "auditd.data.a1",
		"a2":       "auditd.data.a2",
		"a3":       "auditd.data.a3",
		"a4":       "auditd.data.a4",
		"a5":       "auditd.data.a5",
		"a6":       "auditd.data.a6",
		"a7":       "auditd.data.a7",
		"exe":      "process.executable",
		"comm":     "process.name",
		"name":     "file.path",
		"nametype": "auditd.data.nametype",
		"euid":     "user.effective.id",
		"uid":      "user.id",
		"key":      "tags",
		"unit":     "auditd.data.unit",
		"cwd":      "process.working_directory",
		"pid":      "process.pid",
		"ppid":     "process.parent.pid",
		"success":  "event.outcome",
	}
	// ECSLinuxSudo maps the sudo log's USER (target user) field.
	ECSLinuxSudo = map[string]string{
		"USER": "user.effective.name",
	}
)

func ecsLinux() *Pipeline {
	linux := func(category, service string) []Logsource {
		return []Logsource{{Product: "linux", Category: category, Service: service}}
	}
	return &Pipeline{Name: "ecs_linux", Steps: []Step{
		{ID: "ecs_linux_process_creation", Kind: FieldMap, When: linux("process_creation", ""), Map: maps.Clone(ECSLinuxProcess)},
		{ID: "ecs_linux_network_connection", Kind: FieldMap, When: linux("network_connection", ""), Map: maps.Clone(ECSLinuxNetwork)},
		{ID: "ecs_linux_file_event", Kind: FieldMap, When: linux("file_event", ""), Map: maps.Clone(ECSLinuxFile)},
		{ID: "ecs_linux_auditd", Kind: FieldMap, When: linux("", "auditd"), Map: maps.Clone(ECSLinuxAuditd)},
		{ID: "ecs_linux_sudo", Kind: FieldMap, When: linux("", "sudo"), Map: maps.Clone(ECSLinuxSudo)},
	}}
}

// WindowsChannels maps Sigma's Windows services to event log channels
// (pySigma's windows_logsource_mapping); a service with several channels
// adds an OR of them.
var WindowsChannels = map[string][]string{
	"security":              {"Security"},
	"application":           {"Application"},
	"system":                {"System"},
	"sysmon":                {"Microsoft-Windows-Sysmon/Operational"},
	"powershell":            {"Microsoft-Windows-PowerShell/Operational", "PowerShellCore/Operational"},
	"powershell-classic":    {"Windows PowerShell"},
	"taskscheduler":         {"Microsoft-Windows-TaskScheduler/Operational"},
	"wmi":                   {"Microsoft-Windows-WMI-Activity/Operational"},
	"dns-server":            {"DNS Server"},
	"dns-server-audit":      {"Microsoft-Windows-DNS-Server/Audit"},
	"dns-server-analytic":   {"Microsoft-Windows-DNS-Server/Analytical"},
	"driver-framework":      {"Microsoft-Windows-DriverFrameworks-UserMode/Operational"},
	"ntlm":                  {"Microsoft-Windows-NTLM/Operational"},
	"dhcp":                  {"Microsoft-Windows-DHCP-Server/Operational"},
	"msexchange-management": {"MSExchange Management"},
	"applocker": {
		"Microsoft-Windows-AppLocker/MSI and Script",
		"Microsoft-Windows-AppLocker/EXE and DLL",
		"Microsoft-Windows-AppLocker/Packaged app-Deployment",
		"Microsoft-Windows-AppLocker/Packaged app-Execution",
	},
	"printservice-admin":                   {"Microsoft-Windows-PrintService/Admin"},
	"printservice-operational":             {"Microsoft-Windows-PrintService/Operational"},
	"codeintegrity-operational":            {"Microsoft-Windows-CodeIntegrity/Operational"},
	"smbclient-security":                   {"Microsoft-Windows-SmbClient/Security"},
	"firewall-as":                          {"Microsoft-Windows-Windows Firewall With Advanced Security/Firewall"},
	"bits-client":                          {"Microsoft-Windows-Bits-Client/Operational"},
	"windefend":                            {"Microsoft-Windows-Windows Defender/Operational"},
	"terminalservices-localsessionmanager": {"Microsoft-Windows-TerminalServices-LocalSessionManager/Operational"},
	"microsoft-servicebus-client":          {"Microsoft-ServiceBus-Client"},
	"ldap_debug":                           {"Microsoft-Windows-LDAP-Client/Debug"},
	"security-mitigations": {
		"Microsoft-Windows-Security-Mitigations/Kernel Mode",
		"Microsoft-Windows-Security-Mitigations/User Mode",
	},
	"diagnosis-scripted":    {"Microsoft-Windows-Diagnosis-Scripted/Operational"},
	"shell-core":            {"Microsoft-Windows-Shell-Core/Operational"},
	"openssh":               {"OpenSSH/Operational"},
	"bitlocker":             {"Microsoft-Windows-BitLocker/BitLocker Management"},
	"vhdmp":                 {"Microsoft-Windows-VHDMP/Operational"},
	"appxdeployment-server": {"Microsoft-Windows-AppXDeploymentServer/Operational"},
	"lsa-server":            {"Microsoft-Windows-LSA/Operational"},
	"appxpackaging-om":      {"Microsoft-Windows-AppxPackaging/Operational"},
	"dns-client":            {"Microsoft-Windows-DNS Client Events/Operational"},
	"appmodel-runtime":      {"Microsoft-Windows-AppModel-Runtime/Admin"},
	"capi2":                 {"Microsoft-Windows-CAPI2/Operational"},
	"certificateservicesclient-lifecycle-system": {"Microsoft-Windows-CertificateServicesClient-Lifecycle-System/Operational"},
}

// windowsChannelOrder is pySigma's order of the service items (it decides
// nothing in the output, since a rule has one service, but keeps the step
// list stable).
func windowsChannelOrder() []string {
	keys := slices.Collect(maps.Keys(WindowsChannels))
	slices.Sort(keys)
	return keys
}

// ecsWindowsVariable is pySigma ecs_windows' logsource-dependent mapping:
// field → (logsource attribute, value, ECS name), in pySigma's order.
var ecsWindowsVariable = []struct {
	field, attr, value, to string
}{
	{"FileVersion", "category", "process_creation", "process.pe.file_version"},
	{"FileVersion", "category", "image_load", "file.pe.file_version"},
	{"Description", "category", "process_creation", "process.pe.description"},
	{"Description", "category", "image_load", "file.pe.description"},
	{"Description", "category", "sysmon_error", "winlog.event_data.Description"},
	{"Product", "category", "process_creation", "process.pe.product"},
	{"Product", "category", "image_load", "file.pe.product"},
	{"Company", "category", "process_creation", "process.pe.company"},
	{"Company", "category", "image_load", "file.pe.company"},
	{"OriginalFileName", "category", "process_creation", "process.pe.original_file_name"},
	{"OriginalFileName", "category", "image_load", "file.pe.original_file_name"},
	{"CommandLine", "category", "process_creation", "process.command_line"},
	{"CommandLine", "service", "security", "process.command_line"},
	{"CommandLine", "service", "powershell-classic", "powershell.command.value"},
	{"Protocol", "category", "network_connection", "network.transport"},
	{"Initiated", "category", "network_connection", "network.direction"},
	// "driver_loaded"/"image_loaded" are pySigma's spelling; SigmaHQ's
	// categories are driver_load/image_load, so these never apply there.
	{"Signature", "category", "driver_loaded", "file.code_signature.subject_name"},
	{"Signature", "category", "image_loaded", "file.code_signature.subject_name"},
	{"EngineVersion", "service", "powershell-classic", "powershell.engine.version"},
	{"HostVersion", "service", "powershell-classic", "powershell.process.executable_version"},
	{"SubjectLogonId", "service", "security", "winlog.logon.id"},
	{"ServiceName", "service", "security", "service.name"},
	{"SubjectDomainName", "service", "security", "user.domain"},
	{"SubjectUserName", "service", "security", "user.name"},
	{"SubjectUserSid", "service", "security", "user.id"},
	{"TargetLogonId", "service", "security", "winlog.logon.id"},
}

// ECSWindows is pySigma ecs_windows' logsource-independent field mapping
// (processing item ecs_windows_field_mapping, product windows).
var ECSWindows = map[string]string{
	"EventID":             "event.code",
	"Channel":             "winlog.channel",
	"Provider_Name":       "winlog.provider_name",
	"ComputerName":        "winlog.computer_name",
	"FileName":            "file.path",
	"ProcessGuid":         "process.entity_id",
	"ProcessId":           "process.pid",
	"Image":               "process.executable",
	"CurrentDirectory":    "process.working_directory",
	"ParentProcessGuid":   "process.parent.entity_id",
	"ParentProcessId":     "process.parent.pid",
	"ParentImage":         "process.parent.executable",
	"ParentCommandLine":   "process.parent.command_line",
	"TargetFilename":      "file.path",
	"SourceIp":            "source.ip",
	"SourceHostname":      "source.domain",
	"SourcePort":          "source.port",
	"DestinationIp":       "destination.ip",
	"DestinationHostname": "destination.domain",
	"DestinationPort":     "destination.port",
	"DestinationPortName": "network.protocol",
	"ImageLoaded":         "file.path",
	"Signed":              "file.code_signature.signed",
	"SignatureStatus":     "file.code_signature.status",
	"Imphash":             "file.pe.imphash",
	"SourceProcessGuid":   "process.entity_id",
	"SourceProcessId":     "process.pid",
	"SourceImage":         "process.executable",
	"Device":              "file.path",
	"SourceThreadId":      "process.thread.id",
	"TargetObject":        "registry.path",
	"PipeName":            "file.name",
	"Destination":         "process.executable",
	"QueryName":           "dns.question.name",
	"QueryStatus":         "sysmon.dns.status",
	"IsExecutable":        "sysmon.file.is_executable",
	"Archived":            "sysmon.file.archived",
	"CommandName":         "powershell.command.name",
	"CommandPath":         "powershell.command.path",
	"CommandType":         "powershell.command.type",
	"HostApplication":     "process.command_line",
	"HostId":              "process.entity_id",
	"HostName":            "process.title",
	"NewEngineState":      "powershell.engine.new_state",
	"PipelineId":          "powershell.pipeline_id",
	"PreviousEngineState": "powershell.engine.previous_state",
	"RunspaceId":          "powershell.runspace_id",
	"ScriptName":          "file.path",
	"SequenceNumber":      "event.sequence",
	"NewProviderState":    "powershell.provider.new_state",
	"ProviderName":        "powershell.provider.name",
	"MessageNumber":       "powershell.sequence",
	"MessageTotal":        "powershell.total",
	"ScriptBlockText":     "powershell.file.script_block_text",
	"ScriptBlockId":       "powershell.file.script_block_id",
	"AccountDomain":       "user.domain",
	"AccountName":         "user.name",
	"Application":         "process.executable",
	"ClientAddress":       "source.ip",
	"ClientName":          "source.domain",
	"DestAddress":         "destination.ip",
	"DestPort":            "destination.port",
	"IpAddress":           "source.ip",
	"IpPort":              "source.port",
	"NewProcessId":        "process.pid",
	"NewProcessName":      "process.executable",
	"ParentProcessName":   "process.parent.name",
	"ProcessName":         "process.executable",
	"SourceAddress":       "source.ip",
	"TargetDomainName":    "user.domain",
	"User":                "user.name",
	"WorkstationName":     "source.domain",
	"Payload":             "powershell.file.script_block_text",
}

func ecsWindows() *Pipeline {
	windows := []Logsource{{Product: "windows"}}
	p := &Pipeline{Name: "ecs_windows"}
	for _, svc := range windowsChannelOrder() {
		p.Steps = append(p.Steps, Step{
			ID:         "windows_logsource_" + svc,
			Kind:       AddCondition,
			When:       []Logsource{{Product: "windows", Service: svc}},
			Conditions: []FieldValues{{Field: "winlog.channel", Values: slices.Clone(WindowsChannels[svc])}},
		})
	}
	for _, v := range ecsWindowsVariable {
		ls := Logsource{Product: "windows"}
		if v.attr == "category" {
			ls.Category = v.value
		} else {
			ls.Service = v.value
		}
		p.Steps = append(p.Steps, Step{
			ID:   "elasticsearch_windows-" + v.field + "-" + v.attr + "-" + v.value,
			Kind: FieldMap, When: []Logsource{ls}, Map: map[string]string{v.field: v.to},
		})
	}
	p.Steps = append(p.Steps,
		Step{ID: "ecs_windows_field_mapping", Kind: FieldMap, When: windows, Map: maps.Clone(ECSWindows)},
		Step{ID: "ecs_windows_winlog_eventdata_prefix", Kind: FieldPrefix, When: windows, Prefix: "winlog.event_data."},
		Step{ID: "network_direction", Kind: BoolToString, Fields: []string{"network.direction"}, True: "egress", False: "ingress"},
		Step{ID: "values_to_str", Kind: ValuesToString, When: windows, Fields: []string{
			"destination.port", "source.port", "process.parent.pid", "process.pid", "destination.ip", "source.ip",
		}},
	)
	return p
}

// EventKind gives the ECS event.category and event.type values that the
// ecs_event_kind step requires for a Sigma category.
type EventKind struct {
	Category, Type string
}

// EventKinds maps Sigma logsource categories to ECS event kinds.
var EventKinds = map[string]EventKind{
	"process_creation":    {"process", "start"},
	"process_termination": {"process", "end"},
	"network_connection":  {"network", "connection"},
	"file_event":          {"file", "creation"},
	"file_change":         {"file", "change"},
	"file_delete":         {"file", "deletion"},
	"file_rename":         {"file", "change"},
	"file_access":         {"file", "access"},
	"image_load":          {"library", "start"},
	"driver_load":         {"driver", "start"},
	"registry_add":        {"registry", "creation"},
	"registry_set":        {"registry", "change"},
	"registry_delete":     {"registry", "deletion"},
	"registry_rename":     {"registry", "change"},
}

// EventKindSearch is the name of the search the ecs_event_kind step adds.
const EventKindSearch = "_event_kind"

func ecsEventKind() *Pipeline {
	p := &Pipeline{Name: "ecs_event_kind"}
	cats := slices.Collect(maps.Keys(EventKinds))
	slices.Sort(cats)
	for _, c := range cats {
		k := EventKinds[c]
		p.Steps = append(p.Steps, Step{
			ID: "ecs_event_kind_" + c, Kind: AddCondition, Name: EventKindSearch,
			When: []Logsource{{Category: c}},
			Conditions: []FieldValues{
				{Field: "event.category", Values: []string{k.Category}},
				{Field: "event.type", Values: []string{k.Type}},
			},
		})
	}
	return p
}
