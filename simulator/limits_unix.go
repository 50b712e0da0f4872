//go:build unix

package simulator

import (
	"fmt"
	"syscall"
)

// checkFileLimit makes sure the process may hold a socket per listener plus
// some connections, raising the soft limit toward the hard one if needed: a
// 10,000-host fleet would otherwise fail at the 1,024th bind with a
// less helpful error.
func checkFileLimit(listeners int) error {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return nil // unknown: let the binds tell
	}
	need := uint64(listeners) + 256
	if lim.Cur >= need {
		return nil
	}
	if lim.Max >= need {
		lim.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err == nil {
			return nil
		}
	}
	return fmt.Errorf("simulator: %d listeners need about %d file descriptors, the limit is %d (raise it with ulimit -n)", listeners, need, lim.Max)
}
