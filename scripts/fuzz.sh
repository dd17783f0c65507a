#!/usr/bin/env bash
# Runs fuzz targets one after another: scripts/fuzz.sh TARGET... where a
# target is package:FuzzName. FUZZTIME (5s, or 1000000x for a count),
# FUZZMINIMIZETIME and FUZZFLAGS (say -parallel=1) come from the
# environment; the Makefile sets them. Logs go to .build/fuzz/NAME.log,
# and each target's last progress line is printed.
set -euo pipefail
: "${FUZZTIME:=5s}" "${FUZZMINIMIZETIME:=2000x}" "${FUZZFLAGS:=}" "${GO:=go}"
mkdir -p .build/fuzz
for t in "$@"; do
  pkg=${t%%:*} name=${t##*:}
  log=.build/fuzz/$name.log
  echo "fuzz $name ($FUZZTIME)"
  # -fuzzminimizetime bounds the minimizing of each new interesting input:
  # at the default 60 s a 5 s run spent nearly all of it minimizing (the
  # tape reader did 15 executions).
  # shellcheck disable=SC2086
  if $GO test -run '^$' -fuzz "^$name\$" -fuzztime "$FUZZTIME" -fuzzminimizetime "$FUZZMINIMIZETIME" $FUZZFLAGS "$pkg" >"$log" 2>&1; then
    grep '^fuzz: elapsed' "$log" | tail -n 1 || true
    continue
  fi
  # Go before 1.27 can fail a duration-bounded run at its deadline with a
  # bare "context deadline exceeded" although no input failed
  # (golang/go#75804). That alone is no finding; anything else is.
  if grep -q '^    context deadline exceeded$' "$log" && ! grep -q 'Failing input written' "$log" && ! grep -q 'panic:' "$log"; then
    grep '^fuzz: elapsed' "$log" | tail -n 1 || true
    echo "fuzz $name: the run ended with Go's 'context deadline exceeded' and no failing input (golang/go#75804): not a finding"
    continue
  fi
  cat "$log"
  exit 1
done
