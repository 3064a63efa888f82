package plan

import (
	"fmt"
	"regexp"
	"strconv"
	"testing"
)

func TestMaxTaskSlots(t *testing.T) {
	tests := []struct {
		size      string
		want      int
		wantKnown bool
	}{
		{"Standard_D2s_v3", 8, true}, // the default VM size
		{"standard_d2s_v3", 8, true}, // Batch ignores case
		{" Standard_D4s_v3 ", 16, true},
		{"Standard_D8s_v5", 32, true},
		{"Standard_D16as_v5", 64, true},
		{"Standard_F4s_v2", 16, true},
		{"Standard_F72s_v2", 256, true}, // 4 × 72 = 288, capped
		{"Standard_D96ds_v5", 256, true},
		{"Standard_D11_v2", MaxTaskSlotsPerNode, false}, // not a vCPU count in the name
		{"Standard_E8-2s_v5", MaxTaskSlotsPerNode, false},
		{"", MaxTaskSlotsPerNode, false},
	}
	for _, tc := range tests {
		got, known := MaxTaskSlots(tc.size)
		if got != tc.want || known != tc.wantKnown {
			t.Errorf("MaxTaskSlots(%q) = %d, %v; want %d, %v", tc.size, got, known, tc.want, tc.wantKnown)
		}
	}
}

// TestVMFamiliesFollowTheNamingConvention: in every listed size the number
// after the family letter is the vCPU count, so a typo in a family pattern
// or a count cannot give a size the wrong limit.
func TestVMFamiliesFollowTheNamingConvention(t *testing.T) {
	number := regexp.MustCompile(`^Standard_[A-Z]([0-9]+)[a-z]*_v[0-9]+$`)
	seen := map[string]bool{}
	for _, f := range vmFamilies {
		for _, n := range f.vcpus {
			name := fmt.Sprintf(f.format, n)
			m := number.FindStringSubmatch(name)
			if m == nil {
				t.Errorf("%s does not look like a VM size whose number is its vCPU count", name)
				continue
			}
			if got, _ := strconv.Atoi(m[1]); got != n {
				t.Errorf("%s: number %s in the name, %d vCPUs in the table", name, m[1], n)
			}
			if seen[name] {
				t.Errorf("%s listed twice", name)
			}
			seen[name] = true
			if cores, ok := VMCores(name); !ok || cores != n {
				t.Errorf("VMCores(%s) = %d, %v; want %d, true", name, cores, ok, n)
			}
		}
	}
}
