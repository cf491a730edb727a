# Entry points of the harness; each is a script under scripts/.
#   make run     main job: build what is missing, boot the patched kernel,
#                run the demo (guest/run.list)
#   make test    every check (series, selftests in VHE and nVHE); last line
#                "N passed, N failed"
#   make apply   (re)create build/linux: base + the series, one commit each
#   make export  write the commits of build/linux back to patches/
#   make build   kernel Image and UAPI headers into build/out/
#   make check   series checks only (checkpatch, per-patch W=1, sparse)
#   make boot    boot build/out/Image with the test initramfs (MODE=nvhe...)
#   make bench   cost of the series: base vs series kernels, table + CSV
.PHONY: run test deps apply export build selftests check boot bench clean

S := scripts
MODE ?= vhe

run:
	@$(S)/run.sh

test:
	@$(S)/test.sh

deps:
	@$(S)/deps.sh

apply: deps
	@$(S)/apply.sh

export:
	@$(S)/export.sh

build: apply
	@$(S)/build-kernel.sh

selftests: build
	@$(S)/build-selftests.sh

check: build
	@$(S)/check-series.sh

boot: selftests
	@$(S)/mkinitramfs.sh guest/test.list build/out/test-initramfs.cpio.gz
	@RESULTS=build/logs/boot-results.tsv $(S)/boot.sh --show $(MODE) \
		guest/test.list build/out/test-initramfs.cpio.gz

bench:
	@$(S)/bench.sh

clean:
	rm -rf build/obj build/obj-bisect build/out build/logs
