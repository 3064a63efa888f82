package plan

import (
	"fmt"
	"strings"
)

// MaxTaskSlotsPerNode is Batch's cap on a pool's taskSlotsPerNode whatever
// the VM size: "the smaller of 4 times the number of cores of the vmSize of
// the pool or 256" (Batch pool API reference, taskSlotsPerNode).
const MaxTaskSlotsPerNode = 256

// slotsPerCore is how many task slots Batch allows per vCPU.
const slotsPerCore = 4

// vmFamilies are the VM sizes whose vCPU counts this package knows: the
// general-purpose and compute-optimized families docs/deploy.md and
// docs/capacity.md recommend for ffmpeg. In these names the number is the
// vCPU count (learn.microsoft.com/azure/virtual-machines/vm-naming-conventions);
// sizes with constrained vCPUs ("E8-2s_v5") and older series whose numbers
// are not vCPUs ("D11_v2") are deliberately not listed.
var vmFamilies = []struct {
	format string // fmt pattern with %d for the vCPU count
	vcpus  []int
}{
	{"Standard_D%d_v3", []int{2, 4, 8, 16, 32, 48, 64}},
	{"Standard_D%ds_v3", []int{2, 4, 8, 16, 32, 48, 64}},
	{"Standard_D%ds_v5", []int{2, 4, 8, 16, 32, 48, 64, 96}},
	{"Standard_D%dds_v5", []int{2, 4, 8, 16, 32, 48, 64, 96}},
	{"Standard_D%das_v5", []int{2, 4, 8, 16, 32, 48, 64, 96}},
	{"Standard_F%ds_v2", []int{2, 4, 8, 16, 32, 48, 64, 72}},
}

// vmCores maps lower-case VM size names to vCPUs, built from vmFamilies.
var vmCores = func() map[string]int {
	m := map[string]int{}
	for _, f := range vmFamilies {
		for _, n := range f.vcpus {
			m[strings.ToLower(fmt.Sprintf(f.format, n))] = n
		}
	}
	return m
}()

// VMCores returns the vCPU count of vmSize when this package knows the
// size. Batch compares VM size names case-insensitively, and so does this.
func VMCores(vmSize string) (int, bool) {
	n, ok := vmCores[strings.ToLower(strings.TrimSpace(vmSize))]
	return n, ok
}

// MaxTaskSlots returns the most task slots per node Batch accepts for a
// pool of vmSize: 4 × its vCPUs, at most MaxTaskSlotsPerNode. For a size
// this package does not know it returns MaxTaskSlotsPerNode and false;
// Batch may still refuse less.
func MaxTaskSlots(vmSize string) (int, bool) {
	n, ok := VMCores(vmSize)
	if !ok {
		return MaxTaskSlotsPerNode, false
	}
	return min(slotsPerCore*n, MaxTaskSlotsPerNode), true
}
