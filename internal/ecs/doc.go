// Package ecs reads ECS (Elastic Common Schema) JSON event logs as a stream
// and extracts the fields a consumer needs without decoding whole events.
//
// It is the one event reader of rangehunt: Sigma hunting, OpenSearch ingest,
// rule checks and labelling all read events through it.
//
// Two parts:
//
//   - Reader splits a stream into raw events. It accepts newline-delimited
//     JSON (NDJSON), gzip-compressed NDJSON (recognised by its magic bytes)
//     and a file holding one JSON array of events (recognised by a first
//     non-space byte '['). It never holds more than one record in memory
//     (a record longer than Options.MaxLineBytes is skipped while being read,
//     in constant memory). Every record is validated: malformed JSON,
//     truncated records, invalid UTF-8, values that are not JSON objects and
//     over-long lines are skipped and counted by reason in Stats, or
//     returned as *ParseError when Options.Strict is set.
//   - Fields is a compiled set of dotted ECS field paths. Fields.Extract
//     scans one raw event once, skipping the subtrees no wanted path goes
//     through, and fills a reusable Event with the values of those fields.
//     Nested objects and dotted keys are equivalent
//     ({"process":{"name":"sh"}} and {"process.name":"sh"}), and arrays are
//     flattened, including arrays of objects.
//
// Neither part allocates per event in steady state: Record.Raw and the
// byte slices in Value are valid only until the next call, as documented on
// each method.
package ecs
