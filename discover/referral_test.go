package discover

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"aadcready/test/ldapreferral"
)

func TestReferralIsAnError(t *testing.T) {
	host, port, _ := net.SplitHostPort(ldapreferral.Start(t))
	p, _ := strconv.Atoi(port)
	_, err := Run(context.Background(), Config{Host: host, Port: p, TLS: TLSNone, Username: "u@contoso.com", Password: "x",
		Base: "DC=emea,DC=contoso,DC=com", QueryTimeout: 5 * time.Second})
	var de *Error
	if !errors.As(err, &de) || de.Kind != KindReferral || !strings.Contains(err.Error(), ldapreferral.Referral) {
		t.Fatalf("got %v, want a referral error naming where it points", err)
	}
}

func TestQueryDeadline(t *testing.T) {
	host, port, _ := net.SplitHostPort(ldapreferral.StartSilent(t))
	p, _ := strconv.Atoi(port)
	// Without the deadline this would wait for the test binary's timeout.
	_, err := Run(context.Background(), Config{Host: host, Port: p, TLS: TLSNone, Username: "u@contoso.com", Password: "x",
		QueryTimeout: 500 * time.Millisecond})
	var de *Error
	if !errors.As(err, &de) || de.Kind != KindTimeout || !strings.Contains(err.Error(), "--query-timeout") {
		t.Fatalf("got %v, want a timeout naming --query-timeout", err)
	}
}

// An interrupt ends a query that is waiting for the DC, whatever the
// deadline.
func TestInterruptEndsQuery(t *testing.T) {
	host, port, _ := net.SplitHostPort(ldapreferral.StartSilent(t))
	p, _ := strconv.Atoi(port)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	_, err := Run(ctx, Config{Host: host, Port: p, TLS: TLSNone, Username: "u@contoso.com", Password: "x", QueryTimeout: time.Hour})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
}
