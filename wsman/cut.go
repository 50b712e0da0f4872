package wsman

import (
	"bytes"
	"fmt"
	"strconv"
)

// encoding/xml decodes character data a byte at a time, which makes the
// base64 stream text of a large ReceiveResponse the costliest part of a host
// run. Long base64 runs that form an element's whole text are therefore cut
// out before decoding, leaving a placeholder "#<n>" ('#' is not base64), and
// the stream reads them back from the cut list. FuzzCutRuns checks that
// results match decoding the body whole.

// minCut is the shortest run worth cutting out.
const minCut = 256

// cutRuns returns body with long base64 element texts replaced by
// placeholders, and the runs; body itself is returned when nothing is cut.
func cutRuns(body []byte) ([]byte, [][]byte) {
	var out []byte
	var runs [][]byte
	last := 0
	for i := 0; i < len(body); {
		j := bytes.IndexByte(body[i:], '>')
		if j < 0 {
			break
		}
		start := i + j + 1
		end := start
		for end < len(body) && isBase64Char(body[end]) {
			end++
		}
		if end-start >= minCut && end < len(body) && body[end] == '<' {
			if out == nil {
				out = make([]byte, 0, len(body)/2)
			}
			out = append(out, body[last:start]...)
			out = append(out, '#')
			out = strconv.AppendInt(out, int64(len(runs)), 10)
			runs = append(runs, body[start:end])
			last = end
		}
		i = max(end, start)
	}
	if out == nil {
		return body, nil
	}
	return append(out, body[last:]...), runs
}

func isBase64Char(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '='
}

// cutText resolves a placeholder; each run may be used once.
func (env *envelope) cutText(text []byte) ([]byte, error) {
	n, err := strconv.Atoi(string(text[1:]))
	if err != nil || n < 0 || n >= len(env.runs) || env.runs[n] == nil {
		return nil, fmt.Errorf("stream text %q is not base64", sanitize(string(text)))
	}
	run := env.runs[n]
	env.runs[n] = nil
	return run, nil
}
