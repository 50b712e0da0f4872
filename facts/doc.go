package facts

import (
	"fmt"
	"io"
	"strings"
)

// WriteDoc writes docs/facts.md: the fact schema, generated from Registry.
func WriteDoc(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# Facts (schema %d)\n\n", SchemaVersion)
	b.WriteString("Generated from `facts/registry.go` by `go test ./facts -update`; do not edit by hand.\n\n")
	b.WriteString("Each host's JSON record has `facts`: `{\"schema\": N, \"facts\": {KEY: FACT}, \"probes\": {PROBE: {\"status\", \"reason\"}}}`.\n")
	b.WriteString("A FACT is `{\"status\": \"ok\", \"value\": V}` (V typed by the kind below), `{\"status\": \"absent\"}` (the probe ran and\n")
	b.WriteString("the registry value, file or service does not exist) or `{\"status\": \"error\", \"reason\": \"...\"}` (it could not be read).\n")
	b.WriteString("A key missing from `facts` is unknown: its probe failed, was cut short or did not report it (see `probes`).\n")
	b.WriteString("Probe statuses: `ok`, `failed` (the probe threw), `missing` (no output for it), `malformed` (output that does not parse).\n")
	probe := ""
	for _, d := range Registry {
		if d.Probe != probe {
			probe = d.Probe
			fmt.Fprintf(&b, "\n## probe `%s` (probes/%s.ps1)\n\n| key | kind | meaning |\n|---|---|---|\n", probe, probe)
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", d.Key, d.Kind, strings.ReplaceAll(d.Doc, "|", "\\|"))
	}
	_, err := io.WriteString(w, b.String())
	return err
}
