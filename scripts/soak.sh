#!/usr/bin/env bash
# Runs the long chaos test (e2e TestChaos with FFBATCH_SOAK=1: 400 files a
# seed, 40 kills, up to 25 minutes to answer everything; Azurite stopped
# with SIGTERM, or SIGKILLed too with SOAK_AZURITE_SIGKILL=1), keeps the raw
# output in .local/soak/<timestamp>.txt and writes the summary to
# docs/soak.md.
#
# Usage: scripts/soak.sh [SEED]   (one seed only, e.g. 11; default: all)
set -uo pipefail
cd "$(dirname "$0")/.."
stamp=$(date -u +%Y-%m-%dT%H:%M:%SZ)
# The code under test: taken before the run (and before docs/soak.md is
# rewritten, which would otherwise count as a local change).
commit="$(git rev-parse --short HEAD)$(git diff --quiet || echo ' (with local changes)')"
out=".local/soak/$(date -u +%Y%m%dT%H%M%SZ).txt"
mkdir -p "$(dirname "$out")"
run='^TestChaos$'
[ $# -gt 0 ] && run="^TestChaos\$/^seed_$1\$"
FFBATCH_SOAK=1 FFBATCH_SOAK_AZURITE_SIGKILL="${SOAK_AZURITE_SIGKILL:-}" go test -count=1 -timeout 4h -v -run "$run" ./e2e 2>&1 | tee "$out"
status=${PIPESTATUS[0]}
verdict=PASS
[ "$status" -eq 0 ] || verdict=FAIL
{
  echo "# Soak test: latest result"
  echo
  echo "Written by \`make soak\` (scripts/soak.sh): e2e \`TestChaos\` with \`FFBATCH_SOAK=1\`"
  echo "(docs/local-stack.md, \"Chaos and soak tests\"). Raw output: \`$out\` on the machine that ran it."
  echo
  echo "- When: $stamp"
  echo "- Commit: $commit"
  echo "- Machine: $(nproc) CPUs, $(uname -sr)"
  echo "- Seeds: ${1:-all}"
  echo "- Azurite: $([ "${SOAK_AZURITE_SIGKILL:-}" = 1 ] && echo 'SIGKILLed like the rest' || echo 'stopped with SIGTERM')"
  echo "- Result: **$verdict**"
  echo
  echo '```'
  grep -E '^\s*(--- (PASS|FAIL)|chaos_test.go:[0-9]+: (seed|kill|[0-9]+ requests)|ok|FAIL)' "$out" | sed 's/^[[:space:]]*//'
  echo '```'
} > docs/soak.md
exit "$status"
