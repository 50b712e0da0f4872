// Package probes holds the read-only PowerShell probes that run on a scanned
// host, assembles them into one bundle, and parses (and, for the simulator,
// renders) the line protocol of docs/probe-protocol.md that the bundle prints.
package probes

import (
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"iter"
	"strings"
	"unicode/utf16"
)

//go:embed *.ps1
var scripts embed.FS

// names is the bundle order: cheap registry and WMI reads first, the ADSync
// module (slowest, most likely to be denied) last.
var names = []string{"os", "powershell", "dotnet", "tls", "vcredist", "hardware", "reboot", "aadconnect", "adsync", "syncstate"}

const idPlaceholder = "@@BUNDLE_ID@@"

var bundleID, bundle = assemble()

// assemble builds the bundle around the id placeholder, takes the id from
// the SHA-256 of that text (so any change to what runs changes the id), then
// writes the id in.
func assemble() (id, text string) {
	var b strings.Builder
	b.WriteString("# aadcready probe bundle: the prelude (probes/_prelude.ps1), then each probe\n")
	b.WriteString("# (probes/<name>.ps1) run by Invoke-AadcProbe. Read-only; output is written after each probe.\n\n")
	b.WriteString(mustRead("_prelude.ps1"))
	b.WriteString("\ntry {\n")
	for _, n := range names {
		fmt.Fprintf(&b, "\nInvoke-AadcProbe '%s' {\n%s}\n", n, mustRead(n+".ps1"))
	}
	b.WriteString("\nAdd-AadcLine 'DONE'\n} finally {\n    Write-AadcOutput\n}\n")
	tmpl := b.String()
	if strings.Count(tmpl, idPlaceholder) != 1 {
		panic("probes: the prelude must contain " + idPlaceholder + " exactly once")
	}
	sum := sha256.Sum256([]byte(tmpl))
	id = hex.EncodeToString(sum[:8])
	return id, strings.Replace(tmpl, idPlaceholder, id, 1)
}

func mustRead(name string) string {
	b, err := scripts.ReadFile(name)
	if err != nil {
		panic("probes: " + err.Error())
	}
	s := string(b)
	if !strings.HasSuffix(s, "\n") {
		s += "\n"
	}
	return s
}

// Names returns the probe names in bundle order.
func Names() []string { return append([]string(nil), names...) }

// Bundle returns the PowerShell text sent to a host on stdin. It is the same
// for every call and every build of the same sources.
func Bundle() string { return bundle }

// BundleID returns the 16 hex digits that identify Bundle(); the bundle
// prints it in its BUNDLE record.
func BundleID() string { return bundleID }

// BundleWithPadding returns Bundle() followed by comment lines of at least n
// bytes in all, to test that large bundles reach the host intact. The id and
// the output are those of Bundle().
func BundleWithPadding(n int) string {
	const line = "# padding: this comment only makes the bundle larger ................\n"
	if n <= 0 {
		return bundle
	}
	return bundle + strings.Repeat(line, (n+len(line)-1)/len(line))
}

// bootstrap is the only script on the command line. It reads the bundle from
// stdin ($input, an automatic variable: one string per line) and runs it.
// In FullLanguage [scriptblock]::Create compiles the whole bundle before any
// of it runs, so a bundle cut short in transit fails with a parse error
// instead of running half-way, and the bundle is one script block (one entry
// in script block logging). ConstrainedLanguage refuses that method call
// (MethodInvocationNotSupportedInConstrainedLanguage: [scriptblock] is not
// an allowed type), so there the bundle goes through Invoke-Expression, a
// cmdlet CLM allows; the text then runs constrained, which the bundle is
// written for. Invoke-Expression also parses the whole text before running
// it. The bootstrap is checked by the language-mode checker like the bundle.
const bootstrap = "$s = @($input) -join \"`n\"; " +
	"if ($ExecutionContext.SessionState.LanguageMode -eq 'FullLanguage') { & ([scriptblock]::Create($s)) } " +
	"else { Invoke-Expression $s }"

// Bootstrap returns the decoded source of the -EncodedCommand bootstrap.
func Bootstrap() string { return bootstrap }

// CommandLine returns the command the scanner starts on the host. It passes
// no -ExecutionPolicy: that would change the effective policy the powershell
// probe reports (and the bundle runs as a script block, which the execution
// policy does not govern).
func CommandLine() string { return CommandLineFor(bootstrap) }

// CommandLineFor is the command line that runs script as the bootstrap.
func CommandLineFor(script string) string {
	u := utf16.Encode([]rune(script))
	b := make([]byte, 2*len(u))
	for i, c := range u {
		b[2*i], b[2*i+1] = byte(c), byte(c>>8)
	}
	return "powershell.exe -NoLogo -NoProfile -NonInteractive -EncodedCommand " + base64.StdEncoding.EncodeToString(b)
}

// The two line shapes ProbesInBundle looks for: "$AadcBundleId = '<16 hex>'"
// and "Invoke-AadcProbe '<name>' {", each a whole line (CRLF or LF).
const (
	idLinePrefix    = "$AadcBundleId = '"
	probeLinePrefix = "Invoke-AadcProbe '"
)

// ProbesInBundle recovers the bundle id and the probe names, in order, from
// a bundle's text as a host receives it (padded or not). The simulator calls
// it for every probe run: it finds the lines with strings.Index instead of
// regular expressions, which cost 0.4 ms over a 40 KB bundle (FuzzProbesInBundle
// checks it against the expressions).
func ProbesInBundle(script string) (id string, names []string, err error) {
	ids := 0
	for line := range linesWithPrefix(script, idLinePrefix) {
		if v, ok := strings.CutSuffix(line[len(idLinePrefix):], "'"); ok && len(v) == 16 && strings.Trim(v, "0123456789abcdef") == "" {
			id, ids = v, ids+1
		}
	}
	if ids != 1 {
		return "", nil, fmt.Errorf("probes: want one bundle id line, found %d", ids)
	}
	for line := range linesWithPrefix(script, probeLinePrefix) {
		if v, ok := strings.CutSuffix(line[len(probeLinePrefix):], "' {"); ok && v != "" && strings.Trim(v, "abcdefghijklmnopqrstuvwxyz0123456789_") == "" {
			names = append(names, v)
		}
	}
	if len(names) == 0 {
		return "", nil, errors.New("probes: no probes in the bundle")
	}
	return id, names, nil
}

// linesWithPrefix yields the lines of s that start with prefix, without
// their line end ("\n", or "\r\n").
func linesWithPrefix(s, prefix string) iter.Seq[string] {
	return func(yield func(string) bool) {
		for i := 0; i < len(s); {
			j := strings.Index(s[i:], prefix)
			if j < 0 {
				return
			}
			j += i
			end, next := len(s), len(s)
			if k := strings.IndexByte(s[j:], '\n'); k >= 0 {
				end, next = j+k, j+k+1
			}
			// A match that does not start its line has no other match on
			// that line that does: go on with the next line either way.
			if (j == 0 || s[j-1] == '\n') && !yield(strings.TrimSuffix(s[j:end], "\r")) {
				return
			}
			i = next
		}
	}
}
