package catalog

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"aadcready/facts"
)

// Fact keys that identify the installed product (reference §4).
const (
	factWizardPath    = "aadc.wizard_path"
	factWizardVersion = "aadc.wizard_version"
	factUninstall     = "aadc.uninstall_entries"
	factService       = "adsync.service_state"
)

// product is what the host says about the installed AD Connect, worked out
// once per evaluation and shared by the install gate and the build rules.
type product struct {
	installed outcome // pass: found; fail: definitely none; could_not_check

	build    version
	buildOK  bool
	buildWhy string // where the build came from, or why there is none
}

func detectProduct(set *facts.Set, names []string) *product {
	p := &product{}
	wizardPath, entries, service := set.Get(factWizardPath), set.Get(factUninstall), set.Get(factService)

	var found, unknown []string
	note := func(f facts.Fact, key, what string) {
		switch f.Status {
		case facts.StatusOK:
			found = append(found, what)
		case facts.StatusError:
			unknown = append(unknown, key+": "+f.Reason)
		}
	}
	note(wizardPath, factWizardPath, "wizard")
	note(service, factService, "ADSync service")
	// Only the product's own entries count: the Health agents and the Agent
	// Updater also carry "Connect" in their names but are not a sync server.
	type entry struct{ name, version string }
	var matching []entry
	if list, ok := entries.List(); ok {
		for _, item := range list {
			name, ver, _ := strings.Cut(item, "|")
			if slices.ContainsFunc(names, func(n string) bool { return strings.EqualFold(n, strings.TrimSpace(name)) }) {
				matching = append(matching, entry{strings.TrimSpace(name), strings.TrimSpace(ver)})
			}
		}
		if len(matching) > 0 {
			found = append(found, "uninstall entry")
		}
	} else if entries.Status == facts.StatusError {
		unknown = append(unknown, factUninstall+": "+entries.Reason)
	}
	switch {
	case len(found) > 0:
		p.installed = outcome{status: StatusPass, reason: "found: " + strings.Join(found, ", ")}
	case len(unknown) > 0:
		p.installed = outcome{status: StatusCouldNotCheck, reason: "could not tell whether AD Connect is installed: " + joinUnknown(unknown)}
	default:
		p.installed = outcome{status: StatusFail, reason: "no AD Connect: no wizard path, no uninstall entry named " +
			strings.Join(names, " / ") + ", no ADSync service"}
	}

	// The build is the lowest version among the wizard's file version and
	// the product's uninstall entries, so a half-finished upgrade is judged
	// by the part that was left behind.
	var seen, problems []string
	disagree := false
	consider := func(text, from string) {
		v, err := parseVersion(firstField(text))
		if err != nil {
			problems = append(problems, from+": "+err.Error())
			return
		}
		if p.buildOK && v != p.build {
			disagree = true
		}
		if !p.buildOK || v.compare(p.build) < 0 {
			p.build = v
		}
		p.buildOK = true
		seen = append(seen, from+" "+v.String())
	}
	wizardVersion := set.Get(factWizardVersion)
	if s, ok := wizardVersion.Str(); ok {
		consider(s, "wizard")
	} else if wizardVersion.Status == facts.StatusError {
		problems = append(problems, factWizardVersion+": "+wizardVersion.Reason)
	}
	for _, m := range matching {
		if m.version != "" {
			consider(m.version, m.name)
		}
	}
	switch {
	case disagree:
		p.buildWhy = fmt.Sprintf("build %s (lowest of %s)", p.build, strings.Join(seen, ", "))
	case p.buildOK:
		p.buildWhy = "build " + p.build.String()
	case len(problems) > 0:
		p.buildWhy = "could not find the installed build: " + strings.Join(problems, "; ")
	default:
		p.buildWhy = "could not find the installed build: no wizard version and no product uninstall entry with a version"
	}
	return p
}

var embeddedCatalog = sync.OnceValues(Load)

// InstalledVersion returns the AD Connect build found in f as the embedded
// catalog detects it: the lowest of the wizard's file version and the
// product's uninstall entries. ok is false when no build can be found. It
// needs no Catalog, so reports can show the build from stored facts.
func InstalledVersion(f *facts.Set) (build string, ok bool) {
	c, err := embeddedCatalog()
	if err != nil {
		return "", false
	}
	p := detectProduct(f, c.ProductNames)
	if !p.buildOK {
		return "", false
	}
	return p.build.String(), true
}

func firstField(s string) string {
	if f := strings.Fields(s); len(f) > 0 {
		return f[0]
	}
	return s
}

// installedRule is the install gate: it decides NOT_INSTALLED.
type installedRule struct{}

func (installedRule) eval(e *env) outcome { return e.product().installed }
func (installedRule) keys() []string      { return []string{factWizardPath, factUninstall, factService} }
func (installedRule) String() string      { return "AD Connect is installed" }

type buildAtLeastRule struct{ min version }

func (r buildAtLeastRule) eval(e *env) outcome {
	p := e.product()
	switch {
	case !p.buildOK:
		return outcome{status: StatusCouldNotCheck, reason: p.buildWhy}
	case p.build.compare(r.min) < 0:
		return outcome{status: StatusFail, reason: fmt.Sprintf("%s is below %s", p.buildWhy, r.min)}
	}
	return outcome{status: StatusPass, reason: p.buildWhy}
}

func (buildAtLeastRule) keys() []string   { return []string{factWizardVersion, factUninstall} }
func (r buildAtLeastRule) String() string { return fmt.Sprintf("installed build >= %s", r.min) }

// buildSupportRule judges the installed build against the catalog's build
// table. A build the table does not list is judged by the next newer listed
// build: by Microsoft's policy a build retires at most graceMonths after a
// newer one is released, and never after a newer build retires.
type buildSupportRule struct {
	warnDays    int
	graceMonths int
}

func (buildSupportRule) keys() []string { return []string{factWizardVersion, factUninstall} }

func (r buildSupportRule) String() string {
	return fmt.Sprintf("installed build is not recalled and not past its end of support per the build table "+
		"(within %d days of it: a warning naming the date)", r.warnDays)
}

func (r buildSupportRule) eval(e *env) outcome {
	p := e.product()
	if !p.buildOK {
		return outcome{status: StatusCouldNotCheck, reason: p.buildWhy}
	}
	builds := e.cat.Builds
	i, exact := slices.BinarySearchFunc(builds, p.build, func(b Build, v version) int { return b.v.compare(v) })
	b := p.build.String()
	switch {
	case len(builds) == 0:
		return outcome{status: StatusCouldNotCheck, reason: "the catalog has no build table"}
	case exact && builds[i].Recalled:
		return outcome{status: StatusFail, reason: fmt.Sprintf("build %s was recalled: %s", b, builds[i].Notes)}
	case exact && builds[i].EndOfSupport == "retired":
		return outcome{status: StatusFail, reason: fmt.Sprintf("build %s is retired", b)}
	case exact && builds[i].eos.IsZero():
		return outcome{status: StatusPass, reason: fmt.Sprintf("build %s: no end of support announced", b)}
	case exact:
		return r.judge(e.today, dayOf(builds[i].eos), "build "+b+" support ends")
	case i == len(builds):
		return outcome{status: StatusPass, reason: fmt.Sprintf("build %s is newer than every build in the table (newest %s)", b, builds[i-1].Version)}
	case i == 0:
		return outcome{status: StatusFail, reason: fmt.Sprintf("build %s is older than every build in the table (oldest %s): retired", b, builds[0].Version)}
	}
	newer := builds[i]
	if newer.EndOfSupport == "retired" {
		return outcome{status: StatusFail, reason: fmt.Sprintf("build %s is not in the table; the newer build %s is already retired", b, newer.Version)}
	}
	end := newer.released.AddDate(0, r.graceMonths, 0)
	if !newer.eos.IsZero() && newer.eos.Before(end) {
		end = newer.eos
	}
	return r.judge(e.today, dayOf(end), fmt.Sprintf("build %s is not in the table; judged by newer build %s, its support ends no later than", b, newer.Version))
}

// judge: past the end of support the build needs an upgrade (a blocker);
// within warnDays of it a warning naming the date; either way the end is the
// check's due day while it lies ahead.
func (r buildSupportRule) judge(today, end day, what string) outcome {
	left := int(end - today)
	switch {
	case left <= 0:
		return outcome{status: StatusFail, reason: fmt.Sprintf("%s %s (ended %d days ago): upgrade", what, end, -left)}
	case left <= r.warnDays:
		return outcome{status: StatusFail, reason: fmt.Sprintf("%s %s (%d days)", what, end, left), warnOnly: true, due: end}
	}
	return outcome{status: StatusPass, reason: fmt.Sprintf("%s %s (%d days)", what, end, left), due: end}
}

type buildBelowRule struct{ below version }

func (r buildBelowRule) eval(e *env) outcome {
	p := e.product()
	switch {
	case !p.buildOK:
		return outcome{status: StatusCouldNotCheck, reason: p.buildWhy}
	case p.build.compare(r.below) >= 0:
		return outcome{status: StatusFail, reason: fmt.Sprintf("%s is at or above %s", p.buildWhy, r.below)}
	}
	return outcome{status: StatusPass, reason: p.buildWhy}
}

func (buildBelowRule) keys() []string   { return []string{factWizardVersion, factUninstall} }
func (r buildBelowRule) String() string { return fmt.Sprintf("installed build < %s", r.below) }
