package report

import (
	"io"

	"aadcready/atomicfile"
	"aadcready/results"
)

// Format names a file renderer.
type Format string

const (
	FormatCSV       Format = "csv"
	FormatChecksCSV Format = "checks-csv"
	FormatJSON      Format = "json"
)

// WriteFile renders run in format to path atomically.
func WriteFile(path string, format Format, run *results.Run) error {
	return atomicfile.Write(path, 0o644, func(w io.Writer) error {
		switch format {
		case FormatCSV:
			return WriteHostsCSV(w, run)
		case FormatChecksCSV:
			return WriteChecksCSV(w, run)
		default:
			return run.WriteJSON(w)
		}
	})
}
