#!/usr/bin/env bash
# scripts/check-clean.sh start|end: `make test` must leave the checkout as
# it found it. "start" notes what git sees (tracked changes, untracked and
# ignored files, one by one); "end" fails with the list of what is new.
# Left out: what make test builds on purpose (node_modules/, .build/,
# packages/client/dist/: the package the pages import) and
# the end-to-end screenshots kept for a person to look at
# (client/e2e/artifacts/). Ignored files count: tickroom-data/ is ignored,
# and a test that records into it must still be caught.
set -euo pipefail
snap=.build/clean-start
list() {
  git status --porcelain --ignored --untracked-files=all -- . \
    ':(exclude)node_modules' ':(exclude).build' ':(exclude)packages/client/dist' ':(exclude)client/e2e/artifacts' | LC_ALL=C sort
}
case "${1:-}" in
start)
  mkdir -p .build
  list >"$snap"
  ;;
end)
  if [ ! -f "$snap" ]; then
    echo "check-clean: no snapshot: run 'scripts/check-clean.sh start' first" >&2
    exit 2
  fi
  new=$(LC_ALL=C comm -13 "$snap" <(list))
  if [ -n "$new" ]; then
    echo "make test left these behind in the checkout (git status --porcelain --ignored):"
    echo "$new"
    exit 1
  fi
  echo "check-clean: the checkout is as make test found it"
  ;;
*)
  echo "usage: scripts/check-clean.sh start|end" >&2
  exit 2
  ;;
esac
