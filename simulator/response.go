package simulator

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"strconv"
	"time"
)

// Responses are written as Windows writes them (compare
// testdata/winrs-captures): the same prefixes, the same namespace
// declarations per kind of response, and a:RelatesTo on every one.
const (
	envelopeOpen = `<s:Envelope xml:lang="en-US" xmlns:s="` + nsSOAP + `" xmlns:a="` + nsAddr + `"`
	declsShell   = envelopeOpen + ` xmlns:x="` + nsTransfer + `" xmlns:w="` + nsWSMan + `" xmlns:rsp="` + nsShell + `" xmlns:p="` + nsWSManMS + `">`
	declsReceive = envelopeOpen + ` xmlns:w="` + nsWSMan + `" xmlns:rsp="` + nsShell + `" xmlns:p="` + nsWSManMS + `">`
	declsDelete  = envelopeOpen + ` xmlns:w="` + nsWSMan + `" xmlns:p="` + nsWSManMS + `">`
	declsGet     = envelopeOpen + ` xmlns:x="` + nsTransfer + `" xmlns:w="` + nsWSMan + `" xmlns:p="` + nsWSManMS + `">`
	declsFault   = envelopeOpen + ` xmlns:x="` + nsTransfer + `" xmlns:e="` + nsEventing + `" xmlns:n="` + nsEnumerate + `" xmlns:w="` + nsWSMan + `" xmlns:p="` + nsWSManMS + `">`
)

// envelope writes the opening of a response up to and including <s:Body>.
func envelope(b *bytes.Buffer, decls, action, relatesTo string) {
	b.WriteString(decls)
	b.WriteString(`<s:Header><a:Action>`)
	b.WriteString(action)
	b.WriteString(`</a:Action><a:MessageID>uuid:`)
	b.WriteString(newGUID())
	b.WriteString(`</a:MessageID><a:To>` + anonymous + `</a:To>`)
	if relatesTo != "" {
		b.WriteString(`<a:RelatesTo>`)
		escape(b, relatesTo)
		b.WriteString(`</a:RelatesTo>`)
	}
	b.WriteString(`</s:Header><s:Body>`)
}

const envelopeClose = `</s:Body></s:Envelope>`

func escape(b *bytes.Buffer, s string) { xml.EscapeText(b, []byte(s)) }

// shellInfo is what a CreateResponse tells about the new shell.
type shellInfo struct {
	id, owner, clientIP, address, input, output, workDir string
	idle                                                 time.Duration
}

func createResponse(relatesTo string, s shellInfo) []byte {
	var b bytes.Buffer
	envelope(&b, declsShell, nsTransfer+"/CreateResponse", relatesTo)
	b.WriteString(`<x:ResourceCreated><a:Address>`)
	escape(&b, s.address)
	b.WriteString(`</a:Address><a:ReferenceParameters><w:ResourceURI>` + resourceCmd + `</w:ResourceURI><w:SelectorSet><w:Selector Name="ShellId">`)
	b.WriteString(s.id)
	b.WriteString(`</w:Selector></w:SelectorSet></a:ReferenceParameters></x:ResourceCreated>`)
	b.WriteString(`<rsp:Shell xmlns:rsp="` + nsShell + `"><rsp:ShellId>` + s.id + `</rsp:ShellId><rsp:ResourceUri>` + resourceCmd + `</rsp:ResourceUri><rsp:Owner>`)
	escape(&b, s.owner)
	b.WriteString(`</rsp:Owner><rsp:ClientIP>`)
	escape(&b, s.clientIP)
	b.WriteString(`</rsp:ClientIP>`)
	if s.workDir != "" {
		b.WriteString(`<rsp:WorkingDirectory>`)
		escape(&b, s.workDir)
		b.WriteString(`</rsp:WorkingDirectory>`)
	}
	fmt.Fprintf(&b, `<rsp:IdleTimeOut>PT%.3fS</rsp:IdleTimeOut><rsp:InputStreams>`, s.idle.Seconds())
	escape(&b, s.input)
	b.WriteString(`</rsp:InputStreams><rsp:OutputStreams>`)
	escape(&b, s.output)
	b.WriteString(`</rsp:OutputStreams><rsp:ShellRunTime>P0DT0H0M0S</rsp:ShellRunTime><rsp:ShellInactivity>P0DT0H0M0S</rsp:ShellInactivity></rsp:Shell>`)
	b.WriteString(envelopeClose)
	return b.Bytes()
}

func commandResponse(relatesTo, commandID string) []byte {
	var b bytes.Buffer
	envelope(&b, declsShell, nsShell+"/CommandResponse", relatesTo)
	b.WriteString(`<rsp:CommandResponse><rsp:CommandId>` + commandID + `</rsp:CommandId></rsp:CommandResponse>`)
	b.WriteString(envelopeClose)
	return b.Bytes()
}

// emptyResponse answers Send and Signal: an empty element named after the
// action.
func emptyResponse(relatesTo, name string) []byte {
	var b bytes.Buffer
	envelope(&b, declsShell, nsShell+"/"+name, relatesTo)
	b.WriteString(`<rsp:` + name + `/>`)
	b.WriteString(envelopeClose)
	return b.Bytes()
}

func deleteResponse(relatesTo string) []byte {
	var b bytes.Buffer
	envelope(&b, declsDelete, nsTransfer+"/DeleteResponse", relatesTo)
	b.WriteString(envelopeClose)
	return b.Bytes()
}

// chunk is one rsp:Stream of a ReceiveResponse.
type chunk struct {
	stream string
	data   []byte
}

// streamOverhead is the size of an rsp:Stream element around its data.
const streamOverhead = len(`<rsp:Stream Name="stdout" CommandId="00000000-0000-0000-0000-000000000000"></rsp:Stream>`)

// receiveResponse carries output chunks and, once the command is done, the
// closing End streams and the exit code.
func receiveResponse(relatesTo, commandID string, chunks []chunk, done bool, exitCode int) []byte {
	var b bytes.Buffer
	envelope(&b, declsReceive, nsShell+"/ReceiveResponse", relatesTo)
	b.WriteString(`<rsp:ReceiveResponse>`)
	for _, c := range chunks {
		fmt.Fprintf(&b, `<rsp:Stream Name="%s" CommandId="%s">`, c.stream, commandID)
		b.WriteString(base64.StdEncoding.EncodeToString(c.data))
		b.WriteString(`</rsp:Stream>`)
	}
	if done {
		fmt.Fprintf(&b, `<rsp:Stream Name="stdout" CommandId="%s" End="true"></rsp:Stream>`, commandID)
		fmt.Fprintf(&b, `<rsp:Stream Name="stderr" CommandId="%s" End="true"></rsp:Stream>`, commandID)
		fmt.Fprintf(&b, `<rsp:CommandState CommandId="%s" State="%s"><rsp:ExitCode>%d</rsp:ExitCode></rsp:CommandState>`, commandID, stateDone, exitCode)
	} else {
		fmt.Fprintf(&b, `<rsp:CommandState CommandId="%s" State="%s"/>`, commandID, stateRunning)
	}
	b.WriteString(`</rsp:ReceiveResponse>`)
	b.WriteString(envelopeClose)
	return b.Bytes()
}

// configResponse answers a Get of winrm/config with this host's settings,
// in the shape of the wsman_envelope_size captures.
func configResponse(relatesTo string, h *Host) []byte {
	var b bytes.Buffer
	envelope(&b, declsGet, nsTransfer+"/GetResponse", relatesTo)
	tf := strconv.FormatBool
	fmt.Fprintf(&b, `<cfg:Config xmlns:cfg="%s"><cfg:MaxEnvelopeSizekb>%d</cfg:MaxEnvelopeSizekb><cfg:MaxTimeoutms>%d</cfg:MaxTimeoutms>`+
		`<cfg:MaxBatchItems>32000</cfg:MaxBatchItems><cfg:MaxProviderRequests>4294967295</cfg:MaxProviderRequests>`+
		`<cfg:Client><cfg:NetworkDelayms>5000</cfg:NetworkDelayms><cfg:URLPrefix>wsman</cfg:URLPrefix><cfg:AllowUnencrypted>false</cfg:AllowUnencrypted>`+
		`<cfg:Auth><cfg:Basic>true</cfg:Basic><cfg:Digest>true</cfg:Digest><cfg:Kerberos>true</cfg:Kerberos><cfg:Negotiate>true</cfg:Negotiate>`+
		`<cfg:Certificate>true</cfg:Certificate><cfg:CredSSP>false</cfg:CredSSP></cfg:Auth>`+
		`<cfg:DefaultPorts><cfg:HTTP>5985</cfg:HTTP><cfg:HTTPS>5986</cfg:HTTPS></cfg:DefaultPorts><cfg:TrustedHosts></cfg:TrustedHosts></cfg:Client>`+
		`<cfg:Service><cfg:RootSDDL>O:NSG:BAD:P(A;;GA;;;BA)(A;;GR;;;IU)S:P(AU;FA;GA;;;WD)(AU;SA;GXGW;;;WD)</cfg:RootSDDL>`+
		`<cfg:MaxConcurrentOperations>4294967295</cfg:MaxConcurrentOperations><cfg:MaxConcurrentOperationsPerUser>1500</cfg:MaxConcurrentOperationsPerUser>`+
		`<cfg:EnumerationTimeoutms>240000</cfg:EnumerationTimeoutms><cfg:MaxConnections>300</cfg:MaxConnections>`+
		`<cfg:MaxPacketRetrievalTimeSeconds>120</cfg:MaxPacketRetrievalTimeSeconds><cfg:AllowUnencrypted>%s</cfg:AllowUnencrypted>`+
		`<cfg:Auth><cfg:Basic>%s</cfg:Basic><cfg:Kerberos>true</cfg:Kerberos><cfg:Negotiate>true</cfg:Negotiate><cfg:Certificate>false</cfg:Certificate>`+
		`<cfg:CredSSP>false</cfg:CredSSP><cfg:CbtHardeningLevel>Relaxed</cfg:CbtHardeningLevel></cfg:Auth>`+
		`<cfg:DefaultPorts><cfg:HTTP>5985</cfg:HTTP><cfg:HTTPS>5986</cfg:HTTPS></cfg:DefaultPorts><cfg:IPv4Filter>*</cfg:IPv4Filter><cfg:IPv6Filter>*</cfg:IPv6Filter>`+
		`<cfg:EnableCompatibilityHttpListener>false</cfg:EnableCompatibilityHttpListener><cfg:EnableCompatibilityHttpsListener>false</cfg:EnableCompatibilityHttpsListener>`+
		`<cfg:CertificateThumbprint></cfg:CertificateThumbprint><cfg:AllowRemoteAccess>true</cfg:AllowRemoteAccess></cfg:Service>`+
		`<cfg:Winrs><cfg:AllowRemoteShellAccess>true</cfg:AllowRemoteShellAccess><cfg:IdleTimeout>7200000</cfg:IdleTimeout>`+
		`<cfg:MaxConcurrentUsers>2147483647</cfg:MaxConcurrentUsers><cfg:MaxShellRunTime>2147483647</cfg:MaxShellRunTime>`+
		`<cfg:MaxProcessesPerShell>2147483647</cfg:MaxProcessesPerShell><cfg:MaxMemoryPerShellMB>2147483647</cfg:MaxMemoryPerShellMB>`+
		`<cfg:MaxShellsPerUser>%d</cfg:MaxShellsPerUser></cfg:Winrs></cfg:Config>`,
		resourceConfig, h.MaxEnvelopeKB, h.MaxTimeoutMS, tf(h.AllowUnencrypted), tf(h.Basic), h.MaxShellsPerUser)
	b.WriteString(envelopeClose)
	return b.Bytes()
}
