# fgacd — run `make help` for the targets.
GO      ?= go
BIN     := bin
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
export PATH := $(PATH):/usr/local/go/bin

.PHONY: help deps build run test test-go test-root lint vet cross demo bench clean

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

deps: ## install the Debian packages build and tests need (idempotent)
	@bash scripts/deps.sh

build: ## build fgacd and fgac-run into bin/
	@mkdir -p $(BIN)
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN)/fgacd ./cmd/fgacd
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN)/fgac-run ./cmd/fgac-run

run: build ## run the daemon in the foreground with the shipped defaults (as root)
	$(BIN)/fgacd run

test: deps build lint ## install what the tests need, then run every test, root-only ones included
	FGACD_REQUIRE_ROOT=1 $(GO) test -race -count=1 ./...
	@bash scripts/demo.sh

lint: vet cross ## gofmt, go vet, the portable policy build (import rules: arch_test.go)
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

cross: ## pkg/policy must stay portable (its tests run on macOS too)
	GOOS=darwin $(GO) vet ./pkg/policy/ ./policies/

demo: deps build ## run the daemon and the C example app: one granted, one denied mknod
	@bash scripts/demo.sh

bench: deps build ## fgacd against a minimal C supervisor, same run; prints ratios
	@bash scripts/bench.sh

clean:
	rm -rf $(BIN)
