package simulator

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Namespaces and URIs of WS-Management and its Windows shell (MS-WSMV).
const (
	nsSOAP      = "http://www.w3.org/2003/05/soap-envelope"
	nsAddr      = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
	nsWSMan     = "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"
	nsTransfer  = "http://schemas.xmlsoap.org/ws/2004/09/transfer"
	nsShell     = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell"
	nsWSManMS   = "http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd"
	nsFault     = "http://schemas.microsoft.com/wbem/wsman/1/wsmanfault"
	nsEventing  = "http://schemas.xmlsoap.org/ws/2004/08/eventing"
	nsEnumerate = "http://schemas.xmlsoap.org/ws/2004/09/enumeration"

	resourceCmd    = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd"
	resourceConfig = "http://schemas.microsoft.com/wbem/wsman/1/config"
	anonymous      = "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous"

	actionCreate  = nsTransfer + "/Create"
	actionDelete  = nsTransfer + "/Delete"
	actionGet     = nsTransfer + "/Get"
	actionCommand = nsShell + "/Command"
	actionSend    = nsShell + "/Send"
	actionReceive = nsShell + "/Receive"
	actionSignal  = nsShell + "/Signal"
	actionFault   = "http://schemas.dmtf.org/wbem/wsman/1/wsman/fault"

	stateDone    = nsShell + "/CommandState/Done"
	stateRunning = nsShell + "/CommandState/Running"
)

// request is the part of a WS-Management request the service reads.
type request struct {
	XMLName xml.Name `xml:"http://www.w3.org/2003/05/soap-envelope Envelope"`
	Header  struct {
		Action           string `xml:"http://schemas.xmlsoap.org/ws/2004/08/addressing Action"`
		MessageID        string `xml:"http://schemas.xmlsoap.org/ws/2004/08/addressing MessageID"`
		To               string `xml:"http://schemas.xmlsoap.org/ws/2004/08/addressing To"`
		ResourceURI      string `xml:"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd ResourceURI"`
		MaxEnvelopeSize  string `xml:"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd MaxEnvelopeSize"`
		OperationTimeout string `xml:"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd OperationTimeout"`
		OptionSet        struct {
			Options []nameValue `xml:"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd Option"`
		} `xml:"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd OptionSet"`
		SelectorSet struct {
			Selectors []nameValue `xml:"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd Selector"`
		} `xml:"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd SelectorSet"`
	} `xml:"http://www.w3.org/2003/05/soap-envelope Header"`
	Body struct {
		Shell *struct {
			InputStreams     string `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell InputStreams"`
			OutputStreams    string `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell OutputStreams"`
			WorkingDirectory string `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell WorkingDirectory"`
			IdleTimeOut      string `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell IdleTimeOut"`
		} `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Shell"`
		CommandLine *struct {
			Command   string   `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Command"`
			Arguments []string `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Arguments"`
		} `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell CommandLine"`
		Send *struct {
			Streams []struct {
				Name      string `xml:"Name,attr"`
				CommandID string `xml:"CommandId,attr"`
				End       string `xml:"End,attr"`
				Data      string `xml:",chardata"`
			} `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Stream"`
		} `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Send"`
		Receive *struct {
			DesiredStream struct {
				CommandID string `xml:"CommandId,attr"`
			} `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell DesiredStream"`
		} `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Receive"`
		Signal *struct {
			CommandID string `xml:"CommandId,attr"`
			Code      string `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Code"`
		} `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Signal"`
	} `xml:"http://www.w3.org/2003/05/soap-envelope Body"`
}

type nameValue struct {
	Name  string `xml:"Name,attr"`
	Value string `xml:",chardata"`
}

func parseRequest(body []byte) (*request, error) {
	var lifted []string
	if len(body) > liftAbove {
		body, lifted = liftStreams(body)
	}
	rq := &request{}
	if err := xml.Unmarshal(body, rq); err != nil {
		return nil, err
	}
	if s := rq.Body.Send; s != nil && len(lifted) == len(s.Streams) {
		for i := range s.Streams {
			s.Streams[i].Data = lifted[i]
		}
	}
	return rq, nil
}

// A Send carries stdin as base64 text, up to the envelope size, and
// encoding/xml decodes text a byte at a time: in a large request the
// streams' text is cut out before parsing and put back after, which halves
// the simulator's cost per scanned host.
const liftAbove = 16 << 10

var streamTag = regexp.MustCompile(`<(?:[A-Za-z_][\w.-]*:)?Stream[\s>][^>]*>`)

// liftStreams removes the base64 text of Stream elements. If any stream's
// text is not plain base64 (entities, CDATA), nothing is lifted and the XML
// parser reads it all.
func liftStreams(body []byte) ([]byte, []string) {
	var out []byte
	var data []string
	rest := body
	for {
		loc := streamTag.FindIndex(rest)
		if loc == nil {
			return append(out, rest...), data
		}
		out = append(out, rest[:loc[1]]...)
		rest = rest[loc[1]:]
		if out[len(out)-2] == '/' { // <rsp:Stream .../>: no text
			data = append(data, "")
			continue
		}
		end := bytes.IndexByte(rest, '<')
		if end < 0 || !isBase64(rest[:end]) {
			return body, nil
		}
		data = append(data, string(rest[:end]))
		rest = rest[end:]
	}
}

// base64Text marks the bytes a base64 stream text may hold (whitespace
// included). A table: the check runs over every Send's 50 KB of stdin.
var base64Text = func() (t [256]bool) {
	for _, c := range []byte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=\r\n \t") {
		t[c] = true
	}
	return t
}()

func isBase64(b []byte) bool {
	for _, c := range b {
		if !base64Text[c] {
			return false
		}
	}
	return true
}

func (rq *request) option(name string) string {
	for _, o := range rq.Header.OptionSet.Options {
		if strings.EqualFold(o.Name, name) {
			return strings.TrimSpace(o.Value)
		}
	}
	return ""
}

func (rq *request) selector(name string) string {
	for _, s := range rq.Header.SelectorSet.Selectors {
		if strings.EqualFold(s.Name, name) {
			return strings.TrimSpace(s.Value)
		}
	}
	return ""
}

// operationTimeout is the request's OperationTimeout capped at
// MaxTimeoutms; without one the service waits MaxTimeoutms.
func (rq *request) operationTimeout(maxMS int) time.Duration {
	max := time.Duration(maxMS) * time.Millisecond
	d, err := parseXSDuration(rq.Header.OperationTimeout)
	if err != nil || d <= 0 || d > max {
		return max
	}
	return d
}

// responseLimit is how large a response envelope may be: the client's
// MaxEnvelopeSize, never more than the service's own limit.
func (rq *request) responseLimit(maxKB int) int {
	limit := maxKB * 1024
	if n, err := strconv.Atoi(strings.TrimSpace(rq.Header.MaxEnvelopeSize)); err == nil && n > 0 && n < limit {
		return n
	}
	return limit
}

var xsDuration = regexp.MustCompile(`^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$`)

// parseXSDuration reads the xs:duration forms WS-Management uses: PT20S,
// PT60.000S, PT1M30S, P0DT0H0M5S.
func parseXSDuration(s string) (time.Duration, error) {
	m := xsDuration.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil || s == "P" || strings.HasSuffix(s, "T") {
		return 0, fmt.Errorf("not an xs:duration: %q", s)
	}
	var d time.Duration
	for i, unit := range []time.Duration{24 * time.Hour, time.Hour, time.Minute} {
		if m[i+1] != "" {
			n, _ := strconv.Atoi(m[i+1])
			d += time.Duration(n) * unit
		}
	}
	if m[4] != "" {
		sec, _ := strconv.ParseFloat(m[4], 64)
		d += time.Duration(sec * float64(time.Second))
	}
	return d, nil
}
