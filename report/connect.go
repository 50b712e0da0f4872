package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"aadcready/scanner"
)

// WriteConnectResult prints the outcome of a one-host connection diagnostic.
func WriteConnectResult(w io.Writer, r scanner.ConnectResult) {
	if r.OK {
		sealed := ""
		if r.Sealed {
			sealed = ", messages sealed"
		}
		fmt.Fprintf(w, "OK: connected, logged on and ran the command in %d ms%s\n", r.DurationMS, sealed)
		if r.ExitCode != 0 {
			fmt.Fprintf(w, "the command exited with code %d\n", r.ExitCode)
		}
		for _, out := range []struct{ name, text string }{{"stdout", r.Stdout}, {"stderr", r.Stderr}} {
			text := strings.TrimRight(strings.ReplaceAll(out.text, "\r\n", "\n"), "\n")
			if text == "" {
				continue
			}
			fmt.Fprintf(w, "%s:\n", out.name)
			for _, line := range strings.Split(text, "\n") {
				fmt.Fprintf(w, "  %s\n", TerminalSafe(line))
			}
		}
		return
	}
	f := r.Failure
	fmt.Fprintf(w, "FAILED (%s", f.Class)
	if f.Op != "" {
		fmt.Fprintf(w, " during %s", f.Op)
	}
	fmt.Fprintf(w, "): %s\n", TerminalSafe(f.Message))
	if f.Hint != "" {
		fmt.Fprintf(w, "  check: %s\n", f.Hint)
	}
}

// WriteConnectTable prints the inventory pre-flight, one row per host.
func WriteConnectTable(w io.Writer, rs []scanner.ConnectResult) error {
	t := newTable(w, 60)
	t.Header("HOST", "RESULT", "MS", "DETAIL")
	ok := 0
	for _, r := range rs {
		result, detail := connectOutcome(r)
		if r.OK {
			ok++
		}
		if err := t.Append(TerminalSafe(r.Host), result, strconv.FormatInt(r.DurationMS, 10), TerminalSafe(detail)); err != nil {
			return err
		}
	}
	if err := t.Render(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "%d of %d hosts connected and logged on\n", ok, len(rs))
	return err
}

// ConnectColumns is the pre-flight CSV's header.
var ConnectColumns = []string{"host", "address", "port", "scheme", "auth", "result", "failure_class", "failure_op", "detail", "hint", "sealed", "duration_ms"}

// WriteConnectCSV writes the inventory pre-flight as CSV.
func WriteConnectCSV(w io.Writer, rs []scanner.ConnectResult) error {
	cw, err := newCSV(w, ConnectColumns)
	if err != nil {
		return err
	}
	for _, r := range rs {
		result, detail := connectOutcome(r)
		class, op, hint := "", "", ""
		if r.Failure != nil {
			class, op, hint = r.Failure.Class, r.Failure.Op, r.Failure.Hint
		}
		row := []string{text(r.Host), text(r.Address), strconv.Itoa(r.Port), r.Scheme, r.Auth, result, class, op,
			text(detail), text(hint), strconv.FormatBool(r.Sealed), strconv.FormatInt(r.DurationMS, 10)}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func connectOutcome(r scanner.ConnectResult) (result, detail string) {
	if r.OK {
		return "OK", strings.TrimSpace(r.Stdout)
	}
	return strings.ToUpper(r.Failure.Class), r.Failure.Message
}
