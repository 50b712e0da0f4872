// Package report renders a run for people and spreadsheets: the terminal
// table, the change-board CSV, the per-check CSV, the JSON document, the
// HTML report, and what changed between two runs (table and CSV of a
// diff.Result). Everything a host returned is untrusted; each writer
// neutralises it for its medium (terminal escapes, spreadsheet formulas).
package report

import (
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
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

// FileSafe is TerminalSafe for text files (CSV cells): line breaks and
// tabs stay (a cell may hold several lines; a lone CR becomes a line
// break, since it would let a cell overwrite what `cat` showed before it),
// every other control, C1 and bidi character becomes U+FFFD, which says
// something was there.
func FileSafe(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if strings.IndexFunc(s, isFileControl) < 0 {
		return s
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\r':
			return '\n'
		case isFileControl(r):
			return '\uFFFD'
		}
		return r
	}, s)
}

func isFileControl(r rune) bool { return r != '\n' && r != '\t' && isControl(r) }

// safeWriter passes a text document (the HTML report) through with every
// control, C1 and bidi character but tab and line ends replaced by U+FFFD,
// and invalid UTF-8 too. The report's own markup, styles and scripts hold
// none, so only what a host planted changes: JSON and compressed data are
// escaped or ASCII already. Close writes a rune split at the end.
type safeWriter struct {
	w     io.Writer
	carry []byte // the start of a rune the next Write completes
	buf   []byte
}

func newSafeWriter(w io.Writer) *safeWriter { return &safeWriter{w: w} }

func (s *safeWriter) Write(p []byte) (int, error) {
	data := append(s.carry, p...)
	end := len(data)
	// Keep an incomplete rune at the end for the next Write.
	for i := len(data) - 1; i >= 0 && i >= len(data)-utf8.UTFMax+1; i-- {
		if utf8.RuneStart(data[i]) {
			if !utf8.FullRune(data[i:]) {
				end = i
			}
			break
		}
	}
	if err := s.flush(data[:end]); err != nil {
		return 0, err
	}
	s.carry = append(s.carry[:0:0], data[end:]...)
	return len(p), nil
}

func (s *safeWriter) flush(data []byte) error {
	s.buf = s.buf[:0]
	for len(data) > 0 {
		r, size := utf8.DecodeRune(data)
		switch {
		case r == utf8.RuneError && size <= 1, r != '\n' && r != '\r' && r != '\t' && isControl(r):
			s.buf = utf8.AppendRune(s.buf, '\uFFFD')
		default:
			s.buf = append(s.buf, data[:size]...)
		}
		data = data[size:]
	}
	_, err := s.w.Write(s.buf)
	return err
}

// Close writes what is left of an incomplete rune (as U+FFFD).
func (s *safeWriter) Close() error {
	if len(s.carry) == 0 {
		return nil
	}
	err := s.flush(s.carry)
	s.carry = nil
	return err
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
