# ffbatch: the two commands that matter are `make run` and `make test`.
# `make` alone (or `make help`) lists the targets from their `##` lines.
SHELL := /bin/bash
GO    ?= go
BIN   := bin
PKGS  := ./...
# STATE: the local stack's state directory for run and dev (default: the
# project's .local, found by ffbatch).
STATE ?=
STATEFLAG = $(if $(STATE),-state '$(STATE)')

.DEFAULT_GOAL := help
.PHONY: help all bootstrap build run dev tutorial test check fmt vet tidy-check unit conformance-azure soak bench bench-10k dist package publish deploy clean

## help: list the targets (what `make` alone does)
help:
	@awk '/^## [a-z-]+:/ { name = $$2; sub(/:$$/, "", name); line = $$0; sub(/^## [a-z-]+: /, "", line); printf "  make %-10s %s\n", name, line }' $(MAKEFILE_LIST)

## all: the same as build
all: build

## bootstrap: install ffmpeg, Azurite (npm ci) and Go modules where missing
bootstrap:
	@scripts/bootstrap.sh

## build: compile every binary into bin/
build:
	$(GO) build -o $(BIN)/ ./cmd/...

## run: the main job locally: start the stack, transcode 5 sample MP4s, print a summary, stop (RUNFLAGS=, STATE=DIR)
run: bootstrap build
	$(BIN)/ffbatch $(STATEFLAG) run $(RUNFLAGS)

## dev: start the local stack and leave it running for manual drops; Ctrl-C or `bin/ffbatch down` stops it (RUNFLAGS=, STATE=DIR)
dev: bootstrap build
	$(BIN)/ffbatch $(STATEFLAG) up $(RUNFLAGS)

## tutorial: Microsoft's Batch ffmpeg tutorial in Go (examples/tutorial) on Azurite + the Batch emulator
tutorial: bootstrap
	$(GO) run ./examples/tutorial -state .local/tutorial

## test: everything CI runs (installs what is missing, starts and stops the services tests need)
test: bootstrap check

## check: the whole gate: gofmt, vet, go mod tidy, import rules, tests with -race
check: fmt vet tidy-check unit

## fmt: fail when a Go file needs gofmt
fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null; git ls-files -o --exclude-standard '*.go' 2>/dev/null)); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

## vet: go vet ./...
vet:
	$(GO) vet $(PKGS)

## tidy-check: fail when go.mod or go.sum need go mod tidy
tidy-check:
	$(GO) mod tidy -diff

## unit: all Go tests with the race detector (import rules are a test in internal/archtest)
unit:
	$(GO) test -race -timeout 20m -count=1 $(PKGS)

## conformance-azure: the Batch and Service Bus conformance suites against real Azure (FFBATCH_CONFORMANCE_* set; see docs/emulator-fidelity.md)
conformance-azure:
	$(GO) test -count=1 -timeout 90m -v -run '^TestAzure' ./internal/batch/batchtest ./emulators/sbemu

## soak: the long chaos test (400 files a seed, 40 kills; SOAK_AZURITE_SIGKILL=1 kills Azurite too); writes docs/soak.md
soak: bootstrap
	scripts/soak.sh

## bench: benchmarks whose results go into BENCHMARKS.md
bench: bootstrap
	scripts/bench.sh

## bench-10k: 10,000 one-second MP4s dropped at once into the local stack (an hour or more on 2 cores; FILES=2000 for fewer)
bench-10k: bootstrap
	FFBATCH_BENCH_FILES=$(or $(FILES),10000) scripts/bench.sh many

## dist: the deployable function app in dist/ (host.json, static linux/amd64 handler, one folder per function)
dist:
	rm -rf dist && mkdir -p dist
	CGO_ENABLED=0 GOOS=linux GOARCH=amd64 $(GO) build -trimpath -ldflags='-s -w' -o dist/handler ./cmd/handler
	chmod 0755 dist/handler
	cp host.json dist/
	cp -R function-definitions/. dist/

## package: dist/ zipped for Elastic Premium's run-from-package blob: bin/ffbatch.zip (Unix modes kept, handler executable)
package: dist
	mkdir -p $(BIN) && rm -f $(BIN)/ffbatch.zip
	cd dist && zip -q -r -X ../$(BIN)/ffbatch.zip .

## publish: build and publish the code: make publish RG=<rg> [DEPLOYMENT=ffbatch-infra] or APP=<function app> (needs az login; func on Flex Consumption, zip on Elastic Premium)
publish:
	@test -n "$(RG)$(APP)" || { echo "usage: make publish RG=<resource group> [DEPLOYMENT=ffbatch-infra] | APP=<function app name>" >&2; exit 2; }
	@if [ -n "$(RG)" ]; then scripts/publish.sh "$(RG)" "$(or $(DEPLOYMENT),ffbatch-infra)"; else scripts/publish.sh --app "$(APP)"; fi

## deploy: infrastructure, code, Event Grid subscription: make deploy RG=<rg> LOCATION=<region> (needs az, func)
deploy:
	@{ test -n "$(RG)" && test -n "$(LOCATION)"; } || { echo "usage: make deploy RG=<resource group> LOCATION=<region>" >&2; exit 2; }
	scripts/deploy.sh "$(RG)" "$(LOCATION)"

## clean: remove bin/, dist/ and the local stack's state in .local/ (stop a running stack first: bin/ffbatch down)
clean:
	rm -rf $(BIN) dist .local
