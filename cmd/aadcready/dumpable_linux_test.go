package main

import (
	"testing"

	"golang.org/x/sys/unix"
)

// The process holding passwords cannot be dumped (no core file with the
// password, its UTF-16LE form or its NT hash).
func TestProtectMemory(t *testing.T) {
	if err := protectMemory(); err != nil {
		t.Fatal(err)
	}
	d, err := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0)
	if err != nil || d != 0 {
		t.Errorf("PR_GET_DUMPABLE = %d, %v; want 0", d, err)
	}
}
