package localstack

import "strings"

// closest returns the candidate nearest to name for a "did you mean"
// hint: the smallest edit distance, ignoring case, if it is small for the
// name's length (at most a third of it, and at least 2). Ties go to the
// earlier candidate.
func closest(name string, candidates []string) (string, bool) {
	limit := max(2, len(name)/3)
	best, bestDist := "", limit+1
	folded := strings.ToLower(name)
	for _, c := range candidates {
		if d := editDistance(folded, strings.ToLower(c)); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best, best != ""
}

// editDistance is the Levenshtein distance between a and b in bytes
// (setting names are ASCII).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
