// Command testlog turns the event stream of `go test -json` (stdin) into the
// short report test/run prints: one line per package, the whole output of
// every failed test or package, a list of the tests that were skipped
// with their reasons, and the count of tests (subtests included) that
// passed, failed and were skipped. It exits 1 when a test, a package or a
// build failed.
//
//	go test -json ./... | go run ./test/testlog -skips skipped.tsv -counts counts.txt
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// event is one line of `go test -json` (cmd/test2json).
type event struct {
	Action     string
	Package    string
	Test       string
	Output     string
	Elapsed    float64
	ImportPath string // build-output and build-fail
}

func main() {
	skips := flag.String("skips", "", "append the skipped tests to this file (package, test, reason; tab-separated)")
	counts := flag.String("counts", "", "append a line 'passed failed skipped' (test counts) to this file")
	flag.Parse()
	sw, cw := appender(*skips), appender(*counts)
	n, err := summarize(os.Stdin, os.Stdout, sw)
	if err != nil {
		fmt.Fprintln(os.Stderr, "testlog:", err)
		os.Exit(2)
	}
	fmt.Fprintf(cw, "%d %d %d\n", n.passed, n.failed, n.skipped)
	if n.broken {
		os.Exit(1)
	}
}

// appender opens path for appending, or discards when path is empty.
func appender(path string) io.Writer {
	if path == "" {
		return io.Discard
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		fmt.Fprintln(os.Stderr, "testlog:", err)
		os.Exit(2)
	}
	return f // closed when the process exits
}

// tally is what one stream of events held: tests (subtests included) that
// passed, failed and were skipped, and whether anything failed at all (a
// test, a package or a build).
type tally struct {
	passed, failed, skipped int
	broken                  bool
}

// summarize reads the events from r, writes the report to out and one line
// per skipped test to skips, and counts the tests.
func summarize(r io.Reader, out, skips io.Writer) (n tally, err error) {
	// Output is buffered per test (and per package, key test ""): it is
	// printed only when that test or package fails, or kept as the skip
	// reason when it skips.
	outputs := map[[2]string]*strings.Builder{}
	builds := map[string]*strings.Builder{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &e) != nil {
			// Not an event: go test's own messages (a package that does
			// not build, with older toolchains). Pass them through.
			fmt.Fprintf(out, "%s\n", line)
			continue
		}
		key := [2]string{e.Package, e.Test}
		switch e.Action {
		case "build-output":
			b := builds[e.ImportPath]
			if b == nil {
				b = &strings.Builder{}
				builds[e.ImportPath] = b
			}
			b.WriteString(e.Output)
		case "build-fail":
			n.broken = true
			fmt.Fprintf(out, "BUILD FAILED %s\n%s", e.ImportPath, builds[e.ImportPath])
		case "output":
			b := outputs[key]
			if b == nil {
				b = &strings.Builder{}
				outputs[key] = b
			}
			b.WriteString(e.Output)
		case "skip":
			if e.Test != "" {
				n.skipped++
				fmt.Fprintf(skips, "%s\t%s\t%s\n", e.Package, e.Test, skipReason(outputs[key].String()))
			}
			delete(outputs, key)
		case "pass":
			delete(outputs, key)
			if e.Test != "" {
				n.passed++
			} else {
				fmt.Fprintf(out, "ok   %s %s\n", e.Package, elapsed(e.Elapsed))
			}
		case "fail":
			n.broken = true
			if e.Test != "" {
				n.failed++
			}
			// A test's output holds its own lines only (a subtest's go to
			// the subtest), so each failed level prints what it logged.
			if e.Test == "" {
				if b := outputs[key]; b != nil {
					fmt.Fprint(out, b.String())
				}
				fmt.Fprintf(out, "FAIL %s %s\n", e.Package, elapsed(e.Elapsed))
			} else if b := outputs[key]; b != nil {
				fmt.Fprint(out, b.String())
			}
			delete(outputs, key)
		}
	}
	return n, sc.Err()
}

// skipReason is what the test logged before it skipped, on one line,
// without the "=== RUN" and "--- SKIP" frames and file:line prefixes.
func skipReason(output string) string {
	var parts []string
	for _, l := range strings.Split(output, "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "=== ") || strings.HasPrefix(l, "--- SKIP") {
			continue
		}
		if i := strings.Index(l, ": "); i > 0 && strings.Contains(l[:i], ".go:") {
			l = l[i+2:]
		}
		parts = append(parts, l)
	}
	if len(parts) == 0 {
		return "(no reason given)"
	}
	return strings.Join(parts, " ")
}

func elapsed(s float64) string {
	return (time.Duration(s * float64(time.Second))).Round(10 * time.Millisecond).String()
}
