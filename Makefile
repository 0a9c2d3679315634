# The two commands:
#   make serve   install what is missing, build the page with Trunk (the simd128 build, and
#                the relaxed-SIMD build by Trunk's post_build hook), serve it on
#                http://127.0.0.1:8080
#   make test    install what is missing, then fmt, clippy, native tests, the wasm builds,
#                the wasm-bindgen tests (node), the two wasm builds' agreement (node), the
#                WebGPU conformance suite (headless Chromium) and the Playwright browser tests
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
export PATH := $(CURDIR)/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)
WASM := wasm32-unknown-unknown

.PHONY: serve test install build fmt clippy test-native test-wasm test-wasm-builds test-webgpu test-browser bench clean

install:
	scripts/install.sh

build: install
	cargo fetch
	trunk build --release --offline

serve: build
	trunk serve --release --offline --address 127.0.0.1 --port 8080

fmt:
	cargo fmt --check

# On wasm32 wgpu's handles are neither Send nor Sync (one thread per worker), so an Arc
# of them is fine there: that one lint is allowed for the wasm target only.
clippy:
	cargo clippy --all-targets -- -D warnings
	cargo clippy --lib --target $(WASM) -- -D warnings -A clippy::arc_with_non_send_sync

test-native:
	cargo test

# The binding layer, compiled to wasm and run under node by wasm-bindgen-test-runner
# (--release reuses the wasm dependencies the Trunk build just compiled).
test-wasm:
	CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
	  cargo test --release --target $(WASM) --test web_bindings

# The backend conformance suite on the browser's WebGPU: headless Chromium (flags in
# webdriver.json: --enable-unsafe-webgpu gives the SwiftShader adapter) driven by
# chromedriver. Without an adapter the tests fail and say why.
test-webgpu:
	WASM_BINDGEN_USE_BROWSER=1 CHROMEDRIVER=$${CHROMEDRIVER:-/usr/bin/chromedriver} \
	  WASM_BINDGEN_TEST_WEBDRIVER_JSON=$(CURDIR)/webdriver.json WASM_BINDGEN_TEST_TIMEOUT=300 \
	  CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
	  cargo test --release --target $(WASM) --test webgpu_conformance \
	  || { echo "test-webgpu FAILED: see above; 'no usable WebGPU device' means Chromium gave no adapter (needs --enable-unsafe-webgpu, webdriver.json)" >&2; exit 1; }

# The page's two wasm builds (simd128 and relaxed SIMD, dist/ and dist/relaxed/) give the
# same numbers: the GEMM kernel against a naive product, and runs of both builds under node.
test-wasm-builds:
	node tests/wasm_builds.mjs

test-browser:
	node tests/browser/run.mjs

test: install fmt clippy test-native build test-wasm test-wasm-builds test-webgpu test-browser
	@echo "make test: all green"

clean:
	rm -rf dist test-artifacts
