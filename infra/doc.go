// Package infra holds ffbatch's Azure infrastructure (main.bicep, modules/,
// main.bicepparam) and the Go checks that keep it honest without a Bicep
// compiler on the build machine.
//
// CheckStructure is a structural lint, not a compiler: it finds unbalanced
// braces, brackets and parentheses, unterminated strings and comments,
// parameters without @description, module paths that do not exist,
// bicepparam assignments to unknown parameters, and resource API versions
// outside the list checked against the Azure template reference. It does not
// type-check expressions, resolve symbols across files beyond that, or know
// which properties a resource accepts; `az bicep build` remains the real
// check.
//
// CheckSettings compares the settings internal/config reads with the app
// settings main.bicep gives the function app, with local.settings.json.example
// and with the function.json bindings, and checks that queue, topic,
// container and function names agree across all of them.
package infra
