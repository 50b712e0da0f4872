// Package results defines the run document: what one scan found on every
// host, as written to JSON and read back by `report` and `diff`. The JSON
// form is versioned (Schema); docs/results.md describes it.
package results

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"aadcready/catalog"
	"aadcready/facts"
)

// SchemaVersion of the run document. Adding fields keeps it; changing the
// meaning of one bumps it.
const SchemaVersion = 1

// Run is one scan of an inventory.
type Run struct {
	Schema         int       `json:"schema"`
	Tool           string    `json:"tool"`
	ToolVersion    string    `json:"tool_version"`
	CatalogVersion string    `json:"catalog_version"`
	BundleID       string    `json:"bundle_id"`
	AsOf           string    `json:"as_of"` // YYYY-MM-DD the verdicts were judged on
	Started        time.Time `json:"started"`
	Finished       time.Time `json:"finished"`
	DurationMS     int64     `json:"duration_ms"`
	Inventory      string    `json:"inventory"`
	Concurrency    int       `json:"concurrency"`
	Interrupted    bool      `json:"interrupted,omitempty"`
	// CredentialsDisabled lists credentials the run stopped using after
	// the first hosts refused them (to avoid locking the account out).
	CredentialsDisabled []string `json:"credentials_disabled,omitempty"`
	// Shard is the part of the inventory this run scanned (scan --shard).
	Shard *Shard `json:"shard,omitempty"`
	// MergedFrom lists the runs a joined run (report RUN RUN...) was made
	// of; MissingShards the shards none of them covered; MergeNotes what
	// the join decided (hosts scanned twice).
	MergedFrom    []Source `json:"merged_from,omitempty"`
	MissingShards []Shard  `json:"missing_shards,omitempty"`
	MergeNotes    []string `json:"merge_notes,omitempty"`
	Summary       Summary  `json:"summary"`
	Hosts         []Host   `json:"hosts"`
}

// Summary counts hosts per verdict.
type Summary struct {
	Total     int            `json:"total"`
	ByVerdict map[string]int `json:"by_verdict"`
}

// Host is one host's result.
type Host struct {
	Name    string            `json:"name"`
	Address string            `json:"address,omitempty"`
	Port    int               `json:"port"`
	Scheme  string            `json:"scheme"`
	Auth    string            `json:"auth"`
	Group   string            `json:"group,omitempty"`
	Tags    map[string]string `json:"tags,omitempty"`
	// InventoryPos is the host's place (from 1) in the whole inventory,
	// recorded by a sharded scan so that joined shards keep the order of
	// one scan.
	InventoryPos int `json:"inventory_pos,omitempty"`

	Verdict catalog.Verdict `json:"verdict"`
	Score   *int            `json:"score"`
	// ScorePartial: some checks could not be checked, so the score counts
	// them at half weight and may change on a rescan.
	ScorePartial bool     `json:"score_partial,omitempty"`
	Reason       string   `json:"reason,omitempty"`
	NextStep     string   `json:"next_step,omitempty"`
	Blocking     []string `json:"blocking,omitempty"`
	// NextDeadline is the earliest future day the host would fail a dated
	// requirement, with the action.
	NextDeadline *catalog.Deadline `json:"next_deadline,omitempty"`
	// StoppedSyncing says why the facts show the host has stopped syncing.
	StoppedSyncing string `json:"stopped_syncing,omitempty"`

	// Failure is why the host could not be scanned (nil when it was).
	Failure *Failure `json:"failure,omitempty"`
	// Warnings are decisions the user must see: insecure TLS, unsealed
	// traffic, noise in the probe output.
	Warnings []string  `json:"warnings,omitempty"`
	Attempts []Attempt `json:"attempts,omitempty"`

	Started    time.Time `json:"started"`
	DurationMS int64     `json:"duration_ms"`
	Requests   int       `json:"requests,omitempty"`
	Sealed     bool      `json:"sealed,omitempty"`

	Facts  *facts.Set            `json:"facts,omitempty"`
	Checks []catalog.CheckResult `json:"checks,omitempty"`
	// Stderr is the probe process's error stream, CLIXML decoded. Untrusted.
	Stderr string `json:"stderr,omitempty"`
	// ProbeProblems are the parser's findings (malformed frames, noise).
	ProbeProblems []string `json:"probe_problems,omitempty"`
}

// SetEvaluation copies a catalog evaluation into the host: the one place
// Evaluation fields reach a Host, for the scanner and for Rescore.
func (h *Host) SetEvaluation(ev catalog.Evaluation) {
	h.Checks, h.Verdict, h.Score, h.ScorePartial = ev.Checks, ev.Verdict, ev.Score, ev.ScorePartial
	h.Blocking, h.Reason, h.NextStep = ev.Blocking, ev.Reason, ev.NextStep
	h.NextDeadline, h.StoppedSyncing = ev.NextDeadline, ev.Stopped
}

// Failure is a classified reason a host could not be scanned.
type Failure struct {
	Class      string `json:"class"`
	Op         string `json:"op,omitempty"`
	Message    string `json:"message"`
	Hint       string `json:"hint,omitempty"`
	FaultCode  uint64 `json:"fault_code,omitempty"`
	HTTPStatus int    `json:"http_status,omitempty"`
}

// Attempt records one try at a host that failed and was retried (or not).
type Attempt struct {
	Class      string `json:"class"`
	Message    string `json:"message"`
	DurationMS int64  `json:"duration_ms"`
	Retried    bool   `json:"retried"`
}

// Summarize recomputes Summary from Hosts.
func (r *Run) Summarize() {
	s := Summary{Total: len(r.Hosts), ByVerdict: map[string]int{}}
	for _, h := range r.Hosts {
		s.ByVerdict[string(h.Verdict)]++
	}
	r.Summary = s
}

// Exit codes, documented in the README and --help.
const (
	ExitOK          = 0   // every host OK
	ExitNeedsAction = 1   // some host needs a fix, an upgrade or a migration (FIX, UPGRADE, FIX_THEN_UPGRADE, MIGRATE)
	ExitNotChecked  = 2   // some host could not be checked (INCOMPLETE, UNREACHABLE, NOT_INSTALLED)
	ExitUsage       = 3   // usage or configuration error; nothing was scanned
	ExitOutput      = 4   // the scan ran, but some of its outputs could not be written
	ExitInterrupted = 130 // SIGINT or SIGTERM
)

// ExitCode is the one place the exit policy lives.
func (r *Run) ExitCode() int {
	if r.Interrupted {
		return ExitInterrupted
	}
	if len(r.MissingShards) > 0 {
		return ExitNotChecked // the hosts of a missing shard were not checked
	}
	code := ExitOK
	for _, h := range r.Hosts {
		switch {
		case h.Verdict.CouldNotCheck():
			return ExitNotChecked
		case h.Verdict.NeedsAction():
			code = ExitNeedsAction
		}
	}
	return code
}

// WriteJSON writes the run document, indented for people and diff tools.
// Hosts are encoded one at a time: a fleet's document runs to hundreds of
// megabytes, and encoding it whole would hold all of it in memory at once.
func (r *Run) WriteJSON(w io.Writer) error {
	head := *r
	head.Hosts = nil
	b, err := json.MarshalIndent(&head, "", "  ")
	if err != nil {
		return err
	}
	const tail = `"hosts": null` + "\n}"
	if !bytes.HasSuffix(b, []byte(tail)) {
		return fmt.Errorf("run document: hosts must be the last field")
	}
	b = append(b[:len(b)-len(tail)], `"hosts": [`...)
	if _, err := w.Write(b); err != nil {
		return err
	}
	for i := range r.Hosts {
		sep := ",\n    "
		if i == 0 {
			sep = "\n    "
		}
		hb, err := json.MarshalIndent(&r.Hosts[i], "    ", "  ")
		if err != nil {
			return fmt.Errorf("run document: host %q: %w", r.Hosts[i].Name, err)
		}
		if _, err := io.WriteString(w, sep); err != nil {
			return err
		}
		if _, err := w.Write(hb); err != nil {
			return err
		}
	}
	end := "\n  ]\n}\n"
	if len(r.Hosts) == 0 {
		end = "]\n}\n"
	}
	_, err = io.WriteString(w, end)
	return err
}

// ReadJSON reads a run document written by WriteJSON.
func ReadJSON(rd io.Reader) (*Run, error) {
	var r Run
	dec := json.NewDecoder(rd)
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("reading run document: %w", err)
	}
	if r.Schema != SchemaVersion {
		return nil, fmt.Errorf("run document schema %d, this aadcready reads %d", r.Schema, SchemaVersion)
	}
	return &r, nil
}
