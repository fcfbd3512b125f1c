# fgacd — run `make help` for the targets.
GO      ?= go
BIN     := bin
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
export PATH := $(PATH):/usr/local/go/bin

.PHONY: help deps build run test test-gpio lint vet cross demo bench install clean

PREFIX  ?= /usr/local
DESTDIR ?=

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
	@$(MAKE) --no-print-directory test-gpio

test-gpio: ## the Linux 6.1 QEMU guest with gpio-sim: GPIO brokering, and the core and end-to-end tests on a second kernel
	bash tests/gpio/run.sh ./pkg/notify ./pkg/memread ./tests/e2e

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

install: build ## install binaries, systemd units, shipped policies (to /etc/fgacd/policies.d if empty)
	install -D -m 0755 $(BIN)/fgacd $(DESTDIR)$(PREFIX)/bin/fgacd
	install -D -m 0755 $(BIN)/fgac-run $(DESTDIR)$(PREFIX)/bin/fgac-run
	install -D -m 0644 deploy/systemd/fgacd.service $(DESTDIR)/etc/systemd/system/fgacd.service
	install -D -m 0644 deploy/systemd/fgacd.socket $(DESTDIR)/etc/systemd/system/fgacd.socket
	install -d -m 0755 $(DESTDIR)/etc/fgacd/policies.d
	[ -n "$$(ls -A $(DESTDIR)/etc/fgacd/policies.d)" ] || install -m 0644 policies/default.toml $(DESTDIR)/etc/fgacd/policies.d/99-default.toml
	[ -e $(DESTDIR)/etc/fgacd/fgacd.toml ] || install -m 0644 docs/fgacd.toml $(DESTDIR)/etc/fgacd/fgacd.toml
	install -D -m 0644 README.md $(DESTDIR)$(PREFIX)/share/doc/fgacd/README.md

clean:
	rm -rf $(BIN)
