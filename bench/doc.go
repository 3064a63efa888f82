// Package bench holds the project's end-to-end benchmarks. Each benchmark
// measures a baseline in the same run and reports its result as a ratio
// against it (see BENCHMARKS.md). Benchmarks report; they never assert
// timing targets.
//
// Run them with `make bench`.
package bench
