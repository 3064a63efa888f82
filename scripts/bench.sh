#!/usr/bin/env bash
# Runs every benchmark reported in BENCHMARKS.md and keeps the raw output in
# .local/bench/<timestamp>.txt. Benchmarks report ratios against a baseline
# measured in the same run; they never fail on timing.
#
# Usage: scripts/bench.sh [quick|many]   ("quick" skips the two 24-file
# runs; "many" runs only BenchmarkManyFiles, FFBATCH_BENCH_FILES files,
# default 10,000: make bench-10k)
set -euo pipefail
cd "$(dirname "$0")/.."
out=".local/bench/$(date -u +%Y%m%dT%H%M%SZ).txt"
mkdir -p "$(dirname "$out")"
run() { # pkg pattern benchtime
  echo "== go test -run '^\$' -bench '$2' -benchtime $3 $1" | tee -a "$out"
  go test -run '^$' -bench "$2" -benchtime "$3" -benchmem -timeout 60m "$1" 2>&1 | tee -a "$out"
}
if [ "${1:-}" = many ]; then
  run ./bench/pipeline/ 'ManyFiles' 1x
  echo "raw results: $out"
  exit 0
fi
run ./internal/batch/ 'AddTasks10000$' 3x
run ./bench/ 'AddTasks10000Emulator|SubmitToRunning' 3x
run ./handlers/ 'SubmitTasks10000' 1x
run ./internal/lifecycle/ 'StoreAgainstAzurite' 1x
run ./internal/lifecycle/ 'StatusPage10000' 1x
run ./internal/lifecycle/ 'CLIStatus10000' 1x
run ./cmd/handler/ 'ColdStart' 20x
run ./emulators/sbemu/ 'SendBatched|ReceiveComplete' 2s
run ./emulators/sbemu/ 'QueuedMemory' 1x
run ./emulators/sbemu/internal/broker/ '.' 1s
run ./bench/pipeline/ 'UploadToMP3Latency' 1x
run ./bench/pipeline/ 'UploadToResultEvent' 1x
run ./bench/pipeline/ 'SubmitToWatchExit' 1x
if [ "${1:-}" != quick ]; then
  run ./bench/ 'Transcode24' 3x
  run ./bench/pipeline/ 'TwentyFourThreeMinuteFiles' 2x
fi
echo "raw results: $out"
