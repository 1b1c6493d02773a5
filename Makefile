# Thin wrapper over CMake presets. Every target installs missing dependencies first (scripts/install-deps is
# quiet and fast when nothing is missing).
.PHONY: all build deps demo test test-fast lint asan bench image clean

all: build

deps:
	@scripts/install-deps

build: deps
	@[ -f build/build.ninja ] || cmake --preset release >/dev/null
	@cmake --build build

demo: build
	@scripts/demo

# Everything CI runs: the full suite, the quality gates and the sanitizer run.
test: build
	ctest --preset release
	scripts/lint build
	$(MAKE) asan

test-fast: build
	ctest --preset release -L unit

lint: build
	scripts/lint build

asan: deps
	@[ -f build-asan/build.ninja ] || cmake --preset asan-ubsan >/dev/null
	cmake --build build-asan
	ctest --preset asan-ubsan

# The CPU container image (deploy/docker/Dockerfile) built with debootstrap + buildah; prints its name.
image: deps
	@scripts/image

bench: build
	build/bin/facefleet-bench-image --runs 20

clean:
	rm -rf build build-debug build-asan out
