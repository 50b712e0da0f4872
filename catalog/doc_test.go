package catalog

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/catalog.md from the catalog")

const docPath = "../docs/catalog.md"

// TestCatalogDocUpToDate keeps docs/catalog.md in step with requirements.yaml:
// it fails when the file is stale, and -update rewrites it.
func TestCatalogDocUpToDate(t *testing.T) {
	want := renderDoc(loadCatalog(t))
	if *update {
		if err := os.WriteFile(docPath, want, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatalf("%v (run go test ./catalog -run TestCatalogDocUpToDate -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is stale: run go test ./catalog -run TestCatalogDocUpToDate -update", docPath)
	}
}

func renderDoc(c *Catalog) []byte {
	var b bytes.Buffer
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	cell := func(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
	link := func(u string) string { return fmt.Sprintf("[%s](%s)", path.Base(u), u) }
	codes := func(keys []string) string { return "`" + strings.Join(keys, "`<br>`") + "`" }

	p("# Requirement catalog\n\n")
	p("<!-- Generated from catalog/requirements.yaml by `go test ./catalog -run TestCatalogDocUpToDate -update`; do not edit. -->\n\n")
	p("Catalog version `%s`: %d requirements, %d builds. Severity and action are as declared; a requirement\n", c.Version, len(c.Requirements), len(c.Builds))
	p("with a date is reported as a warning before that day and with its severity from that day on. How checks\n")
	p("become a verdict and a score: [scoring.md](scoring.md). Confidence: C confirmed by Microsoft, 3P third-party\n")
	p("only, U unconfirmed or inferred, ! sources disagree (the note says which side the check takes). \"checked\"\n")
	p("is the day the source was last checked against Microsoft's pages.\n\n")

	p("## Requirements\n\n")
	p("| id | severity | action | facts | rule | applies when | date | source (checked) | confidence / note |\n")
	p("|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range c.Requirements {
		date := ""
		if !r.Effective.IsZero() {
			date = r.Effective.Format(dateLayout)
		}
		conf := r.Confidence
		if r.Note != "" {
			conf += ": " + r.Note
		}
		rule := r.Rule
		if r.UnknownKeepsVerdict {
			rule += "; could not check does not hold the verdict"
		}
		p("| `%s` | %s | %s | %s | %s | %s | %s | %s | %s |\n", r.ID, r.Severity, r.Action, codes(r.Facts),
			cell(rule), cell(r.AppliesWhen), date, link(r.Source)+" ("+r.Checked+")", cell(conf))
	}

	p("\n## Deadlines\n\n| date | requirement | checks |\n|---|---|---|\n")
	for _, d := range c.Dated() {
		p("| %s | %s | %s |\n", d.Date.Format(dateLayout), cell(d.Title), codes(d.CheckIDs))
	}

	p("\n## Builds\n\nMicrosoft's version history as the catalog records it (source: %s, checked %s);\n", link(c.BuildsSource), c.BuildsChecked)
	p("`aadc-build-support` reads it.\n\n")
	p("| build | released | end of support | notes | confidence |\n|---|---|---|---|---|\n")
	for _, bd := range c.Builds {
		eos := bd.EndOfSupport
		switch {
		case bd.Recalled:
			eos = "recalled"
		case eos == "":
			eos = "none announced"
		}
		conf := bd.Confidence
		if conf == "" {
			conf = "C"
		}
		p("| %s | %s | %s | %s | %s |\n", bd.Version, bd.Released, eos, cell(bd.Notes), conf)
	}

	p("\n## Not checked\n\n| topic | why | source (checked) |\n|---|---|---|\n")
	for _, o := range c.NotChecked {
		p("| %s | %s | %s (%s) |\n", cell(o.Topic), cell(o.Reason), link(o.Source), o.Checked)
	}

	p("\n## Remediation\n")
	for _, r := range c.Requirements {
		p("\n### `%s`: %s\n\n%s\n", r.ID, r.Title, r.Remediation)
		for _, a := range []string{ActionMigrate, ActionFix, ActionUpgrade} {
			if st := r.Steps[a]; st != "" {
				p("\nNext step when the action is %s: %s\n", a, st)
			}
		}
	}
	return b.Bytes()
}
