package inventory

import (
	"reflect"
	"testing"
)

func TestOnly(t *testing.T) {
	inv := &Inventory{Path: "inv.yaml", Hosts: []Host{{Name: "aadc01"}, {Name: "AADC02"}, {Name: "aadc03"}}}
	if got := inv.Names(); !reflect.DeepEqual(got, []string{"aadc01", "AADC02", "aadc03"}) {
		t.Errorf("Names() = %v", got)
	}
	only, missing := inv.Only([]string{"aadc03", "retired", "aadc02"})
	if only.Path != "inv.yaml" || !reflect.DeepEqual(only.Names(), []string{"aadc03", "AADC02"}) {
		t.Errorf("Only picked %q from %s", only.Names(), only.Path)
	}
	if !reflect.DeepEqual(missing, []int{1}) {
		t.Errorf("missing = %v, want [1]", missing)
	}
}
