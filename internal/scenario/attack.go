package scenario

import (
	"regexp"
	"sort"
	"strings"
)

// Tactic is one MITRE ATT&CK Enterprise tactic.
type Tactic struct {
	// ID is the tactic id, e.g. TA0007.
	ID string
	// Short is the tactic's short name as ATT&CK and Sigma tags use it
	// (the Sigma tag is "attack." + Short), e.g. "discovery".
	Short string
	// Name is the display name, e.g. "Discovery".
	Name string
}

// tactics is the ATT&CK Enterprise tactic table (v15+), ordered as in the
// matrix.
var tactics = []Tactic{
	{"TA0043", "reconnaissance", "Reconnaissance"},
	{"TA0042", "resource-development", "Resource Development"},
	{"TA0001", "initial-access", "Initial Access"},
	{"TA0002", "execution", "Execution"},
	{"TA0003", "persistence", "Persistence"},
	{"TA0004", "privilege-escalation", "Privilege Escalation"},
	{"TA0005", "defense-evasion", "Defense Evasion"},
	{"TA0006", "credential-access", "Credential Access"},
	{"TA0007", "discovery", "Discovery"},
	{"TA0008", "lateral-movement", "Lateral Movement"},
	{"TA0009", "collection", "Collection"},
	{"TA0011", "command-and-control", "Command and Control"},
	{"TA0010", "exfiltration", "Exfiltration"},
	{"TA0040", "impact", "Impact"},
}

var (
	tacticByID    = map[string]Tactic{}
	tacticByShort = map[string]Tactic{}
)

func init() {
	for _, t := range tactics {
		tacticByID[t.ID] = t
		tacticByShort[t.Short] = t
	}
}

// Tactics returns the ATT&CK Enterprise tactics in matrix order.
func Tactics() []Tactic { return append([]Tactic(nil), tactics...) }

// TacticByID returns the tactic with the given id (TA0007).
func TacticByID(id string) (Tactic, bool) {
	t, ok := tacticByID[strings.ToUpper(strings.TrimSpace(id))]
	return t, ok
}

// TacticByName looks a tactic up by its short name ("discovery",
// "credential-access"), its display name ("Credential Access") or an
// underscore spelling ("credential_access"), case-insensitively.
func TacticByName(name string) (Tactic, bool) {
	n := strings.ToLower(strings.TrimSpace(name))
	n = strings.NewReplacer("_", "-", " ", "-").Replace(n)
	t, ok := tacticByShort[n]
	return t, ok
}

var (
	techniqueRE = regexp.MustCompile(`^T[0-9]{4}(\.[0-9]{3})?$`)
	tacticRE    = regexp.MustCompile(`^TA[0-9]{4}$`)
)

// ValidTechniqueID reports whether id has the form of an ATT&CK technique
// or sub-technique id: T1046, T1059.004.
func ValidTechniqueID(id string) bool { return techniqueRE.MatchString(id) }

// ValidTacticID reports whether id has the form TA0007 (it may still be
// unknown; see TacticByID).
func ValidTacticID(id string) bool { return tacticRE.MatchString(id) }

// SortedTacticIDs returns the known tactic ids, sorted.
func SortedTacticIDs() []string {
	ids := make([]string, 0, len(tactics))
	for _, t := range tactics {
		ids = append(ids, t.ID)
	}
	sort.Strings(ids)
	return ids
}
