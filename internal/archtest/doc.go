// Package archtest holds tests that enforce the project's import rules
// (see STYLE.md and docs/architecture.md). It has no production code.
package archtest
