# mlpipe: the two commands that matter are `make run` and `make test`.
# Run `make help` for the rest.

GO        ?= go
BIN       := bin
CONFIG    ?= configs/flights.yaml
REVISION  := $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo devel)$(shell git diff --quiet HEAD 2>/dev/null || echo +dirty)
LDFLAGS   := -X github.com/mlpipe/mlpipe/internal/version.Revision=$(REVISION)
# Packages whose code runs goroutines; they also run under the race detector.
RACE_PKGS := ./ingest/... ./pipeline/... ./config/... ./features/... ./train/... ./evaluate/... ./serve/... ./registry/... ./predlog/... ./export/... ./internal/progress/... ./cmd/mlserve/... ./score/... ./explain/... ./backtest/... ./internal/stream/...

.PHONY: help build run test soak test-race fuzz bench bench-section suite docs screenshots lint clean image

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

build: ## build bin/mlpipe and bin/mlserve
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN)/mlpipe ./cmd/mlpipe
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN)/mlserve ./cmd/mlserve

# Static, reproducible binaries for the container image: no cgo, no paths,
# no build id. The same commit gives the same bytes, and the same image.
IMAGE_FLAGS := CGO_ENABLED=0 $(GO) build -trimpath -ldflags '-s -w -buildid= $(LDFLAGS)'

image: ## the container image as an OCI layout in dist/image, without a Docker daemon, reproducibly (docs/deploy.md)
	$(IMAGE_FLAGS) -o $(BIN)/image/mlserve ./cmd/mlserve
	$(IMAGE_FLAGS) -o $(BIN)/image/mlpipe ./cmd/mlpipe
	$(GO) run ./scripts/image --out dist/image --revision $(REVISION) $(BIN)/image/mlserve $(BIN)/image/mlpipe

run: build ## run the whole pipeline on the shipped data (configs/flights.yaml)
	$(BIN)/mlpipe run --config $(CONFIG)

test: ## unit, fuzz-corpus, end-to-end, process and browser tests, then the race detector on concurrent packages
	./scripts/test-deps.sh
	$(GO) vet ./...
	$(GO) test -count=1 ./...
	$(GO) test -count=1 -race -short $(RACE_PKGS)

# The reliability suite (docs/operations.md). `make test` runs it short;
# soak runs it long: 60 random kills of a run, a full disk at every 32 KB
# step, 5,000 corrupted bundles, a 40 s connection flood.
SOAK_TESTS := TestKilledRuns|TestKilledRunsRandom|TestFullDisk|TestCorruptedBundles|TestFloodRSS

soak: ## the reliability suite, long: random kills, full disks, corrupted bundles, a connection flood (about 10 min)
	MLPIPE_SOAK=1 $(GO) test -count=1 -timeout 60m -v -run '^($(SOAK_TESTS))$$' ./cmd/mlpipe/ ./cmd/mlserve/

FUZZ_PKGS := ./ingest/ ./serve/ ./internal/jsonread/

# Each new interesting input is minimised before fuzzing goes on, for up
# to 60 s by default (go help testflag): a target whose inputs are whole
# files (Load of a 4 KB CSV) then spent a 10 s run minimising its first
# find, 17 executions in all. FUZZMINIMIZE (default 2s) bounds it.
fuzz: ## run each fuzz target (CSV and its options, JSON Lines, JSON arrays, compressed files, time formats, the request decoders) for FUZZTIME (default 30s)
	@for p in $(FUZZ_PKGS); do \
		for t in $$($(GO) test -list 'Fuzz.*' $$p | grep ^Fuzz); do \
			$(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $${FUZZTIME:-30s} -fuzzminimizetime $${FUZZMINIMIZE:-2s} $$p || exit 1; done; done

bench: build ## measure speed and memory; writes BENCHMARKS.md
	./scripts/bench/run.sh

bench-section: build ## re-measure some sections of BENCHMARKS.md alone, each against its peers: SECTIONS="serve predict" (scripts/bench/section.sh lists them)
	./scripts/bench/section.sh $(SECTIONS)

suite: ## the example-dataset suite alone (mlpipe, gbdt, XGBoost, HGB on every example config) into out/suite; GBDT='{"learning_rate": 0.1}' tries gbdt parameters, SEEDS=1,2,3,4,5 the random splits' seeds
	./scripts/bench/suite.sh --gbdt '$(or $(GBDT),{})' --seeds $(or $(SEEDS),1,2,3) out/suite

docs: ## run every command of README.md and docs/*.md on the real data and compare the outputs they show (UPDATE=1 rewrites them; several minutes)
	MLPIPE_DOCS=real $(GO) test -count=1 -timeout 60m -run '^TestDocs$$' ./docs/ $(if $(UPDATE),-args -update)

screenshots: run ## retake the README's screenshots (docs/ui-runs.png, docs/report.png) of the registry make run wrote, in Chromium
	$(GO) test -count=1 -run '^TestUIBrowser$$' ./cmd/mlpipe/ -args -update-screenshots -screenshot-registry $(CURDIR)/out/registry

lint: ## gofmt check, go vet, staticcheck
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

clean: ## remove build outputs and the local registry
	rm -rf $(BIN) dist out
