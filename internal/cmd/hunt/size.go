package hunt

import "os"

// totalSize is the bytes of the given files (for the progress bar); files
// that cannot be read count 0 (the run reports them).
func totalSize(paths []string) int64 {
	var n int64
	for _, p := range paths {
		if fi, err := os.Stat(p); err == nil {
			n += fi.Size()
		}
	}
	return n
}
