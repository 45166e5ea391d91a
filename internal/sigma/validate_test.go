package sigma

import (
	"strings"
	"testing"
)

func TestValidateWarnings(t *testing.T) {
	det := "detection:\n    sel:\n        F: x\n    condition: sel\n"
	tests := []struct {
		name, src, want string
	}{
		{"no title", "id: 5d9e9c7c-0b8c-4d5c-9a8c-0c0a1b2c3d4e\nlogsource:\n    product: linux\n" + det, "t.yml:1:1: document has no title"},
		{"no id", "title: x\nlogsource:\n    product: linux\n" + det, "t.yml:1:1: document has no id"},
		{"id not uuid", "title: x\nid: abc-123\nlogsource:\n    product: linux\n" + det, `t.yml:2:5: id "abc-123" is not a UUID`},
		{"status", "title: x\nid: 5d9e9c7c-0b8c-4d5c-9a8c-0c0a1b2c3d4e\nstatus: beta\nlogsource:\n    product: linux\n" + det, `t.yml:3:9: unknown status "beta"`},
		{"level", "title: x\nid: 5d9e9c7c-0b8c-4d5c-9a8c-0c0a1b2c3d4e\nlevel: severe\nlogsource:\n    product: linux\n" + det, `t.yml:3:8: unknown level "severe"`},
		{"tag", "title: x\nid: 5d9e9c7c-0b8c-4d5c-9a8c-0c0a1b2c3d4e\ntags:\n    - attack.t1059\n    - Attack T1059\nlogsource:\n    product: linux\n" + det, `t.yml:5:7: tag "Attack T1059" is not in the form namespace.name`},
		{"date", "title: x\nid: 5d9e9c7c-0b8c-4d5c-9a8c-0c0a1b2c3d4e\ndate: 2022/12/20\nlogsource:\n    product: linux\n" + det, `t.yml:3:7: date "2022/12/20" is not in the form YYYY-MM-DD`},
		{"empty logsource", "title: x\nid: 5d9e9c7c-0b8c-4d5c-9a8c-0c0a1b2c3d4e\nlogsource:\n    definition: foo\n" + det, `t.yml:4:5: logsource has no category, product or service`},
		{"related type", "title: x\nid: 5d9e9c7c-0b8c-4d5c-9a8c-0c0a1b2c3d4e\nrelated:\n    - id: 5d9e9c7c-0b8c-4d5c-9a8c-0c0a1b2c3d4f\n      type: copied\nlogsource:\n    product: linux\n" + det, `t.yml:4:5: related entry 1: unknown type "copied"`},
		{"unused search", "title: x\nid: 5d9e9c7c-0b8c-4d5c-9a8c-0c0a1b2c3d4e\nlogsource:\n    product: linux\ndetection:\n    sel:\n        F: x\n    unused:\n        G: y\n    condition: sel\n", `t.yml:8:5: search "unused" is not used by the condition`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, errs := Parse("t.yml", []byte(tt.src))
			if errs.Err() != nil {
				t.Fatalf("errors: %v", errs)
			}
			if len(f.Rules) != 1 {
				t.Fatalf("a rule with warnings must still parse")
			}
			w := errs.Warnings()
			if len(w) != 1 || !strings.HasPrefix(w[0].Error(), tt.want) {
				t.Fatalf("warnings %v, want exactly %q", w, tt.want)
			}
		})
	}
}
