# Entry points of the harness. The jobs run scripts/pipeline.sh, which
# holds the order of the steps; each job prints the results table and
# "N passed, N failed", and fails when any check failed.
#   make run     main job: build what is missing, boot the patched kernel
#                in VHE, run the demo (guest/run.list)
#   make test    every check: series checks, our selftests and mainline's
#                on our kernel in every KVM mode of scripts/modes.tsv, ours
#                on mainline's kernel in VHE
#   make test-full  the same, ours on mainline's kernel in nVHE too (every
#                mode scripts/modes.tsv gives mainline's kernel a banner for)
#   make check   series checks only (checkpatch, per-patch W=1, x86, sparse)
#   make boot    boot with guest/test.list in one mode (MODE=nvhe ...)
#   make vmm     Debian's QEMU on our kernel and the migrations between the
#                stock kernel and ours (VMM_MODES="vhe nvhe" ...)
# Single steps and tools:
#   make apply   (re)create build/linux: base + the series, one commit each
#   make export  write the commits of build/linux back to patches/
#   make export-oracle  write the adaptations of mainline's selftests
#                (commits in build/mainline/src) back to oracle/patches/
#   make build   kernel Image and UAPI headers into build/out/
#   make bench   cost of the series: base vs series kernels, table + CSV,
#                in emulated instructions (BENCH_CLOCK=host: host time)
#   make fresh-check  the README's two commands in a bare Debian root
#   make record-base-regs  record the base kernel's registers (test data of
#                the restore test), after checking the base restores them
#   make clean   remove everything generated except build/linux (your work)
.PHONY: run test test-full check boot vmm deps apply export export-oracle build \
	bench fresh-check record-base-regs clean

S := scripts
MODE ?= vhe

run:
	@$(S)/pipeline.sh run

test:
	@$(S)/pipeline.sh test

test-full:
	@$(S)/pipeline.sh test-full

check:
	@$(S)/pipeline.sh check

boot:
	@MODE=$(MODE) $(S)/pipeline.sh boot

vmm:
	@$(S)/pipeline.sh vmm

deps:
	@$(S)/deps.sh

apply: deps
	@$(S)/apply.sh

export:
	@$(S)/export.sh

export-oracle:
	@$(S)/export-oracle.sh

build: apply
	@$(S)/build-kernel.sh

bench:
	@$(S)/bench.sh

fresh-check:
	@$(S)/fresh-machine.sh

record-base-regs:
	@$(S)/record-base-regs.sh

clean:
	@$(S)/clean.sh
