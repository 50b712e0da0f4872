package catalog

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"aadcready/facts"
)

// The YAML schema. Every scalar is decoded as a string and parsed here, so
// that errors name the requirement and the field instead of a Go type.
type fileCatalog struct {
	Version       string            `yaml:"version"`
	Product       fileProduct       `yaml:"product"`
	BuildsSource  string            `yaml:"builds_source"`
	BuildsChecked string            `yaml:"builds_checked"`
	Builds        []fileBuild       `yaml:"builds"`
	Requirements  []fileRequirement `yaml:"requirements"`
	NotChecked    []fileOmission    `yaml:"not_checked"`
}

type fileProduct struct {
	UninstallNames []string `yaml:"uninstall_names"`
}

type fileBuild struct {
	Build        string `yaml:"build"`
	Released     string `yaml:"released"`
	EndOfSupport string `yaml:"end_of_support"`
	Recalled     bool   `yaml:"recalled"`
	Notes        string `yaml:"notes"`
	Confidence   string `yaml:"confidence"`
}

type fileRequirement struct {
	ID          string            `yaml:"id"`
	Title       string            `yaml:"title"`
	Severity    string            `yaml:"severity"`
	Action      string            `yaml:"action"`
	Facts       []string          `yaml:"facts"`
	Rule        *ruleSpec         `yaml:"rule"`
	AppliesWhen *ruleSpec         `yaml:"applies_when"`
	Effective   string            `yaml:"effective"`
	Remediation string            `yaml:"remediation"`
	Steps       map[string]string `yaml:"steps"`
	Source      string            `yaml:"source"`
	Checked     string            `yaml:"checked"`
	Confidence  string            `yaml:"confidence"`
	Note        string            `yaml:"note"`
	// unknown: keep_verdict marks Requirement.UnknownKeepsVerdict.
	Unknown string `yaml:"unknown"`
}

type fileOmission struct {
	Topic   string `yaml:"topic"`
	Reason  string `yaml:"reason"`
	Source  string `yaml:"source"`
	Checked string `yaml:"checked"`
}

const dateLayout = "2006-01-02"

var (
	idPattern   = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	confidences = []string{"C", "3P", "U", "!"}
)

// Parse decodes and validates a catalog. Unknown keys, unknown fact keys,
// unknown rule kinds, and unparseable dates, versions or numbers are errors.
func Parse(data []byte) (*Catalog, error) {
	var fc fileCatalog
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&fc); err != nil {
		// A TypeError lists every bad key on its own line; keep it to one.
		if te, ok := errors.AsType[*yaml.TypeError](err); ok {
			return nil, fmt.Errorf("catalog: %s", strings.Join(te.Errors, "; "))
		}
		return nil, fmt.Errorf("catalog: %w", err)
	}
	var extra any
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, errors.New("catalog: more than one YAML document")
	}
	c, err := build(&fc)
	if err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	return c, nil
}

func build(fc *fileCatalog) (*Catalog, error) {
	if fc.Version == "" {
		return nil, errors.New("version is missing")
	}
	if len(fc.Product.UninstallNames) == 0 {
		return nil, errors.New("product.uninstall_names is empty")
	}
	c := &Catalog{Version: fc.Version, ProductNames: fc.Product.UninstallNames, gate: -1,
		BuildsSource: fc.BuildsSource, BuildsChecked: fc.BuildsChecked}
	if err := checkSource(fc.BuildsSource); err != nil {
		return nil, fmt.Errorf("builds_source: %w", err)
	}
	if err := checkDate(fc.BuildsChecked); err != nil {
		return nil, fmt.Errorf("builds_checked: %w", err)
	}
	for i, fb := range fc.Builds {
		b, err := compileBuild(fb)
		if err != nil {
			return nil, fmt.Errorf("builds[%d] %s: %w", i, fb.Build, err)
		}
		c.Builds = append(c.Builds, b)
	}
	slices.SortFunc(c.Builds, func(a, b Build) int { return a.v.compare(b.v) })
	for i := 1; i < len(c.Builds); i++ {
		if c.Builds[i].v == c.Builds[i-1].v {
			return nil, fmt.Errorf("builds: %s is listed twice", c.Builds[i].Version)
		}
	}
	seen := map[string]bool{}
	for i, fr := range fc.Requirements {
		r, err := compileRequirement(fr)
		if err != nil {
			if fr.ID == "" {
				return nil, fmt.Errorf("requirements[%d]: %w", i, err)
			}
			return nil, fmt.Errorf("requirement %s: %w", fr.ID, err)
		}
		if seen[r.ID] {
			return nil, fmt.Errorf("requirement %s: id is used twice", r.ID)
		}
		seen[r.ID] = true
		if _, ok := r.rule.(installedRule); ok {
			if c.gate >= 0 {
				return nil, fmt.Errorf("requirement %s: only one requirement may use rule kind %s (%s already does)",
					r.ID, kindInstalled, c.Requirements[c.gate].ID)
			}
			c.gate = len(c.Requirements)
		}
		c.Requirements = append(c.Requirements, r)
	}
	if c.gate < 0 {
		return nil, fmt.Errorf("no requirement uses rule kind %s: NOT_INSTALLED could never be decided", kindInstalled)
	}
	for i, o := range fc.NotChecked {
		if o.Topic == "" || o.Reason == "" {
			return nil, fmt.Errorf("not_checked[%d]: topic and reason are required", i)
		}
		if err := checkSource(o.Source); err != nil {
			return nil, fmt.Errorf("not_checked[%d] %s: %w", i, o.Topic, err)
		}
		if err := checkDate(o.Checked); err != nil {
			return nil, fmt.Errorf("not_checked[%d] %s: checked: %w", i, o.Topic, err)
		}
		c.NotChecked = append(c.NotChecked, Omission(o))
	}
	return c, nil
}

func compileBuild(fb fileBuild) (Build, error) {
	b := Build{Version: fb.Build, Released: fb.Released, EndOfSupport: fb.EndOfSupport,
		Recalled: fb.Recalled, Notes: fb.Notes, Confidence: fb.Confidence}
	var err error
	if b.v, err = parseVersion(fb.Build); err != nil {
		return b, err
	}
	if b.released, err = time.Parse(dateLayout, fb.Released); err != nil {
		if b.released, err = time.Parse("2006-01", fb.Released); err != nil {
			return b, fmt.Errorf("released %q is not YYYY-MM-DD or YYYY-MM", fb.Released)
		}
	}
	switch fb.EndOfSupport {
	case "", "retired":
	default:
		if b.eos, err = time.Parse(dateLayout, fb.EndOfSupport); err != nil {
			return b, fmt.Errorf("end_of_support %q is not YYYY-MM-DD, \"retired\" or empty", fb.EndOfSupport)
		}
	}
	if b.Confidence != "" && !slices.Contains(confidences, b.Confidence) {
		return b, fmt.Errorf("confidence %q is not one of %s", b.Confidence, strings.Join(confidences, ", "))
	}
	return b, nil
}

func compileRequirement(fr fileRequirement) (Requirement, error) {
	r := Requirement{ID: fr.ID, Title: fr.Title, Severity: Severity(fr.Severity), Action: fr.Action,
		Facts: fr.Facts, Remediation: fr.Remediation, Steps: fr.Steps, Source: fr.Source, Checked: fr.Checked,
		Confidence: fr.Confidence, Note: fr.Note}
	switch {
	case !idPattern.MatchString(r.ID):
		return r, fmt.Errorf("id %q is not kebab-case", r.ID)
	case r.Title == "":
		return r, errors.New("title is missing")
	case r.Remediation == "":
		return r, errors.New("remediation is missing")
	case !slices.Contains(confidences, r.Confidence):
		return r, fmt.Errorf("confidence %q is not one of %s", r.Confidence, strings.Join(confidences, ", "))
	case (r.Confidence == "U" || r.Confidence == "!") && r.Note == "":
		return r, fmt.Errorf("confidence %s needs a note saying which side the check takes", r.Confidence)
	case fr.Rule == nil:
		return r, errors.New("rule is missing")
	}
	if err := checkSource(r.Source); err != nil {
		return r, err
	}
	if err := checkDate(r.Checked); err != nil {
		return r, fmt.Errorf("checked: %w", err)
	}
	switch fr.Unknown {
	case "":
	case "keep_verdict":
		r.UnknownKeepsVerdict = true
		if r.Severity != SeverityBlocker {
			return r, errors.New("unknown: keep_verdict only makes sense on a blocker")
		}
	default:
		return r, fmt.Errorf("unknown %q is not keep_verdict", fr.Unknown)
	}
	for a, text := range r.Steps {
		if !slices.Contains([]string{ActionMigrate, ActionFix, ActionUpgrade}, a) || text == "" {
			return r, fmt.Errorf("steps: %q must be migrate, fix or upgrade with a text", a)
		}
	}
	if err := checkSeverityAction(r.Severity, r.Action); err != nil {
		return r, err
	}
	if len(r.Facts) == 0 {
		return r, errors.New("facts is empty")
	}
	for i, k := range r.Facts {
		if _, ok := facts.Lookup(k); !ok {
			return r, fmt.Errorf("facts: unknown fact %q", k)
		}
		if slices.Contains(r.Facts[:i], k) {
			return r, fmt.Errorf("facts: %s is listed twice", k)
		}
	}
	var err error
	if r.rule, err = compileRule(*fr.Rule); err != nil {
		return r, fmt.Errorf("rule: %w", err)
	}
	for _, k := range r.rule.keys() {
		if !slices.Contains(r.Facts, k) {
			return r, fmt.Errorf("rule reads %s, which facts does not list", k)
		}
	}
	r.Rule = r.rule.String()
	if fr.AppliesWhen != nil {
		if r.appliesWhen, err = compileRule(*fr.AppliesWhen); err != nil {
			return r, fmt.Errorf("applies_when: %w", err)
		}
		r.AppliesWhen = r.appliesWhen.String()
	}
	if _, gate := r.rule.(installedRule); gate {
		if r.Severity != SeverityBlocker || r.Action != ActionNone || r.appliesWhen != nil {
			return r, fmt.Errorf("the %s requirement must be a blocker with action none and no applies_when", kindInstalled)
		}
	} else if r.Severity == SeverityBlocker && r.Action == ActionNone {
		return r, errors.New("a blocker needs action migrate, fix or upgrade")
	}
	if fr.Effective != "" {
		if r.Effective, err = time.Parse(dateLayout, fr.Effective); err != nil {
			return r, fmt.Errorf("effective %q is not a date (YYYY-MM-DD)", fr.Effective)
		}
		if r.Severity != SeverityBlocker {
			return r, errors.New("effective only makes sense on a blocker (it is a warning before the date)")
		}
	}
	return r, nil
}

func checkSeverityAction(s Severity, action string) error {
	switch s {
	case SeverityBlocker:
		if !slices.Contains([]string{ActionMigrate, ActionFix, ActionUpgrade, ActionNone}, action) {
			return fmt.Errorf("action %q is not migrate, fix, upgrade or none", action)
		}
	case SeverityWarning, SeverityInfo:
		// Warnings never change the verdict, so an action would promise work
		// the verdict does not ask for.
		if action != ActionNone {
			return fmt.Errorf("a %s must have action none, not %q", s, action)
		}
	default:
		return fmt.Errorf("severity %q is not blocker, warning or info", s)
	}
	return nil
}

// checkDate: the day a source was last checked, YYYY-MM-DD.
func checkDate(s string) error {
	if _, err := time.Parse(dateLayout, s); err != nil {
		return fmt.Errorf("%q is not a date (YYYY-MM-DD); say when the source was checked", s)
	}
	return nil
}

func checkSource(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return fmt.Errorf("source %q is not an https URL", s)
	}
	return nil
}
