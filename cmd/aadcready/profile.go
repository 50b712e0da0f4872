package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"

	"github.com/spf13/cobra"

	"aadcready/atomicfile"
	"aadcready/safefile"
)

// Profiling for the fleet benchmark (docs/performance.md): with
// AADCREADY_CPUPROFILE=FILE and/or AADCREADY_MEMPROFILE=FILE in the
// environment, the command that runs writes a pprof CPU profile of its whole
// run and a heap profile (after a GC, at its end) to those files. Environment
// variables rather than flags, so that no command's flags or help change and
// `scan` and `simulate` processes started by the benchmark can be profiled
// alike.
const (
	cpuProfileEnv = "AADCREADY_CPUPROFILE"
	memProfileEnv = "AADCREADY_MEMPROFILE"
)

func init() {
	var cpu *os.File
	cobra.OnInitialize(func() {
		path := os.Getenv(cpuProfileEnv)
		if path == "" {
			return
		}
		f, err := safefile.Create(path, atomicfile.FilePerm(0o600))
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "aadcready: %s: %v\n", cpuProfileEnv, err)
			return
		}
		cpu = f
	})
	cobra.OnFinalize(func() {
		if cpu != nil {
			pprof.StopCPUProfile()
			cpu.Close()
			cpu = nil
		}
		if path := os.Getenv(memProfileEnv); path != "" {
			if err := writeHeapProfile(path); err != nil {
				fmt.Fprintf(os.Stderr, "aadcready: %s: %v\n", memProfileEnv, err)
			}
		}
	})
}

func writeHeapProfile(path string) error {
	f, err := safefile.Create(path, atomicfile.FilePerm(0o600))
	if err != nil {
		return err
	}
	runtime.GC() // the profile shows what is live, not garbage not yet collected
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
