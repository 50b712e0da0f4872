package simulator

import (
	"bytes"
	"fmt"
	"net/http"
)

// wsFault is a SOAP fault as the WinRM service writes it: HTTP 500, a SOAP
// 1.2 code and subcode, a reason, and a WSManFault with the Windows error
// code and message (for plug-in errors, inside f:ProviderFault).
type wsFault struct {
	code     uint32
	sender   bool   // s:Sender, else s:Receiver
	subcode  string // e.g. w:TimedOut
	detail   string // WS-Management FaultDetail URI, if any
	reason   string
	message  string
	provider bool // the message is a Shell cmd plugin's ProviderFault
}

// Fault codes the simulator raises itself (field notes §2).
const (
	codeAccessDenied     = 5
	codeInvalidParameter = 87
	codeFileNotFound     = 2147942402 // HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND)
	codeCommandTooLong   = 2147942606 // HRESULT_FROM_WIN32(ERROR_FILENAME_EXCED_RANGE)
	codeResourceNotFound = 2150858752 // ERROR_WSMAN_RESOURCE_NOT_FOUND
	codeInvalidAction    = 2150858753 // ERROR_WSMAN_INVALID_ACTIONURI
	codeHeaderRequired   = 2150858769 // ERROR_WSMAN_MESSAGE_INFORMATION_HEADER_REQUIRED
	codeOperationTimeout = 2150858793 // ERROR_WSMAN_OPERATION_TIMEDOUT
	codeSchemaValidation = 2150858817 // ERROR_WSMAN_SCHEMA_VALIDATION_ERROR
	codeUnknownShell     = 2150858843 // ERROR_WSMAN_UNEXPECTED_SELECTORS: shell or command not found
	codeMaxShells        = 2150859173 // ERROR_WSMAN_QUOTA_MAX_SHELLS
	codeMaxOperations    = 2150859174 // ERROR_WSMAN_QUOTA_MAX_OPERATIONS
)

const (
	detailUnexpectedSelectors = "http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/UnexpectedSelectors"
	detailInvalidValue        = "http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/InvalidValue"
	invalidSelectorsReason    = "The WS-Management service cannot process the request because the request contained invalid selectors for the resource. "
	timeoutText               = "The WS-Management service cannot complete the operation within the time specified in OperationTimeout.  "
)

// knownFaults is what Windows answers for each code; texts are those of the
// captures and of wsmerror.h.
var knownFaults = map[uint32]wsFault{
	codeAccessDenied:     {sender: true, subcode: "w:AccessDenied", reason: "Access is denied. ", message: "Access is denied. "},
	codeInvalidParameter: {sender: true, subcode: "w:InvalidParameter", detail: detailInvalidValue, reason: "The parameter is incorrect. ", message: "The parameter is incorrect. ", provider: true},
	codeFileNotFound:     {subcode: "w:InternalError", reason: "The system cannot find the file specified. ", message: "The system cannot find the file specified. ", provider: true},
	codeCommandTooLong:   {subcode: "w:InternalError", reason: "The filename or extension is too long. ", message: "The filename or extension is too long. ", provider: true},
	codeResourceNotFound: {sender: true, subcode: "w:DestinationUnreachable", reason: "The WS-Management service cannot process the request. The service cannot find the resource identified by the resource URI and selectors. ",
		message: "The WS-Management service cannot process the request. The service cannot find the resource identified by the resource URI and selectors. "},
	codeInvalidAction: {sender: true, subcode: "a:ActionNotSupported", reason: "The WS-Management service cannot process the request because the WS-Addressing Action URI in the request is not compatible with the resource. ",
		message: "The WS-Management service cannot process the request because the WS-Addressing Action URI in the request is not compatible with the resource. "},
	codeHeaderRequired: {sender: true, subcode: "a:MessageInformationHeaderRequired", reason: "The WS-Management service cannot process the request because a required header is missing from the request. ",
		message: "The WS-Management service cannot process the request because a required header is missing from the request. "},
	codeOperationTimeout: {subcode: "w:TimedOut", reason: timeoutText, message: timeoutText},
	codeSchemaValidation: {sender: true, subcode: "w:SchemaValidationError", reason: "The SOAP XML in the message does not match the corresponding XML schema definition. Change the XML and retry. ",
		message: "The SOAP XML in the message does not match the corresponding XML schema definition. Change the XML and retry. "},
	codeUnknownShell: {sender: true, subcode: "w:InvalidSelectors", detail: detailUnexpectedSelectors, reason: invalidSelectorsReason,
		message: "The Windows Remote Shell received a request to perform an operation on a command identifier that does not exist. Either the command has completed execution or the client specified an invalid command identifier. "},
	codeMaxShells: {sender: true, subcode: "w:QuotaLimit", reason: "The WS-Management service cannot process the request. The maximum number of concurrent shells for this user has been exceeded. Close existing shells or raise the quota for this user. ",
		message: "The WS-Management service cannot process the request. This user is allowed a maximum number of 30 concurrent shells, which has been exceeded. Close existing shells or raise the quota for this user. "},
	codeMaxOperations: {sender: true, subcode: "w:QuotaLimit", reason: "The WS-Management service cannot process the request. The maximum number of concurrent operations for this user has been exceeded. Close existing operations for this user, or raise the quota for this user. ",
		message: "The WS-Management service cannot process the request. This user is allowed a maximum number of 1500 concurrent operations, which has been exceeded. Close existing operations for this user, or raise the quota for this user. "},
}

// faultFor is the fault for a code; an unknown code (from a fleet file)
// gets a generic internal error carrying it.
func faultFor(code uint32) wsFault {
	f, ok := knownFaults[code]
	if !ok {
		text := fmt.Sprintf("The WS-Management service cannot process the request. (simulated error %d) ", code)
		f = wsFault{subcode: "w:InternalError", reason: text, message: text}
	}
	f.code = code
	return f
}

func unknownShell(id string) wsFault {
	f := faultFor(codeUnknownShell)
	f.message = fmt.Sprintf("The request for the Windows Remote Shell with ShellId %s failed because the shell was not found on the server. "+
		"Possible causes are: the specified ShellId is incorrect or the shell no longer exists on the server. "+
		"Provide the correct ShellId or create a new shell and retry the operation. ", id)
	return f
}

func tooManyShells(max int) wsFault {
	f := faultFor(codeMaxShells)
	f.message = fmt.Sprintf("The WS-Management service cannot process the request. This user is allowed a maximum number of %d concurrent shells, which has been exceeded. Close existing shells or raise the quota for this user. ", max)
	return f
}

// faultReply renders a fault with HTTP 500, counting it.
func (h *hostState) faultReply(relatesTo string, f wsFault) reply {
	return h.faultWithStatus(relatesTo, f, http.StatusInternalServerError)
}

func (h *hostState) faultWithStatus(relatesTo string, f wsFault, status int) reply {
	h.counters.faults.Add(1)
	var b bytes.Buffer
	envelope(&b, declsFault, actionFault, relatesTo)
	value := "s:Receiver"
	if f.sender {
		value = "s:Sender"
	}
	fmt.Fprintf(&b, `<s:Fault><s:Code><s:Value>%s</s:Value><s:Subcode><s:Value>%s</s:Value></s:Subcode></s:Code><s:Reason><s:Text xml:lang="en-US">`, value, f.subcode)
	escape(&b, f.reason)
	b.WriteString(`</s:Text></s:Reason><s:Detail>`)
	if f.detail != "" {
		b.WriteString(`<w:FaultDetail>` + f.detail + `</w:FaultDetail>`)
	}
	fmt.Fprintf(&b, `<f:WSManFault xmlns:f="%s" Code="%d" Machine="`, nsFault, f.code)
	escape(&b, h.cfg.Address)
	b.WriteString(`"><f:Message>`)
	if f.provider {
		b.WriteString(`<f:ProviderFault provider="Shell cmd plugin" path="%systemroot%\system32\winrscmd.dll">`)
		escape(&b, f.message)
		b.WriteString(`</f:ProviderFault>`)
	} else {
		escape(&b, f.message)
	}
	b.WriteString(`</f:Message></f:WSManFault></s:Detail></s:Fault>`)
	b.WriteString(envelopeClose)
	return reply{status: status, body: b.Bytes()}
}

// injected fires the first fault of the fleet file that targets op and
// still has uses left.
func (h *hostState) injected(op Op, rq *request, who *caller) (reply, bool) {
	relatesTo := rq.Header.MessageID
	h.mu.Lock()
	var ft *Fault
	for i := range h.cfg.Faults {
		f := &h.cfg.Faults[i]
		if f.Op == op && (f.Times == 0 || h.faultsUsed[i] < f.Times) {
			h.faultsUsed[i]++
			ft = f
			break
		}
	}
	var vanished string
	if ft != nil && ft.Vanish {
		// The shell goes (if it is the caller's) as in a service restart;
		// its id is then unknown like any other.
		if s, f := h.shellOf(rq, who); f == nil {
			delete(h.shells, s.id)
		}
		vanished = rq.selector("ShellId")
	}
	h.mu.Unlock()
	switch {
	case ft == nil:
		return reply{}, false
	case ft.Vanish:
		h.srv.log.Info("injected shell loss", "host", h.cfg.Name, "op", op)
		return h.faultReply(relatesTo, unknownShell(vanished)), true
	case ft.Reset:
		h.srv.log.Info("injected connection reset", "host", h.cfg.Name, "op", op)
		return reply{reset: true}, true
	case ft.Code != 0:
		h.srv.log.Info("injected fault", "host", h.cfg.Name, "op", op, "code", ft.Code)
		status := ft.HTTPStatus
		if status == 0 {
			status = http.StatusInternalServerError
		}
		return h.faultWithStatus(relatesTo, faultFor(ft.Code), status), true
	default:
		h.srv.log.Info("injected HTTP status", "host", h.cfg.Name, "op", op, "status", ft.HTTPStatus)
		return reply{status: ft.HTTPStatus}, true
	}
}
