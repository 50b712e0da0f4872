package scanner

import (
	"testing"

	"aadcready/results"
)

func TestDescribeInWords(t *testing.T) {
	for _, c := range []struct {
		f    results.Failure
		want string
	}{
		{results.Failure{Class: "deadline", Op: "create", Message: "not finished within the host deadline (4s)"},
			"timed out while opening a remote shell: not finished within the host deadline (4s)"},
		{results.Failure{Class: "refused", Op: "connect", Message: "dial tcp 127.0.10.9:5985: connect: connection refused"},
			"connection refused while connecting: dial tcp 127.0.10.9:5985: connect: connection refused"},
		{results.Failure{Class: "credential", Message: "AADCREADY_PASSWORD is not set"}, "password not available: AADCREADY_PASSWORD is not set"},
		// A class or step this table does not know yet still reads.
		{results.Failure{Class: "new_class", Op: "new_op", Message: "m"}, "new_class during new_op: m"},
	} {
		if got := describe(&c.f); got != c.want {
			t.Errorf("describe(%+v) = %q, want %q", c.f, got, c.want)
		}
	}
}
