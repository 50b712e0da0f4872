package wsman

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"
)

func TestClassify(t *testing.T) {
	dial := func(err error) error {
		return &url.Error{Op: "Post", URL: "http://h:5985/wsman", Err: &net.OpError{Op: "dial", Net: "tcp", Err: err}}
	}
	own := &Error{Class: ClassQuota, Op: "create"}
	cases := []struct {
		name string
		err  error
		want Class
	}{
		{"own error", fmt.Errorf("wrapped: %w", own), ClassQuota},
		{"canceled", context.Canceled, ClassCancelled},
		{"deadline", fmt.Errorf("x: %w", context.DeadlineExceeded), ClassDeadline},
		{"dns", &url.Error{Op: "Post", Err: &net.OpError{Op: "dial", Err: &net.DNSError{Err: "no such host", Name: "h", IsNotFound: true}}}, ClassDNS},
		{"refused", dial(os.NewSyscallError("connect", syscall.ECONNREFUSED)), ClassRefused},
		{"connect timeout", dial(timeoutErr{}), ClassConnectTimeout},
		{"dial other", dial(errors.New("network is unreachable")), ClassNetwork},
		{"response timeout", &url.Error{Op: "Post", Err: timeoutErr{}}, ClassResponseTimeout},
		{"reset", &url.Error{Op: "Post", Err: &net.OpError{Op: "read", Err: os.NewSyscallError("read", syscall.ECONNRESET)}}, ClassNetwork},
		{"eof", &url.Error{Op: "Post", Err: io.EOF}, ClassNetwork},
		{"unknown authority", &url.Error{Op: "Post", Err: x509.UnknownAuthorityError{}}, ClassTLSUnknownAuthority},
		{"name mismatch", &url.Error{Op: "Post", Err: x509.HostnameError{Certificate: &x509.Certificate{}, Host: "h"}}, ClassTLSNameMismatch},
		{"expired", x509.CertificateInvalidError{Reason: x509.Expired}, ClassTLSHandshake},
		{"unsupported auth", fmt.Errorf("x: %w", ErrUnsupportedAuth), ClassUnsupported},
		{"anything else", errors.New("weird"), ClassNetwork},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := Classify(tc.err)
			if e.Class != tc.want || e.Hint == "" || !errors.Is(e, tc.err) && e.Op != own.Op {
				t.Errorf("Classify = %+v, want class %s", e, tc.want)
			}
		})
	}
	if Classify(nil) != nil {
		t.Error("Classify(nil) != nil")
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestEveryClassHasAHint(t *testing.T) {
	all := []Class{ClassDNS, ClassRefused, ClassConnectTimeout, ClassResponseTimeout, ClassDeadline,
		ClassTLSUnknownAuthority, ClassTLSNameMismatch, ClassTLSHandshake, ClassAuthRefused, ClassAccessDenied,
		ClassWSManFault, ClassQuota, ClassShellNotFound, ClassCommandTooLong, ClassHTTPStatus, ClassMalformed,
		ClassNetwork, ClassOutputTooLarge, ClassCancelled, ClassUnsupported,
		ClassKrbNoSPN, ClassKrbSkew, ClassKDCUnreachable, ClassKrbSPNUnknown, ClassKrbClientUnknown, ClassKrbPreauthFailed,
		ClassKrbRevoked, ClassKrbNoTicket, ClassKrbKeytab, ClassKrbEtype, ClassKrbMutual, ClassKrbServiceKey, ClassKrbConfig}
	if len(hints) != len(all) {
		t.Errorf("%d hints for %d classes", len(hints), len(all))
	}
	retryable := map[Class]bool{ClassRefused: true, ClassConnectTimeout: true, ClassResponseTimeout: true, ClassNetwork: true, ClassQuota: true, ClassShellNotFound: true}
	for _, c := range all {
		if hints[c] == "" {
			t.Errorf("%s has no hint", c)
		}
		if c.Retryable() != retryable[c] {
			t.Errorf("%s.Retryable() = %v", c, c.Retryable())
		}
	}
}

func TestErrorText(t *testing.T) {
	e := &Error{Class: ClassQuota, Op: "create", HTTPStatus: 500, FaultCode: FaultMaxShells, Message: "too many shells", Err: io.EOF}
	if got := e.Error(); got != "wsman create: quota (HTTP 500) (fault 2150859173): too many shells" {
		t.Errorf("Error() = %q", got)
	}
	if !errors.Is(e, io.EOF) {
		t.Error("Unwrap lost the cause")
	}
	if strings.Contains(e.Error(), e.Hint) && e.Hint != "" {
		t.Error("hint belongs in Hint, not the error text")
	}
}
