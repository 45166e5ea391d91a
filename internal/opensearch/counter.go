package opensearch

import "sync/atomic"

type retryCounter struct{ n atomic.Int64 }

func (r *retryCounter) add(n int64) { r.n.Add(n) }
func (r *retryCounter) load() int64 { return r.n.Load() }
