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

# make bench, one sitting: (1) BenchmarkTrainStep and BenchmarkEvaluate
# pinned to one core, one thread, for every kernel path the CPU can run
# (SWEEP_KERNELS caps the default build's kernels: avx512 where the CPU has
# AVX-512F, avx2, go = no assembly), the purego and openblas builds and the
# code at BEFORE (the commit before issue #13), and the default build with
# one thread per core, interleaved round by round;
# (2) one run's 60,000-image training epoch (sweep train -epochs 1) with one
# thread pinned to one core, one thread unpinned and one thread per core,
# and BEFORE's pinned and unpinned; then the medians. BENCHCOUNT rounds
# (odd: a true median). The machine should be otherwise idle.
BENCHCOUNT ?= 5
BEFORE ?= f4969f2
BENCHDIR = $${TMPDIR:-/tmp}/sweep-bench
BENCHPIN = $(shell command -v taskset >/dev/null 2>&1 && echo taskset -c 0)
NCPU = $(shell getconf _NPROCESSORS_ONLN)
HAVE_OPENBLAS = $(shell printf '\043include <cblas-openblas.h>\nint main(void){return 0;}\n' | $${CC:-cc} -x c - -o /dev/null -lopenblas >/dev/null 2>&1 && echo yes)
HAVE_AVX512 = $(shell grep -qw avx512f /proc/cpuinfo 2>/dev/null && echo yes)
BENCH_STEPS = $(if $(HAVE_AVX512),avx512) avx2 go purego $(if $(HAVE_OPENBLAS),openblas) before
bench: data
	@set -e; d=$(BENCHDIR); rm -rf $$d; mkdir -p $$d/src; \
	echo "building into $$d (before: $(BEFORE))"; \
	go test -c -o $$d/default.test ./model; go test -c -tags purego -o $$d/purego.test ./model; \
	$(if $(HAVE_OPENBLAS),go test -c -tags openblas -o $$d/openblas.test ./model;) \
	go build -o $$d/sweep ./cmd/sweep; \
	git archive $(BEFORE) | tar -x -C $$d/src; \
	(cd $$d/src && go test -c -o $$d/before.test ./model && go build -o $$d/sweep-before ./cmd/sweep); \
	for i in $$(seq $(BENCHCOUNT)); do \
		for s in $(BENCH_STEPS); do \
			bin=$$d/$$s.test; env=; \
			case $$s in avx512|avx2|go) bin=$$d/default.test; env=SWEEP_KERNELS=$$s;; esac; \
			(cd model && env $$env $(BENCHPIN) $$bin -test.run '^$$' -test.bench 'BenchmarkTrainStep$$|BenchmarkEvaluate' -test.cpu 1) | \
				awk -v s=$$s '/samples\/s/ { for (i = 2; i <= NF; i++) if ($$i == "samples/s") print s, $$1, $$(i-1) }' | tee -a $$d/results; \
		done; \
		(cd model && $$d/default.test -test.run '^$$' -test.bench 'BenchmarkTrainStep$$|BenchmarkEvaluate' -test.cpu $(NCPU)) | \
			awk -v s=$(NCPU)-threads '/samples\/s/ { for (i = 2; i <= NF; i++) if ($$i == "samples/s") { sub(/-[0-9]+$$/, "", $$1); print s, $$1, $$(i-1) } }' | tee -a $$d/results; \
		for e in "1-thread-pinned:$(BENCHPIN) $$d/sweep train --threads 1" "1-thread-unpinned:$$d/sweep train --threads 1" \
			"$(NCPU)-threads:$$d/sweep train --threads $(NCPU)" "before-pinned:$(BENCHPIN) $$d/sweep-before train" "before-unpinned:$$d/sweep-before train"; do \
			name=$${e%%:*}; $${e#*:} -epochs 1 | awk -v s=$$name '$$2 == "train" { print s, "epoch-train-seconds", $$(NF-1); print s, "epoch-samples/s", $$NF }' | tee -a $$d/results; \
		done; \
	done; \
	echo; echo "medians over $(BENCHCOUNT) rounds (samples/s unless named; $$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)):"; \
	sort -k1,1 -k2,2 -k3,3g $$d/results | awk '{ k = $$1 " " $$2; n[k]++; v[k, n[k]] = $$3 } END { for (k in n) printf "  %-40s %10.1f\n", k, v[k, int((n[k] + 1) / 2)] }' | sort

# bin/sweep with OpenBLAS for the model's matrix products (needs
# libopenblas-dev). Not the default: on this model's small products it is
# slower than the default build's own kernels (see make bench).
build-openblas: data
	go build $(GOFLAGS_BUILD) -tags openblas -o $(BIN) ./cmd/sweep

fmt:
	gofmt -w .

clean:
	rm -rf bin
