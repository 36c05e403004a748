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

.PHONY: run build build-openblas test bench vet fmt clean data

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

# make bench: training-step and evaluation throughput pinned to one core
# (README's Performance section) for each build of the model's matrix
# products: default (AVX2+FMA kernels in Go assembly; also gorgonia's stock
# ops for comparison), purego (gonum only) and, when libopenblas-dev is
# installed, openblas; then the median samples/s of each benchmark over
# BENCHCOUNT runs (odd: a true median).
BENCHCOUNT ?= 5
BENCHPIN = $(shell command -v taskset >/dev/null 2>&1 && echo taskset -c 0)
HAVE_OPENBLAS = $(shell printf '\043include <cblas-openblas.h>\nint main(void){return 0;}\n' | $${CC:-cc} -x c - -o /dev/null -lopenblas >/dev/null 2>&1 && echo yes)
BENCH_BUILDS = default purego $(if $(HAVE_OPENBLAS),openblas)
bench: data
	@for b in $(BENCH_BUILDS); do \
		tags=; pat='TrainStep|Evaluate'; \
		[ $$b = default ] || { tags="-tags $$b"; pat='BenchmarkTrainStep$$|BenchmarkEvaluate'; }; \
		echo "== $$b build"; \
		out=$${TMPDIR:-/tmp}/sweep-bench-$$b.txt; \
		$(BENCHPIN) go test $$tags ./model -run '^$$' -bench "$$pat" -cpu 1 -count $(BENCHCOUNT) >$$out 2>&1; \
		status=$$?; cat $$out; [ $$status = 0 ] || exit $$status; \
	done; \
	echo; echo "median samples/s over $(BENCHCOUNT) runs (TrainStep: the model as built; StockTrainStep: gorgonia's own ops; Evaluate: the 10,000 test images):"; \
	for b in $(BENCH_BUILDS); do \
		awk '{ for (i = 2; i <= NF; i++) if ($$i == "samples/s") print $$1, $$(i-1) }' $${TMPDIR:-/tmp}/sweep-bench-$$b.txt | sort -k1,1 -k2,2n | \
		awk -v build=$$b '{ n[$$1]++; v[$$1, n[$$1]] = $$2 } END { for (k in n) printf "  %-9s %-24s %8.0f\n", build, k, v[k, int((n[k] + 1) / 2)] }' | sort; \
	done

# bin/sweep with OpenBLAS for the model's matrix products (needs
# libopenblas-dev). Not the default: on this model's small products it is
# slower than the default build's own kernels (see make bench).
build-openblas: data
	go build $(GOFLAGS_BUILD) -tags openblas -o $(BIN) ./cmd/sweep

fmt:
	gofmt -w .

clean:
	rm -rf bin
