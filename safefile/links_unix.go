//go:build unix

package safefile

import (
	"io/fs"
	"syscall"
)

// Links is the number of hard links to the file fi describes (1 when the
// system does not say).
func Links(fi fs.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Nlink)
	}
	return 1
}
