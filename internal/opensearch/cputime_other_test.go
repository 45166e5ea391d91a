//go:build !unix

package opensearch

import "time"

// selfCPU is not measured on this platform (client-us/event reads 0).
func selfCPU() time.Duration { return 0 }
