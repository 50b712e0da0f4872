package wsman

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"syscall"
)

// Class is a stable, machine-readable category of a WinRM failure. Reports
// and retry decisions key on it; the text of an Error is for humans.
type Class string

// Error classes.
const (
	ClassDNS                 Class = "dns"
	ClassRefused             Class = "refused"
	ClassConnectTimeout      Class = "connect_timeout"
	ClassResponseTimeout     Class = "response_timeout"
	ClassDeadline            Class = "deadline"
	ClassTLSUnknownAuthority Class = "tls_unknown_authority"
	ClassTLSNameMismatch     Class = "tls_name_mismatch"
	ClassTLSHandshake        Class = "tls_handshake"
	ClassAuthRefused         Class = "auth_refused"
	ClassAccessDenied        Class = "access_denied"
	ClassWSManFault          Class = "wsman_fault"
	ClassQuota               Class = "quota"
	ClassShellNotFound       Class = "shell_not_found"
	ClassCommandTooLong      Class = "command_too_long"
	ClassHTTPStatus          Class = "http_status"
	ClassMalformed           Class = "malformed"
	ClassNetwork             Class = "network"
	ClassOutputTooLarge      Class = "output_too_large"
	ClassCancelled           Class = "cancelled"
	ClassUnsupported         Class = "unsupported"

	// Kerberos (auth kerberos and negotiate).
	ClassKrbNoSPN         Class = "kerberos_no_spn"           // host named by IP: no SPN to ask a ticket for
	ClassKrbSkew          Class = "kerberos_clock_skew"       // KRB_AP_ERR_SKEW
	ClassKDCUnreachable   Class = "kdc_unreachable"           // no KDC answered
	ClassKrbSPNUnknown    Class = "kerberos_spn_unknown"      // KDC_ERR_S_PRINCIPAL_UNKNOWN
	ClassKrbClientUnknown Class = "kerberos_client_unknown"   // KDC_ERR_C_PRINCIPAL_UNKNOWN
	ClassKrbPreauthFailed Class = "kerberos_preauth_failed"   // wrong password or stale keytab
	ClassKrbRevoked       Class = "kerberos_account_disabled" // locked out, disabled or password expired
	ClassKrbNoTicket      Class = "kerberos_no_ticket"        // ticket cache missing or expired
	ClassKrbKeytab        Class = "kerberos_keytab"           // keytab unreadable or without the principal
	ClassKrbEtype         Class = "kerberos_etype"            // no common AES encryption type
	ClassKrbMutual        Class = "kerberos_mutual_auth"      // the server did not prove it holds the service key
	ClassKrbServiceKey    Class = "kerberos_service_key"      // the server cannot decrypt its ticket (KRB_AP_ERR_MODIFIED)
	ClassKrbConfig        Class = "kerberos_config"           // krb5.conf, realm or principal missing or wrong
)

// Retryable reports whether trying the same host again later may succeed
// without anyone changing anything: transient network trouble, quotas, and
// a shell lost to a WinRM service restart (a new shell works; field notes
// §2). A caller's own deadline is not retryable: it is the budget, not the
// host.
func (c Class) Retryable() bool {
	switch c {
	case ClassRefused, ClassConnectTimeout, ClassResponseTimeout, ClassNetwork, ClassQuota, ClassShellNotFound:
		return true
	}
	return false
}

// WS-Management fault codes (f:WSManFault/@Code) the client acts on.
const (
	FaultOperationTimeout uint64 = 2150858793 // Receive saw no output within OperationTimeout
	FaultShellNotFound    uint64 = 2150858843 // shell or command id unknown
	FaultMaxShells        uint64 = 2150859173 // MaxShellsPerUser
	FaultMaxOperations    uint64 = 2150859174 // MaxConcurrentOperationsPerUser
	FaultCommandTooLong   uint64 = 2147942606 // command line > 32,767 characters
	FaultAccessDenied     uint64 = 5
)

// ErrUnsupportedAuth is returned by New for auth methods this client does not
// implement (certificate).
var ErrUnsupportedAuth = errors.New("wsman: unsupported auth method")

// Error is every failure Run and New return. Message is text that came from
// the remote host or the network stack and must be treated as untrusted.
type Error struct {
	Class      Class
	Op         string // create, command, send, receive, signal, delete, connect
	HTTPStatus int
	FaultCode  uint64
	Message    string
	Hint       string
	Err        error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("wsman")
	if e.Op != "" {
		b.WriteString(" " + e.Op)
	}
	b.WriteString(": " + string(e.Class))
	if e.HTTPStatus != 0 {
		fmt.Fprintf(&b, " (HTTP %d)", e.HTTPStatus)
	}
	if e.FaultCode != 0 {
		fmt.Fprintf(&b, " (fault %d)", e.FaultCode)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// hints says what a human should check for each class.
var hints = map[Class]string{
	ClassDNS:                 "the host name does not resolve: check the inventory name and the scanner's DNS",
	ClassRefused:             "nothing listens on that port: check the WinRM listener (5985 HTTP, 5986 HTTPS) and the host firewall",
	ClassConnectTimeout:      "no answer to the TCP connection: host down, a firewall dropping packets, or a wrong address",
	ClassResponseTimeout:     "the WinRM service accepted the connection but did not answer in time: service hung or overloaded",
	ClassDeadline:            "the host did not finish within --host-timeout: a hung WinRM service or a probe stuck on the host (WMI); facts from probes that finished are kept",
	ClassTLSUnknownAuthority: "the listener's certificate is not issued by a trusted CA: add the issuing CA to the inventory (ca_file) rather than disabling verification",
	ClassTLSNameMismatch:     "the listener's certificate does not name this host: connect by the name in the certificate (server_name) or reissue it",
	ClassTLSHandshake:        "the TLS handshake failed: check the HTTPS listener's certificate (expiry, key usage) and TLS versions",
	ClassAuthRefused:         "the credentials were rejected: check user name, domain and password, and that the auth method is enabled in WinRM/Config/Service/Auth",
	ClassAccessDenied:        "the account authenticated but may not use WinRM: it must be a local Administrator or in Remote Management Users",
	ClassWSManFault:          "the WinRM service refused the request: see the fault message",
	ClassQuota:               "a per-user WinRM quota is exhausted (MaxShellsPerUser, MaxConcurrentOperationsPerUser): back off and retry; look for leaked shells",
	ClassShellNotFound:       "the shell or command no longer exists (idle timeout or WinRM service restart): retry with a new shell",
	ClassCommandTooLong:      "the command line is longer than 32,767 characters: send the script through stdin",
	ClassHTTPStatus:          "the server answered with an unexpected HTTP status: is this a WinRM listener (URL prefix /wsman)? 413 means lower max_envelope_kb",
	ClassMalformed:           "the response is not valid WS-Management: not a WinRM service, or a device in between alters traffic",
	ClassNetwork:             "the connection broke: network or host trouble",
	ClassOutputTooLarge:      "the host wrote far more output than the probes ever print (8 MiB cap): look at the host; --save-raw keeps what arrived",
	ClassCancelled:           "the scan was cancelled",
	ClassUnsupported:         "this client does not support that configuration: use kerberos, negotiate or ntlm (sealed over HTTP), or basic over HTTPS",

	ClassKrbNoSPN:         "Kerberos needs the host's name, not an IP address, to build its SPN HTTP/<name>: put the FQDN in the inventory (and the IP in address:), or set kerberos.spn (--spn); or use auth negotiate with ntlm_fallback: true (--ntlm-fallback) where the account may use NTLM",
	ClassKrbSkew:          "the clocks of this machine, the KDC and the host differ by more than 5 minutes: fix NTP (w32tm /query /status on the host, timedatectl here)",
	ClassKDCUnreachable:   "no KDC answered on port 88: check kerberos.kdc or krb5.conf's [realms] for the realm, DNS and the firewall to the domain controllers (TCP and UDP 88)",
	ClassKrbSPNUnknown:    "the KDC knows no account with this host's SPN: check the name (FQDN, not an alias), run setspn -Q HTTP/<fqdn> (and WSMAN/<fqdn>) on a domain controller, or set kerberos.spn",
	ClassKrbClientUnknown: "the KDC does not know this user: check the user name and the realm (user@REALM, realm in capitals)",
	ClassKrbPreauthFailed: "the KDC refused the password or keytab (pre-authentication failed): this counts toward the account's lockout; the credential is not used again in this run; check it, then rerun",
	ClassKrbRevoked:       "the KDC refused the account: locked out, disabled or its password expired; ask the domain admins",
	ClassKrbNoTicket:      "no usable ticket: run kinit user@REALM (check klist and KRB5CCNAME), or give the host a keytab or password source",
	ClassKrbKeytab:        "the keytab is unreadable or holds no AES key for the principal: check keytab:, the principal's spelling and realm (klist -kte FILE)",
	ClassKrbEtype:         "no common AES encryption type: the account or the host's computer account allows only RC4/DES; enable AES (msDS-SupportedEncryptionTypes) and reset the password",
	ClassKrbMutual:        "the server did not prove its identity (mutual authentication failed): something other than the real host answered, or it cannot use its service key; do not trust this endpoint",
	ClassKrbServiceKey:    "the host could not decrypt its service ticket: its keytab or computer account password is out of step with the KDC, or the SPN is registered on another account (setspn -X)",
	ClassKrbConfig:        "the Kerberos configuration is incomplete: set kerberos.realm and kerberos.kdc, or krb5_conf, and write the user as user@REALM",
}

// hintUnsealed401 is appended to auth_refused when the request was sent
// without sealing over HTTP: Windows answers such requests with 401 too.
const hintUnsealed401 = "; but note: an HTTP host refusing unsealed traffic also answers 401 (AllowUnencrypted=false is the Windows default), so use ntlm with sealing (allow_unencrypted=false) or HTTPS"

func newError(class Class, op, msg string, err error) *Error {
	return &Error{Class: class, Op: op, Message: msg, Hint: hints[class], Err: err}
}

// Classify maps any error to an *Error. Errors that already are (or wrap) an
// *Error are returned as that Error (with its class's hint if it had none);
// everything else is classified by type: context errors, DNS, dial, TLS and
// HTTP transport errors.
func Classify(err error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		if e.Hint == "" {
			c := *e
			c.Hint = hints[c.Class]
			return &c
		}
		return e
	}
	class := classOf(err)
	return newError(class, "", err.Error(), err)
}

func classOf(err error) Class {
	var (
		dnsErr   *net.DNSError
		unknown  x509.UnknownAuthorityError
		hostErr  x509.HostnameError
		certErr  x509.CertificateInvalidError
		recErr   tls.RecordHeaderError
		alertErr tls.AlertError
		verErr   *tls.CertificateVerificationError
		opErr    *net.OpError
		urlErr   *url.Error
	)
	switch {
	case errors.Is(err, context.Canceled):
		return ClassCancelled
	case errors.Is(err, context.DeadlineExceeded):
		return ClassDeadline
	case errors.Is(err, errResponseTimeout):
		return ClassResponseTimeout
	case errors.Is(err, ErrUnsupportedAuth):
		return ClassUnsupported
	case errors.As(err, &dnsErr):
		return ClassDNS
	case errors.As(err, &unknown):
		return ClassTLSUnknownAuthority
	case errors.As(err, &hostErr):
		return ClassTLSNameMismatch
	case errors.As(err, &certErr), errors.As(err, &recErr), errors.As(err, &alertErr), errors.As(err, &verErr):
		return ClassTLSHandshake
	case errors.Is(err, syscall.ECONNREFUSED):
		return ClassRefused
	case errors.As(err, &opErr) && opErr.Op == "dial":
		if opErr.Timeout() {
			return ClassConnectTimeout
		}
		return ClassNetwork
	case errors.As(err, &urlErr) && urlErr.Timeout():
		return ClassResponseTimeout
	case isTimeout(err):
		return ClassResponseTimeout
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE), errors.Is(err, net.ErrClosed), errors.As(err, &opErr):
		return ClassNetwork
	}
	return ClassNetwork
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}
