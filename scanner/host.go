package scanner

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"aadcready/atomicfile"
	"aadcready/catalog"
	"aadcready/facts"
	"aadcready/inventory"
	"aadcready/probes"
	"aadcready/results"
	"aadcready/safefile"
	"aadcready/wsman"
)

// maxStderr bounds the probe stderr kept in results: enough to explain a
// failure, not enough for a hostile host to bloat every report.
const maxStderr = 4 << 10

// waitedForTurn starts the message of a host the scan ended before the
// credential guard gave it its turn.
const waitedForTurn = "the scan ended while this host waited for its turn"

// Failure classes the scanner adds to wsman's.
const (
	classCredential         = "credential"          // the secret could not be read
	classCredentialDisabled = "credential_disabled" // refused by the first hosts; not tried here
	classNotStarted         = results.ClassNotStarted
)

// host scans one host under its own deadline and always returns its result.
// The deadline starts with the host's own work (runWithRetries), not while
// it waits for its turn with a credential other hosts are trying.
func (s *scan) host(ctx context.Context, h inventory.Host) results.Host {
	start := time.Now()
	r := results.Host{
		Name: h.Name, Address: h.Address, Port: h.Port, Scheme: h.Scheme, Auth: h.Auth,
		Group: h.Group, Tags: h.Tags, Started: start.UTC(),
	}
	if h.Insecure {
		r.Warnings = append(r.Warnings, "TLS certificate verification is disabled for this host (insecure: true)")
	}

	res, attempts, err := s.runWithRetries(ctx, h, probes.CommandLine(), s.bundle, nil)
	r.Attempts = attempts
	if err != nil {
		s.fail(&r, h, err, res)
	} else {
		s.score(&r, h, res)
	}
	r.DurationMS = time.Since(start).Milliseconds()
	return r
}

// logHost writes the one info line per host.
func (s *scan) logHost(r *results.Host) {
	attrs := []any{"host", r.Name, "verdict", r.Verdict, "duration_ms", r.DurationMS}
	if r.Score != nil {
		attrs = append(attrs, "score", *r.Score)
	}
	if r.Failure != nil {
		attrs = append(attrs, "failure", r.Failure.Class, "reason", r.Failure.Message)
	}
	s.opt.Logger.Info("host scanned", attrs...)
}

// hostError carries a failure the scanner itself decided (credentials).
type hostError struct {
	class, msg, hint string
}

func (e *hostError) Error() string { return e.msg }

// runWithRetries runs command (with stdin) on h under the host deadline,
// retrying what is safe to retry, and returns the failed attempts. The
// credential guard is held across retries: one host is one logon decision.
// The deadline starts once the guard lets the host go: with a dozen hung
// hosts trying a credential first, the wait is theirs, not this host's.
// trace, when set, sees every step of the WinRM exchange.
func (s *scan) runWithRetries(ctx context.Context, h inventory.Host, command string, stdin []byte, trace func(string, time.Duration, error)) (*wsman.Result, []results.Attempt, error) {
	password, err := s.opt.Password(h.Secret)
	if err != nil {
		return nil, nil, &hostError{classCredential, err.Error(), "check the host's password_env, password_file or password_prompt"}
	}
	credKey := h.Username + " (" + h.Secret.String() + ")"
	if !s.guard.acquire(ctx, credKey) {
		if ctx.Err() != nil {
			return nil, nil, &hostError{classNotStarted,
				waitedForTurn + " (credential " + credKey + " was being tried on other hosts first); it was never contacted",
				"nothing is wrong with this host as far as the run knows: rescan it (--only RUN:cancelled)"}
		}
		return nil, nil, &hostError{classCredentialDisabled,
			fmt.Sprintf("credential %s was refused by the first %d hosts that tried it; not used again in this run", credKey, s.opt.LockoutThreshold),
			"repeated bad passwords lock domain accounts out: check the password and the account, then rerun"}
	}
	// Written from wsman's trace callback, which may run on its goroutines.
	var authOutcome atomic.Int32
	defer func() { s.guard.release(credKey, outcome(authOutcome.Load())) }()
	ctx, cancel := context.WithTimeout(ctx, s.opt.HostTimeout)
	defer cancel()

	cfg := s.clientConfig(h, password, func(step string, d time.Duration, err error) {
		// A completed NTLM handshake, or a shell created (Basic has no
		// handshake), proves the credential at once: hosts held back by
		// the guard go on without waiting for this host's whole run.
		if (step == "authenticate" || step == "create-shell") && err == nil {
			authOutcome.Store(int32(outcomeAccepted))
			s.guard.prove(credKey)
		}
		if trace != nil {
			trace(step, d, err)
		}
	})
	var attempts []results.Attempt
	for attempt := 0; ; attempt++ {
		begin := time.Now()
		res, err := runOnce(ctx, cfg, command, stdin)
		if err == nil {
			authOutcome.Store(int32(outcomeAccepted))
			return res, attempts, nil
		}
		e := wsman.Classify(err)
		if e.Class == wsman.ClassAuthRefused {
			authOutcome.Store(int32(outcomeRefused))
		}
		retry := e.Class.Retryable() && attempt < s.opt.Retries && ctx.Err() == nil
		attempts = append(attempts, results.Attempt{
			Class: string(e.Class), Message: clean(e.Message), DurationMS: time.Since(begin).Milliseconds(), Retried: retry,
		})
		if !retry || !sleep(ctx, backoff(s.opt.Backoff, attempt)) {
			return res, attempts, err
		}
		s.opt.Logger.Debug("retrying host", "host", h.Name, "attempt", attempt+1, "class", e.Class)
	}
}

func runOnce(ctx context.Context, cfg wsman.Config, command string, stdin []byte) (*wsman.Result, error) {
	c, err := wsman.New(cfg)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	return c.Run(ctx, command, stdin)
}

func (s *scan) clientConfig(h inventory.Host, password string, trace func(string, time.Duration, error)) wsman.Config {
	cfg := wsman.Config{
		Host: h.Name, Address: h.DialAddress(), Port: h.Port, HTTPS: h.HTTPS(), Auth: h.Auth,
		Username: h.Username, Password: password, AllowUnencrypted: h.AllowUnencrypted,
		Insecure: h.Insecure, ServerName: h.ServerName, MaxEnvelopeKB: h.MaxEnvelopeKB,
		Logger: s.opt.Logger, Trace: trace, // wsman adds the host to its lines
	}
	if h.CAFile != "" {
		// Read per host: inventories are validated up front, so an error
		// here is a file that changed under us (into a pipe, say, which
		// safefile refuses rather than wait on); wsman reports it.
		cfg.CAPEM, _ = safefile.Read(context.Background(), h.CAFile, safefile.MaxSmall)
	}
	if s.opt.Transport != nil {
		s.opt.Transport(&cfg)
	}
	return cfg
}

// backoff is exponential with full jitter between half and the whole step.
func backoff(base time.Duration, attempt int) time.Duration {
	d := base << attempt
	return d/2 + rand.N(d/2+1)
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// fail records a host whose run broke off. res holds what arrived before
// it did: the bundle writes after each probe, so a host cut off by its
// deadline (a hung WMI provider) keeps the facts of the probes that ended.
func (s *scan) fail(r *results.Host, h inventory.Host, err error, res *wsman.Result) {
	var he *hostError
	if errors.As(err, &he) {
		r.Failure = &results.Failure{Class: he.class, Message: he.msg, Hint: he.hint}
	} else {
		e := wsman.Classify(err)
		r.Failure = &results.Failure{
			Class: string(e.Class), Op: e.Op, Message: clean(e.Message), Hint: e.Hint,
			FaultCode: e.FaultCode, HTTPStatus: e.HTTPStatus,
		}
	}
	if r.Failure.Class == string(wsman.ClassDeadline) {
		r.Failure.Message = fmt.Sprintf("not finished within the host deadline (%s)", s.opt.HostTimeout)
	}
	if !reached(r.Failure) {
		r.Verdict = catalog.VerdictUnreachable
		r.Reason = describe(r.Failure)
		r.NextStep = r.Failure.Hint
		return
	}
	why := "output cut short (" + r.Failure.Class + "): " + r.Failure.Message
	if res == nil || len(res.Stdout) == 0 {
		s.evaluate(r, unknownFacts("no probe output: "+r.Failure.Message))
		return
	}
	set := s.collect(r, h, res)
	for name, ps := range set.Probes {
		if ps.Status == facts.ProbeMissing || ps.Status == facts.ProbeMalformed {
			ps.Reason = strings.TrimSuffix(why+"; "+ps.Reason, "; ")
			set.Probes[name] = ps
		}
	}
	s.evaluate(r, set)
}

// describe is the one-line reason for a failed host, in the words of the
// people who read the table ("timed out while opening a remote shell: ...");
// the class and step stay in Failure for scripts and the CSV.
func describe(f *results.Failure) string {
	s := f.Class
	if w, ok := classWords[f.Class]; ok {
		s = w
	}
	if w, ok := opWords[f.Op]; ok {
		s += " while " + w
	} else if f.Op != "" {
		s += " during " + f.Op
	}
	return s + ": " + f.Message
}

var classWords = map[string]string{
	string(wsman.ClassDNS):                 "host name not found",
	string(wsman.ClassRefused):             "connection refused",
	string(wsman.ClassConnectTimeout):      "no answer",
	string(wsman.ClassResponseTimeout):     "no response in time",
	string(wsman.ClassDeadline):            "timed out",
	string(wsman.ClassTLSUnknownAuthority): "certificate not trusted",
	string(wsman.ClassTLSNameMismatch):     "certificate for another name",
	string(wsman.ClassTLSHandshake):        "TLS failed",
	string(wsman.ClassAuthRefused):         "logon refused",
	string(wsman.ClassAccessDenied):        "access denied",
	string(wsman.ClassWSManFault):          "WinRM error",
	string(wsman.ClassQuota):               "WinRM quota reached",
	string(wsman.ClassShellNotFound):       "remote shell lost",
	string(wsman.ClassCommandTooLong):      "command too long for the host",
	string(wsman.ClassHTTPStatus):          "unexpected HTTP answer",
	string(wsman.ClassMalformed):           "unreadable answer",
	string(wsman.ClassNetwork):             "connection lost",
	string(wsman.ClassOutputTooLarge):      "output too large",
	string(wsman.ClassCancelled):           "not finished",
	string(wsman.ClassUnsupported):         "setting not supported",
	classCredential:                        "password not available",
	classCredentialDisabled:                "credential not used",
	classNotStarted:                        "never contacted",
}

var opWords = map[string]string{
	"resolve": "looking up the host name",
	"connect": "connecting",
	"create":  "opening a remote shell",
	"command": "starting PowerShell",
	"send":    "sending the probes",
	"receive": "reading the probes' output",
	"signal":  "stopping the probes",
	"delete":  "closing the remote shell",
}

// reached tells whether a WinRM session existed when the host failed.
// Failures before a shell was created (network, TLS, logon, the
// credential guard) make the host UNREACHABLE; later ones INCOMPLETE.
func reached(f *results.Failure) bool {
	switch f.Class {
	case string(wsman.ClassCancelled), classNotStarted, classCredential, classCredentialDisabled:
		return false
	}
	switch f.Op {
	case "", "connect", "create":
		return false
	}
	return true
}

func unknownFacts(reason string) *facts.Set {
	set := facts.NewSet()
	for _, p := range facts.Probes() {
		set.Probes[p] = facts.ProbeStatus{Status: facts.ProbeMissing, Reason: reason}
	}
	return set
}

func (s *scan) score(r *results.Host, h inventory.Host, res *wsman.Result) {
	s.evaluate(r, s.collect(r, h, res))
}

// collect parses a host's probe output and records what the run says about
// it (warnings, parser findings, stderr).
func (s *scan) collect(r *results.Host, h inventory.Host, res *wsman.Result) *facts.Set {
	r.Requests, r.Sealed = res.Requests, res.Sealed
	if h.AllowUnencrypted && !h.HTTPS() && !res.Sealed {
		r.Warnings = append(r.Warnings, "traffic to this host was not encrypted (allow_unencrypted: true)")
	}
	if s.opt.SaveRawDir != "" {
		if err := saveRaw(s.opt.SaveRawDir, h.Name, res); err != nil {
			s.opt.Logger.Warn("could not save raw output", "host", h.Name, "err", err)
		}
	}
	set, diag := probes.Parse(res.Stdout, s.bundleID)
	r.ProbeProblems = diag.Problems
	if diag.NoiseLines > 0 {
		r.ProbeProblems = append(r.ProbeProblems, fmt.Sprintf("%d lines of output outside the probe frames were ignored", diag.NoiseLines))
	}
	if res.ExitCode != 0 {
		r.ProbeProblems = append(r.ProbeProblems, fmt.Sprintf("powershell.exe exited with code %d", res.ExitCode))
	}
	r.Stderr = truncate(wsman.DecodeCLIXML(res.Stderr), maxStderr)
	if diag.NoBundle {
		// The bundle never started: say why, from PowerShell's own error.
		why := probes.NoBundleReason(r.Stderr, res.ExitCode)
		for name := range set.Probes {
			set.Probes[name] = facts.ProbeStatus{Status: facts.ProbeMalformed, Reason: why}
		}
	}
	return set
}

func (s *scan) evaluate(r *results.Host, set *facts.Set) {
	var waivers []catalog.Waiver
	if s.opt.Waivers != nil {
		waivers = s.opt.Waivers(r.Name)
	}
	ev := s.opt.Catalog.Evaluate(set, catalog.Options{AsOf: s.opt.AsOf, Waivers: waivers})
	r.Facts = set
	r.SetEvaluation(ev)
}

// cancelled is the result of a host the interrupt cut short or never let
// start; why, when it is a cancelled host's own failure (one that waited
// for its turn says it was never contacted), is kept.
func (s *scan) cancelled(h inventory.Host, why *results.Failure) results.Host {
	r := results.Host{
		Name: h.Name, Address: h.Address, Port: h.Port, Scheme: h.Scheme, Auth: h.Auth, Group: h.Group, Tags: h.Tags,
		Failure: &results.Failure{Class: string(wsman.ClassCancelled), Message: "the scan was interrupted before this host finished", Hint: "rerun the scan for this host"},
	}
	if why != nil && why.Class == classNotStarted {
		r.Failure.Class, r.Failure.Message, r.Failure.Hint = why.Class, why.Message, why.Hint
	}
	s.evaluate(&r, unknownFacts(r.Failure.Message))
	return r
}

func saveRaw(dir, host string, res *wsman.Result) error {
	base := filepath.Join(dir, safeName(host))
	if err := atomicfile.WriteBytes(base+".stdout", 0o600, res.Stdout); err != nil {
		return err
	}
	return atomicfile.WriteBytes(base+".stderr", 0o600, res.Stderr)
}

// safeName maps a host name to a file name that cannot leave dir.
func safeName(host string) string {
	b := []byte(host)
	for i, c := range b {
		ok := c == '-' || c == '_' || (c == '.' && i > 0) || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if !ok {
			b[i] = '_'
		}
	}
	return string(b)
}

// clean makes host-supplied text valid UTF-8 (hostile hosts send anything).
func clean(s string) string { return strings.ToValidUTF8(s, "\uFFFD") }

func truncate(s string, n int) string {
	s = clean(s)
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + " [truncated]"
}
