package wsman

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// envelope holds every response shape the client reads: one Unmarshal per
// response, no XPath. Tags match by namespace URI, so any prefix works.
type envelope struct {
	XMLName xml.Name `xml:"http://www.w3.org/2003/05/soap-envelope Envelope"`
	Header  struct {
		Action    string `xml:"http://schemas.xmlsoap.org/ws/2004/08/addressing Action"`
		RelatesTo string `xml:"http://schemas.xmlsoap.org/ws/2004/08/addressing RelatesTo"`
	} `xml:"http://www.w3.org/2003/05/soap-envelope Header"`
	Body struct {
		Fault           *soapFault       `xml:"http://www.w3.org/2003/05/soap-envelope Fault"`
		ResourceCreated *resourceCreated `xml:"http://schemas.xmlsoap.org/ws/2004/09/transfer ResourceCreated"`
		Shell           *struct {
			ShellID string `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell ShellId"`
		} `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Shell"`
		CommandResponse *struct {
			CommandID string `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell CommandId"`
		} `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell CommandResponse"`
		ReceiveResponse *receiveResponse `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell ReceiveResponse"`
	} `xml:"http://www.w3.org/2003/05/soap-envelope Body"`
	runs [][]byte // base64 texts cut out before decoding (cut.go)
}

type resourceCreated struct {
	ReferenceParameters struct {
		SelectorSet struct {
			Selectors []struct {
				Name  string `xml:"Name,attr"`
				Value string `xml:",chardata"`
			} `xml:"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd Selector"`
		} `xml:"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd SelectorSet"`
	} `xml:"http://schemas.xmlsoap.org/ws/2004/08/addressing ReferenceParameters"`
}

type receiveResponse struct {
	Streams []struct {
		Name      string `xml:"Name,attr"`
		CommandID string `xml:"CommandId,attr"`
		Data      []byte `xml:",chardata"`
	} `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Stream"`
	State *struct {
		CommandID string  `xml:"CommandId,attr"`
		State     string  `xml:"State,attr"`
		ExitCode  *string `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell ExitCode"`
	} `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell CommandState"`
}

type soapFault struct {
	Code struct {
		Value   string `xml:"http://www.w3.org/2003/05/soap-envelope Value"`
		Subcode struct {
			Value string `xml:"http://www.w3.org/2003/05/soap-envelope Value"`
		} `xml:"http://www.w3.org/2003/05/soap-envelope Subcode"`
	} `xml:"http://www.w3.org/2003/05/soap-envelope Code"`
	Reason []string `xml:"http://www.w3.org/2003/05/soap-envelope Reason>Text"`
	Detail struct {
		WSManFault *struct {
			Code    string `xml:"Code,attr"`
			Message struct {
				Inner []byte `xml:",innerxml"`
			} `xml:"http://schemas.microsoft.com/wbem/wsman/1/wsmanfault Message"`
		} `xml:"http://schemas.microsoft.com/wbem/wsman/1/wsmanfault WSManFault"`
	} `xml:"http://www.w3.org/2003/05/soap-envelope Detail"`
}

func malformed(op, format string, args ...any) *Error {
	return newError(ClassMalformed, op, sanitize(fmt.Sprintf(format, args...)), nil)
}

// parseResponse checks a 200 or 500 response to req: well-formed XML, the
// RelatesTo of the request, then either a fault (returned as *Error) or the
// expected response action.
func parseResponse(req *request, status int, body []byte) (*envelope, error) {
	env := new(envelope)
	body, env.runs = cutRuns(body)
	if err := xml.Unmarshal(body, env); err != nil {
		if status != 200 {
			e := newError(ClassHTTPStatus, req.op, fmt.Sprintf("HTTP %d with a body that is not SOAP", status), err)
			e.HTTPStatus = status
			return nil, e
		}
		e := malformed(req.op, "response is not a SOAP envelope: %v", err)
		e.Err = err
		return nil, e
	}
	if env.Header.RelatesTo != req.id {
		return nil, malformed(req.op, "RelatesTo %q does not answer MessageID %q", env.Header.RelatesTo, req.id)
	}
	if f := env.Body.Fault; f != nil {
		return nil, f.toError(req.op, status)
	}
	if status != 200 {
		e := newError(ClassHTTPStatus, req.op, fmt.Sprintf("HTTP %d without a fault", status), nil)
		e.HTTPStatus = status
		return nil, e
	}
	if want := req.action + "Response"; env.Header.Action != want {
		return nil, malformed(req.op, "response action %q, want %q", env.Header.Action, want)
	}
	return env, nil
}

func (f *soapFault) toError(op string, status int) *Error {
	var code uint64
	var msg string
	if w := f.Detail.WSManFault; w != nil {
		code, _ = strconv.ParseUint(strings.TrimSpace(w.Code), 10, 64)
		msg = xmlText(w.Message.Inner)
	}
	if msg == "" && len(f.Reason) > 0 {
		msg = f.Reason[0]
	}
	msg = sanitize(msg)
	class := ClassWSManFault
	switch {
	case code == FaultMaxShells || code == FaultMaxOperations:
		class = ClassQuota
	case code == FaultShellNotFound:
		class = ClassShellNotFound
	case code == FaultCommandTooLong:
		class = ClassCommandTooLong
	case code == FaultAccessDenied, strings.HasSuffix(f.Code.Subcode.Value, ":AccessDenied"),
		strings.Contains(strings.ToLower(msg), "access is denied"):
		class = ClassAccessDenied
	}
	e := newError(class, op, msg, nil)
	e.HTTPStatus = status
	e.FaultCode = code
	return e
}

// xmlText returns the character data of an XML fragment (a fault message may
// nest ProviderFault elements around its text).
func xmlText(inner []byte) string {
	var b strings.Builder
	d := xml.NewDecoder(bytes.NewReader(inner))
	for {
		tok, err := d.Token()
		if err != nil {
			break
		}
		if cd, ok := tok.(xml.CharData); ok {
			b.Write(cd)
		}
	}
	return b.String()
}

// sanitize makes untrusted text safe to log and print: no control
// characters, collapsed spaces, bounded length.
func sanitize(s string) string {
	const maxLen = 1024
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == unicode.ReplacementChar {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > maxLen {
		s = strings.ToValidUTF8(s[:maxLen], "") + "…"
	}
	return s
}

func (env *envelope) shellID(op string) (string, error) {
	var id string
	if rc := env.Body.ResourceCreated; rc != nil {
		for _, s := range rc.ReferenceParameters.SelectorSet.Selectors {
			if s.Name == "ShellId" {
				id = strings.TrimSpace(s.Value)
			}
		}
	}
	if sh := env.Body.Shell; sh != nil {
		alt := strings.TrimSpace(sh.ShellID)
		if id != "" && alt != "" && alt != id {
			return "", malformed(op, "CreateResponse names two shells %q and %q", id, alt)
		}
		if id == "" {
			id = alt
		}
	}
	if !validID(id) {
		return "", malformed(op, "CreateResponse has no usable ShellId (%q)", id)
	}
	return id, nil
}

func (env *envelope) commandID(op string) (string, error) {
	var id string
	if cr := env.Body.CommandResponse; cr != nil {
		id = strings.TrimSpace(cr.CommandID)
	}
	if !validID(id) {
		return "", malformed(op, "CommandResponse has no usable CommandId (%q)", id)
	}
	return id, nil
}

// output accumulates what Receive responses deliver.
type output struct {
	stdout, stderr []byte
	done           bool
	exitCode       int
}

var strictBase64 = base64.StdEncoding.Strict()

// add appends one ReceiveResponse to o and reports how many bytes it added.
// Streams are joined as bytes: a chunk may split a multi-byte character.
func (o *output) add(env *envelope, commandID string) (int, error) {
	const op = "receive"
	rr := env.Body.ReceiveResponse
	if rr == nil {
		return 0, malformed(op, "ReceiveResponse body missing")
	}
	n := 0
	for i := range rr.Streams {
		st := &rr.Streams[i]
		if st.CommandID != "" && st.CommandID != commandID {
			return n, malformed(op, "stream for command %q, want %q", st.CommandID, commandID)
		}
		var dst *[]byte
		switch st.Name {
		case "stdout":
			dst = &o.stdout
		case "stderr":
			dst = &o.stderr
		default:
			return n, malformed(op, "unexpected stream %q", st.Name)
		}
		before := len(*dst)
		text := bytes.TrimSpace(st.Data)
		var err error
		if len(text) > 0 && text[0] == '#' {
			text, err = env.cutText(text)
		}
		if err == nil {
			*dst, err = strictBase64.AppendDecode(*dst, text)
		}
		if err != nil {
			e := malformed(op, "%s stream is not base64: %v", st.Name, err)
			e.Err = err
			return n, e
		}
		n += len(*dst) - before
	}
	if s := rr.State; s != nil && strings.HasSuffix(s.State, stateDoneSuffix) {
		if s.CommandID != "" && s.CommandID != commandID {
			return n, malformed(op, "CommandState for command %q, want %q", s.CommandID, commandID)
		}
		if s.ExitCode == nil {
			return n, malformed(op, "command done without an ExitCode")
		}
		code, err := strconv.ParseInt(strings.TrimSpace(*s.ExitCode), 10, 64)
		if err != nil {
			return n, malformed(op, "ExitCode %q is not a number", *s.ExitCode)
		}
		o.done, o.exitCode = true, int(code)
	}
	return n, nil
}
