package ecs

import (
	"compress/gzip"
	"io"
	"runtime"
)

func newGzip(w io.Writer) *gzip.Writer { return gzip.NewWriter(w) }

// runtimeMem samples the bytes allocated so far.
type runtimeMem struct{ total uint64 }

func (m *runtimeMem) read() {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m.total = ms.TotalAlloc
}
