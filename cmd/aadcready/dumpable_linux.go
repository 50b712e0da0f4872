package main

import "golang.org/x/sys/unix"

// protectMemory makes the process non-dumpable (prctl PR_SET_DUMPABLE 0):
// no core file, and no ptrace or /proc/PID/mem by other processes of the
// same user. Passwords (plain, UTF-16LE and their NT hash) are in memory
// from the first resolved credential to the end of the run, and a core
// dump (GOTRACEBACK=crash and SIGQUIT, or a crash) would write them to
// disk. It is set for the whole run, before any secret is read.
func protectMemory() error {
	return unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0)
}
