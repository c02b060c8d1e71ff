# oauthsim — see README.md.
GO      ?= go
BIN     := bin/oauthsim
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
ARGS    ?=

OUT     ?= reports/out

.PHONY: run serve build test tour browser browser-assets browser-clients-test browser-clients browser-sdks vet fmtcheck staticcheck fuzz bench adapters independent clean

## run: run the conformance suite on the reference token manager, every broken variant
## (each must fail: they are broken on purpose) and, where Node 20 or later is on PATH,
## the independent correct client (clients/independent), and write the reports to $(OUT)
INDEPENDENT := node clients/independent/independent.js
run: build
	@if node -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)' 2> /dev/null; then \
	  echo "./$(BIN) conform --client all --client-cmd '$(INDEPENDENT)' --expect-fail 'mutant/*' --out $(OUT) $(ARGS)"; \
	  ./$(BIN) conform --client all --client-cmd '$(INDEPENDENT)' --expect-fail 'mutant/*' --out $(OUT) $(ARGS); \
	else \
	  echo "make run: no Node 20 or later on PATH, so the independent client (clients/independent) is left out"; \
	  echo "./$(BIN) conform --client all --expect-fail 'mutant/*' --out $(OUT) $(ARGS)"; \
	  ./$(BIN) conform --client all --expect-fail 'mutant/*' --out $(OUT) $(ARGS); \
	fi

## serve: start the simulated provider on 127.0.0.1:8090 (ARGS="--config f.yaml" to add flags)
serve: build
	./$(BIN) serve $(ARGS)

## build: build bin/oauthsim
build:
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/oauthsim

## test: formatting, vet, staticcheck, and every Ginkgo suite under the race detector
test: fmtcheck vet staticcheck
	$(GO) test -race -count=1 ./...

## tour: run the README's tour with curl (A tour with curl) in bash against a fresh serve on a
## free loopback port, checking every answer (not part of test: it needs curl and jq)
tour:
	@for t in bash curl jq; do command -v $$t > /dev/null || \
	  { echo "make tour: needs $$t on PATH (Debian: apt-get install $$t)"; exit 1; }; done
	OAUTHSIM_TOUR=1 $(GO) test -count=1 -run TestOauthsim ./cmd/oauthsim -args -ginkgo.label-filter=tour

## browser: open index.html for a 16 × 52 matrix in headless Chromium at 1280×800 (reports/browser,
## built with the browser tag, so not part of test) and check what a reader sees; screenshots go to
## $(ARTIFACTS). Needs Debian's chromium (or CHROMIUM=path); .ci/run installs it
ARTIFACTS ?= $(CURDIR)/reports/browser-artifacts
browser:
	@command -v "$${CHROMIUM:-chromium}" > /dev/null || \
	  { echo "make browser: no Chromium: install Debian's chromium package (apt-get install chromium) or set CHROMIUM to its path"; exit 1; }
	ARTIFACTS=$(ARTIFACTS) $(GO) test -tags browser -count=1 -v ./reports/browser/

## browser-assets: rebuild clients/browser/assets/fake-timers.js, the fake clock the browser runner
## installs in every frame, from @sinonjs/fake-timers with esbuild as pinned by clients/browser's
## package-lock.json (npm ci). Commit the result: go build embeds it and needs no Node
browser-assets:
	@for t in node npm; do command -v $$t > /dev/null || \
	  { echo "make browser-assets: needs $$t on PATH (Node 20 or later with npm)"; exit 1; }; done
	cd clients/browser && npm ci --no-audit --no-fund --loglevel=error && npm run --silent build

## browser-clients-test: the browser runner's specs (clients/browser, built with the browser tag):
## token managers in headless Chromium against an in-process simulator. Needs Debian's chromium
## (or OAUTHSIM_CHROMIUM=path); .ci/run installs it
browser-clients-test:
	@command -v "$${OAUTHSIM_CHROMIUM:-chromium}" > /dev/null || \
	  { echo "make browser-clients-test: no Chromium: install Debian's chromium package (apt-get install chromium) or set OAUTHSIM_CHROMIUM to its path"; exit 1; }
	$(GO) test -tags browser -count=1 ./clients/browser/

## browser-clients: the browser token managers in headless Chromium: the runner's specs, the
## token managers' self-check in Node 20, the simulator's browser specs, then conform over the browser scenarios with browser/reference,
## browser/bff and every browser/mutant/* (each must fail the check written for its bug); reports
## in $(BROWSER_OUT). Needs Debian's chromium (or OAUTHSIM_CHROMIUM=path); .ci/run installs it
BROWSER_OUT ?= reports/browser-out
browser-clients: build browser-clients-test
	@node -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)' || \
	  { echo "make browser-clients: needs Node 20 or later on PATH for the token managers' self-check (.ci/run installs it)"; exit 1; }
	node clients/browser/tm/selfcheck.js
	$(GO) test -tags browser -count=1 ./simulator/ -args -ginkgo.label-filter=browser
	./$(BIN) conform --client 'browser/*' --client 'browser/mutant/*' --expect-fail 'browser/mutant/*' \
	  --label-filter browser --out $(BROWSER_OUT) $(ARGS)

## browser-sdks: the browser SDKs people ship (clients/browser/adapters: MSAL.js,
## oidc-client-ts, ...), each bundled with esbuild from its package-lock, over the browser
## scenarios and the SDK's own in headless Chromium; failed checks are findings about the SDKs
## (README, "Browser SDKs"). Reports in $(SDK_OUT)/NAME. Needs Node 20 with npm and chromium
SDK_OUT ?= reports/browser-sdks
browser-sdks: build
	@node -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)' && command -v npm > /dev/null || \
	  { echo "make browser-sdks: needs Node 20 or later with npm on PATH to build the SDKs' pages (.ci/run installs it)"; exit 1; }
	@command -v "$${OAUTHSIM_CHROMIUM:-chromium}" > /dev/null || \
	  { echo "make browser-sdks: no Chromium: install Debian's chromium package (apt-get install chromium) or set OAUTHSIM_CHROMIUM to its path"; exit 1; }
	./clients/browser/adapters/conform-all $(BIN) $(SDK_OUT) $(SDKS)

## fuzz: run each Go fuzz target for FUZZTIME executions (default 10000x), starting from its
## seeds and its corpus in testdata/fuzz/TARGET (make test runs those as regression cases); a
## failing input is written there: check it in with the fix. A count, not a duration: Go 1.26's
## fuzzing engine can fail a run that found nothing when a duration runs out (golang/go#75804)
FUZZTIME ?= 10000x
FUZZ := scenarios:FuzzParse simulator:FuzzParseConfig simulator:FuzzTokenEndpoint simulator:FuzzControlAPI conformance:FuzzProtocolLines
fuzz:
	@for t in $(FUZZ); do \
	  echo "$(GO) test -run '^$$' -fuzz '^$${t#*:}$$' -fuzztime $(FUZZTIME) ./$${t%%:*}"; \
	  $(GO) test -run '^$$' -fuzz "^$${t#*:}\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 100x ./$${t%%:*} || exit 1; \
	done

vet:
	$(GO) vet ./...

## staticcheck: the version pinned by go.mod's tool directive (staticcheck.conf configures it)
staticcheck:
	$(GO) tool staticcheck ./...

fmtcheck:
	@out="$$(gofmt -l $$(find . -name '*.go' -not -path './bin/*'))"; \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

## independent: the independent correct client (clients/independent; needs Node 20 or later)
## checks its outcome table, then must pass every bundled scenario
independent: build
	@node -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)' || \
	  { echo "make independent: needs Node 20 or later on PATH (.ci/run installs it)"; exit 1; }
	node clients/independent/selfcheck.js
	./$(BIN) conform --client-cmd '$(INDEPENDENT)' --out reports/independent $(ARGS)

## bench: the simulator as a load target on loopback beside a bare net/http handler and the npm
## package oauth2-mock-server (installed here by npm ci), memory per live token family at 100k
## and 1M families, serve's start-up, in-process Go benchmarks, and the default conformance
## matrix's wall time with the sim days it covers (not part of test; about 7 minutes)
MOCK := internal/bench/mockserver
bench: build
	$(GO) build -o bin/oauthsim-bench ./internal/bench/oauthsim-bench
	@mock=; if command -v npm > /dev/null && node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit((a == 20 && b >= 19) || (a == 22 && b >= 12) || a >= 24 ? 0 : 1)'; then \
	  if (cd $(MOCK) && npm ci --no-audit --no-fund --loglevel=error); then mock=$(MOCK); \
	  else echo "oauth2-mock-server is left out: npm ci failed in $(MOCK)"; fi; \
	else echo "oauth2-mock-server is left out: it needs npm and Node ^20.19, ^22.12 or 24 and later"; fi; \
	./bin/oauthsim-bench -oauthsim $(BIN) -mock "$$mock"
	@echo; echo "in-process Go benchmarks (no network), median ns/op of 5 runs and as a multiple of the bare handler's:"
	@$(GO) test -run '^$$' -bench . -benchmem -count=5 ./simulator/... > bin/bench.txt || { cat bin/bench.txt; exit 1; }
	@for n in $$(awk '/^Benchmark/ { sub(/-[0-9]+$$/, "", $$1); print $$1 }' bin/bench.txt | sort -u); do \
	  awk -v n=$$n '/^Benchmark/ { x = $$1; sub(/-[0-9]+$$/, "", x); if (x == n) print $$3 }' bin/bench.txt | sort -n | \
	    awk -v n=$$n '{ a[NR] = $$1 } END { print n, a[int((NR + 1) / 2)] }'; \
	done > bin/bench-median.txt
	@awk 'NR == FNR { if ($$1 == "BenchmarkBareHandler") base = $$2; next } \
	  { printf "  %-28s %10d ns/op  %6.1fx\n", $$1, $$2, $$2 / base }' bin/bench-median.txt bin/bench-median.txt
	@echo; echo "the default conformance matrix (what make run runs), once:"
	@$(GO) test -run '^$$' -bench DefaultMatrix -benchtime 1x ./conformance/ | grep '^Benchmark'

## adapters: run the bundled scenarios against every adapter of a real client library
## (clients/adapters; Node and Python need the installs in .ci/run) and write their
## reports to reports/adapters/NAME; failed checks are findings about the libraries
adapters: build
	$(GO) build -o bin/reference-adapter ./clients/adapters/reference
	$(GO) build -o bin/xoauth2-adapter ./clients/adapters/xoauth2
	./clients/adapters/conform-all bin/oauthsim reports/adapters

clean:
	rm -rf bin
