//go:build !unix

package simulator

// checkFileLimit has nothing to check where there is no RLIMIT_NOFILE.
func checkFileLimit(int) error { return nil }
