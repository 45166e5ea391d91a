package importer

import "strings"

// techniqueTactics maps ATT&CK Enterprise (parent) techniques to the short
// names of their tactics, for formats that carry a technique but no
// tactic (Atomic Red Team). Sub-techniques take their parent's tactics.
// Source: ATT&CK Enterprise v15 matrix.
var techniqueTactics = map[string]string{
	"T1003": "credential-access", "T1005": "collection", "T1007": "discovery", "T1010": "discovery",
	"T1012": "discovery", "T1014": "defense-evasion", "T1016": "discovery", "T1018": "discovery",
	"T1021": "lateral-movement", "T1027": "defense-evasion", "T1033": "discovery", "T1036": "defense-evasion",
	"T1037": "persistence privilege-escalation", "T1040": "credential-access discovery", "T1041": "exfiltration",
	"T1046": "discovery", "T1047": "execution", "T1048": "exfiltration", "T1049": "discovery",
	"T1053": "execution persistence privilege-escalation", "T1055": "defense-evasion privilege-escalation",
	"T1057": "discovery", "T1059": "execution", "T1068": "privilege-escalation", "T1069": "discovery",
	"T1070": "defense-evasion", "T1071": "command-and-control", "T1072": "execution lateral-movement",
	"T1074": "collection", "T1078": "defense-evasion persistence privilege-escalation initial-access",
	"T1082": "discovery", "T1083": "discovery", "T1087": "discovery", "T1090": "command-and-control",
	"T1098": "persistence privilege-escalation", "T1105": "command-and-control", "T1106": "execution",
	"T1110": "credential-access", "T1111": "credential-access", "T1112": "defense-evasion", "T1113": "collection",
	"T1115": "collection", "T1119": "collection", "T1120": "discovery", "T1124": "discovery",
	"T1132": "command-and-control", "T1135": "discovery", "T1136": "persistence", "T1140": "defense-evasion",
	"T1190": "initial-access", "T1201": "discovery", "T1203": "execution", "T1204": "execution",
	"T1210": "lateral-movement", "T1212": "credential-access", "T1217": "discovery", "T1219": "command-and-control",
	"T1222": "defense-evasion", "T1486": "impact", "T1489": "impact", "T1496": "impact",
	"T1497": "defense-evasion discovery", "T1518": "discovery", "T1528": "credential-access",
	"T1539": "credential-access", "T1543": "persistence privilege-escalation",
	"T1546": "privilege-escalation persistence", "T1547": "persistence privilege-escalation",
	"T1548": "privilege-escalation defense-evasion", "T1552": "credential-access", "T1555": "credential-access",
	"T1556": "credential-access defense-evasion persistence", "T1557": "credential-access collection",
	"T1558": "credential-access", "T1560": "collection", "T1562": "defense-evasion", "T1563": "lateral-movement",
	"T1569": "execution", "T1570": "lateral-movement", "T1571": "command-and-control",
	"T1572": "command-and-control", "T1574": "persistence privilege-escalation defense-evasion",
	"T1583": "resource-development", "T1588": "resource-development", "T1592": "reconnaissance",
	"T1595": "reconnaissance", "T1606": "credential-access", "T1613": "discovery", "T1614": "discovery",
	"T1621": "credential-access", "T1659": "initial-access command-and-control",
}

// TacticsOfTechnique returns the tactic short names of an ATT&CK technique
// (T1059.004 → execution), or nil when the technique is not in the table.
func TacticsOfTechnique(id string) []string {
	parent, _, _ := strings.Cut(strings.ToUpper(strings.TrimSpace(id)), ".")
	return strings.Fields(techniqueTactics[parent])
}
