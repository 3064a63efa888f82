# ffbatch: the two commands that matter are `make run` and `make test`.
SHELL := /bin/bash
GO    ?= go
BIN   := bin
PKGS  := ./...

.PHONY: all bootstrap build run test check fmt vet tidy-check lint-imports unit bench clean

all: build

## bootstrap: install ffmpeg, Azurite (npm ci) and Go modules where missing
bootstrap:
	@scripts/bootstrap.sh

## build: compile every binary into bin/
build:
	$(GO) build -o $(BIN)/ ./cmd/...

## run: the main job locally (MP4s in, MP3s out) through the local stack
run: bootstrap build
	$(GO) run ./examples/tutorial -state .local/tutorial

## test: everything CI runs (installs what is missing, starts and stops the services tests need)
test: bootstrap check

## check: the whole gate: gofmt, vet, go mod tidy, import rules, tests with -race
check: fmt vet tidy-check unit

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null; git ls-files -o --exclude-standard '*.go' 2>/dev/null)); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

tidy-check:
	$(GO) mod tidy -diff

## unit: all Go tests with the race detector (import rules are a test in internal/archtest)
unit:
	$(GO) test -race -timeout 20m -count=1 $(PKGS)

## bench: benchmarks whose results go into BENCHMARKS.md
bench: bootstrap
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 60m ./bench/... ./internal/batch/...

clean:
	rm -rf $(BIN) dist .local
