//go:build !linux

package main

// protectMemory: only Linux has PR_SET_DUMPABLE. Elsewhere core dumps are
// the system's setting (docs/inventory.md).
func protectMemory() error { return nil }
