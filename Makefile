# tickroom's one test command: `make test`. It installs what it needs on a
# fresh machine with Go and Node.js (npm ci; Chromium through apt-get when it
# is missing and we are root), then runs every check CI runs.

GO ?= go
NPM ?= npm

# The netcode feel harness (docs/NETCODE.md): not part of `make test`. It
# prints the scores table; NETCODE_JSON=FILE also writes them as JSON,
# NETCODE_ONLY=S2,S3 runs some scenarios, NETCODE_SECONDS the recorded time
# of each (20 s), NETCODE_STRIP=DIR saves a strip of screenshots of each.
NETCODE_JSON ?=
NETCODE_ONLY ?=
NETCODE_SECONDS ?= 20
NETCODE_STRIP ?=

.PHONY: netcode test clean-start clean-check deps go-checks go-test client-checks bundle-check client-unit e2e build run bench fuzz

# Every fuzz target, as package:Target: every decoder of bytes from outside
# (docs/SECURITY.md). Each runs for FUZZTIME in `make test` (a smoke run from
# its committed seeds); run longer with FUZZTIME=5m, or by count with
# FUZZTIME=1000000x. FUZZMINIMIZETIME bounds the minimizing of each new
# input; FUZZFLAGS is passed on (say FUZZFLAGS=-parallel=1).
FUZZ_TARGETS = ./state:FuzzDecodeClient ./state:FuzzMirrorApply ./state:FuzzMirrorApplyView ./state:FuzzDecodeWelcome ./state:FuzzWellSized \
	./rooms/tape:FuzzReader ./rooms/tape:FuzzReaderChecksummed ./rooms/arena:FuzzArenaInputs ./rooms/board:FuzzBoardInputs \
	./server:FuzzCreateRoomBody ./server:FuzzAdminKickBody ./server:FuzzLinkRole ./server:FuzzVerifyPlayer \
	./state:FuzzLoadWorld ./rooms:FuzzDecodeCheckpoint
FUZZTIME ?= 5s
FUZZMINIMIZETIME ?= 2000x
FUZZFLAGS ?=

test: clean-start deps go-checks go-test fuzz client-checks client-unit e2e clean-check
	@echo "make test: all checks passed"

# make test leaves the checkout as it found it (scripts/check-clean.sh).
clean-start:
	@scripts/check-clean.sh start

clean-check:
	@scripts/check-clean.sh end

deps:
	@$(NPM) ci --no-audit --no-fund --loglevel=error
	@scripts/ensure-chromium.sh

go-checks:
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '^node_modules/')); \
	  if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

go-test:
	$(GO) test -race -count=1 -timeout 10m ./...

client-checks: bundle-check
	$(NPM) run --silent typecheck
	$(NPM) run --silent size
	@scripts/lint-dockerfile.sh

# The built bundle is committed (go:embed serves it); a fresh build must
# produce the same bytes. `npm run build` builds @tickroom/client
# (packages/client/dist, not committed) first: the pages import it.
bundle-check:
	@rm -rf .build/dist-committed && mkdir -p .build && cp -r assets/dist .build/dist-committed
	@$(NPM) run --silent build
	@if ! diff -r .build/dist-committed assets/dist >/dev/null; then \
	  echo "assets/dist differs from a fresh build: run 'npm run build' and commit assets/dist"; \
	  diff -rq .build/dist-committed assets/dist; exit 1; fi
	@echo "bundle-check: committed bundle matches a fresh build"

client-unit:
	$(NPM) run --silent test:unit

e2e:
	$(NPM) run --silent test:e2e

build:
	$(NPM) run --silent build
	$(GO) build -o tickroom ./cmd/tickroom

run:
	$(GO) run ./cmd/tickroom

netcode: deps
	$(NPM) run --silent build
	NETCODE_JSON="$(NETCODE_JSON)" node --experimental-websocket client/netcode/harness.mjs --seconds $(NETCODE_SECONDS) \
	  $(if $(NETCODE_ONLY),--only $(NETCODE_ONLY)) $(if $(NETCODE_STRIP),--strip $(NETCODE_STRIP))

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./state/ ./rooms/...

fuzz:
	@GO=$(GO) FUZZTIME=$(FUZZTIME) FUZZMINIMIZETIME=$(FUZZMINIMIZETIME) FUZZFLAGS="$(FUZZFLAGS)" scripts/fuzz.sh $(FUZZ_TARGETS)
