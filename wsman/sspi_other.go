//go:build !windows

package wsman

import (
	"context"
	"errors"
)

var errNoSSPI = errors.New("SSPI is a Windows interface")

// applySSPI refuses negotiate without a credential: only a Windows jump box
// has a logged-on user whose tickets SSPI can use.
func (s *settings) applySSPI() error {
	e := newError(ClassKrbConfig, "connect", "no credential for negotiate: the logged-on user (SSPI) is only used on Windows; give a ticket cache (kinit), a keytab or a password", errNoSSPI)
	return e
}

func (c *Client) authenticateSSPI(context.Context, *authConn) error { return errNoSSPI }
