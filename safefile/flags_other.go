//go:build !unix

package safefile

// Windows opens never wait on a pipe the way a Unix FIFO does, and has no
// O_NOFOLLOW: callers check with os.Lstat before they create (see
// CheckNotLink).
const (
	openNonBlock = 0
	NoFollow     = 0
)
