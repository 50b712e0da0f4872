//go:build !unix

package main

// ignoreSIGPIPE: Windows has no SIGPIPE; a closed pipe is a write error.
func ignoreSIGPIPE() {}
