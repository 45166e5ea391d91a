package scenario

import _ "embed"

// Schema is the JSON Schema (draft 2020-12) of the native scenario format.
// It checks each value's shape; cross-field rules (unique ids, known hosts,
// end not before start, known tactic ids) are Validate's.
//
//go:embed scenario.schema.json
var Schema []byte
