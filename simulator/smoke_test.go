package simulator

import "testing"

func TestSmoke(t *testing.T) {
	s := startHosts(t, Host{Name: "aadc01"})
	c := client(t, s, "aadc01", false)
	r := c.run("hostname", nil)
	t.Logf("%q %q %d", r.stdout, r.stderr, r.code)
}
