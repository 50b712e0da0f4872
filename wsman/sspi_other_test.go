//go:build !windows

package wsman

import (
	"errors"
	"strings"
	"testing"
)

func sspiClass() Class { return ClassKrbConfig }

func TestNegotiateWithoutCredentialNeedsWindows(t *testing.T) {
	_, err := New(Config{Host: "aadc01.contoso.com", Auth: AuthNegotiate})
	e := wantClass(t, err, ClassKrbConfig)
	if !errors.Is(err, errNoSSPI) || !strings.Contains(e.Message, "only used on Windows") || !strings.Contains(e.Message, "kinit") {
		t.Errorf("%v", e)
	}
}
