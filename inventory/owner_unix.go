//go:build unix

package inventory

import (
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// checkOwner refuses a password file owned by someone other than the
// running user or root: its owner could change the password it holds, or
// read it whatever its mode says.
func checkOwner(fi fs.FileInfo) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	if uid := os.Getuid(); int(st.Uid) != uid && st.Uid != 0 {
		return fmt.Errorf("password_file: the file belongs to user id %d, not to the user running aadcready (%d) or root; chown it", st.Uid, uid)
	}
	return nil
}
