# oauthsim — see README.md.
GO      ?= go
BIN     := bin/oauthsim
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
ARGS    ?=

.PHONY: run build test vet fmtcheck bench clean

## run: start the simulated provider on 127.0.0.1:8090 (ARGS="--config f.yaml" to add flags)
run: build
	./$(BIN) serve $(ARGS)

## build: build bin/oauthsim
build:
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/oauthsim

## test: formatting, vet, and every Ginkgo suite under the race detector
test: fmtcheck vet
	$(GO) test -race -count=1 ./...

vet:
	$(GO) vet ./...

fmtcheck:
	@out="$$(gofmt -l $$(find . -name '*.go' -not -path './bin/*'))"; \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

## bench: Go benchmarks of the simulator against a bare net/http baseline (not part of test)
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count=5 ./simulator/...

clean:
	rm -rf bin
