package simulator

import (
	"context"
	"net"
	"net/http"
)

// caller is who sent a request and how they reached the host.
type caller struct {
	user string // canonical account, "DOMAIN\user" or "user"
	ip   string
	url  string // the endpoint as the client addressed it
}

func remoteIP(c *conn) string {
	if a, ok := c.remote.(*net.TCPAddr); ok {
		return a.IP.String()
	}
	return ""
}

func endpointURL(r *http.Request, c *conn) string {
	scheme := "http"
	if c.https {
		scheme = "https"
	}
	return scheme + "://" + r.Host + "/wsman"
}

var opByAction = map[string]int{
	actionCreate: opCreate, actionCommand: opCommand, actionSend: opSend, actionReceive: opReceive,
	actionSignal: opSignal, actionDelete: opDelete, actionGet: opGet,
}

var faultOpByIndex = map[int]Op{
	opCreate: OpCreate, opCommand: OpCommand, opSend: OpSend, opReceive: OpReceive, opSignal: OpSignal, opDelete: OpDelete,
}

// serveSOAP answers one WS-Management message.
func (h *hostState) serveSOAP(ctx context.Context, who *caller, body []byte) reply {
	rq, err := parseRequest(body)
	if err != nil {
		h.counters.ops[opOther].Add(1)
		return h.faultReply("", faultFor(codeSchemaValidation))
	}
	op, ok := opByAction[rq.Header.Action]
	if !ok {
		op = opOther
	}
	h.counters.ops[op].Add(1)
	relatesTo := rq.Header.MessageID
	switch {
	case relatesTo == "" || rq.Header.Action == "" || rq.Header.ResourceURI == "":
		return h.faultReply(relatesTo, faultFor(codeHeaderRequired))
	case op == opOther:
		return h.faultReply(relatesTo, faultFor(codeInvalidAction))
	case op == opGet && rq.Header.ResourceURI != resourceConfig,
		op != opGet && rq.Header.ResourceURI != resourceCmd:
		return h.faultReply(relatesTo, faultFor(codeResourceNotFound))
	}
	if fop, ok := faultOpByIndex[op]; ok {
		if rep, fired := h.injected(fop, rq, who); fired {
			return rep
		}
	}
	switch op {
	case opCreate:
		return h.create(rq, who)
	case opCommand:
		return h.command(rq, who)
	case opSend:
		return h.send(rq, who)
	case opReceive:
		return h.receive(ctx, rq, who)
	case opSignal:
		return h.signal(rq, who)
	case opDelete:
		return h.delete(rq, who)
	default: // opGet
		return reply{status: http.StatusOK, body: configResponse(relatesTo, h.cfg)}
	}
}
