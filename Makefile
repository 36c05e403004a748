# sweep: make run trains the shipped sweeps and writes the report;
# make test runs the test suite. Both work on a fresh machine with Go and gcc.

export CGO_ENABLED := 1
# Record the VCS revision in the binary (some machines set -buildvcs=false).
GOFLAGS_BUILD := -buildvcs=auto
BIN := bin/sweep
DB ?= sweep.db
REPORT ?= report.html
CONFIGS ?= configs/*.toml
JOBS ?=

.PHONY: run build test bench vet fmt clean data

build: data
	go build $(GOFLAGS_BUILD) -o $(BIN) ./cmd/sweep

# Fetch the pinned modules, MNIST's data files among them (go.sum checks them).
data:
	go mod download

# Runs that fail (the lr sweep's largest SGD steps diverge by design) are
# results, shown in the report: they don't fail the target. Bad configs
# (exit 2) and other errors do.
run: build
	./$(BIN) run $(if $(JOBS),-j $(JOBS)) --db $(DB) $(CONFIGS); status=$$?; \
	if [ $$status -ge 2 ]; then exit $$status; fi; \
	./$(BIN) report --db $(DB) -o $(REPORT) || exit $$?; \
	echo "database: $(abspath $(DB))"; echo "report:   $(abspath $(REPORT))"; \
	if [ $$status -eq 1 ]; then echo "note: some runs failed or were interrupted: ./$(BIN) runs --db $(DB) --status failed"; fi

test: data
	go vet ./...
	go test -count=1 -timeout 20m ./...

bench: data
	go test ./model -run '^$$' -bench BenchmarkTrainStep -benchtime 200x -count 3

fmt:
	gofmt -w .

clean:
	rm -rf bin
