// Package report renders a run for people and spreadsheets: the terminal
// table, the change-board CSV, the per-check CSV, the JSON document, the
// HTML report, and what changed between two runs (table and CSV of a
// diff.Result). Everything a host returned is untrusted; each writer
// neutralises it for its medium (terminal escapes, spreadsheet formulas).
package report

import (
	"strings"
	"unicode"
)

// TerminalSafe replaces control characters (ANSI escapes, carriage
// returns, C1 controls, bidi overrides) so host-supplied text cannot move
// the cursor, recolour or rewrite what the operator sees. Invalid UTF-8
// becomes U+FFFD. Commands use it for the host names in their messages.
func TerminalSafe(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if strings.IndexFunc(s, isControl) < 0 {
		return s
	}
	return strings.Map(func(r rune) rune {
		if isControl(r) {
			return '?'
		}
		return r
	}, s)
}

func isControl(r rune) bool {
	return unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || unicode.Is(unicode.Bidi_Control, r)
}

// spreadsheetSafe neutralises formula injection (OWASP CSV Injection): a
// free-text cell starting with = + - @, tab, CR, LF or NUL gets a leading
// apostrophe so Excel and LibreOffice show it as text.
func spreadsheetSafe(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r', '\n', 0:
		return "'" + s
	}
	return s
}
