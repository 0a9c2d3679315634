#!/usr/bin/env bash
# Install whatever the build and the tests need and is not there yet; print what it
# installs. Idempotent: a second run installs nothing.
#   wasm32 target, trunk 0.21.14, wasm-bindgen-cli (the exact version in Cargo.lock),
#   npm packages (uPlot, playwright-core, binaryen's wasm-opt 132, esbuild), Debian's chromium
#   and chromium-driver, and mesa-vulkan-drivers (lavapipe, a software Vulkan GPU).
# Usage: scripts/install.sh [--no-browser]   (--no-browser: skip the apt packages)
set -euo pipefail
cd "$(dirname "$0")/.."

TRUNK_VERSION=0.21.14
WASM_OPT_VERSION=132
say() { printf '[install] %s\n' "$*"; }
export PATH="$HOME/.cargo/bin:$PATH"

# 1. the wasm target
if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  say "installing rustup target wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

# 2. trunk
if ! trunk --version 2>/dev/null | grep -qx "trunk $TRUNK_VERSION"; then
  say "installing trunk $TRUNK_VERSION (cargo install, several minutes)"
  cargo install trunk --version "$TRUNK_VERSION" --locked
fi

# 3. wasm-bindgen-cli at the version Cargo.lock pins (it must match the library exactly)
WBG_VERSION=$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/version = |"/, ""); print; exit}' Cargo.lock)
if [ -z "$WBG_VERSION" ]; then echo "[install] no wasm-bindgen in Cargo.lock" >&2; exit 1; fi
if ! grep -q "wasm_bindgen = \"$WBG_VERSION\"" Trunk.toml; then
  echo "[install] Trunk.toml [tools] wasm_bindgen must be \"$WBG_VERSION\" (the Cargo.lock version)" >&2
  exit 1
fi
if ! wasm-bindgen --version 2>/dev/null | grep -qx "wasm-bindgen $WBG_VERSION" \
   || ! command -v wasm-bindgen-test-runner >/dev/null; then
  say "installing wasm-bindgen-cli $WBG_VERSION (cargo install, several minutes)"
  cargo install wasm-bindgen-cli --version "$WBG_VERSION"
fi

# 4. npm packages (versions pinned in package.json / package-lock.json)
if [ ! -x node_modules/.bin/wasm-opt ] || [ ! -f node_modules/uplot/dist/uPlot.iife.min.js ] \
   || [ ! -d node_modules/playwright-core ] || [ ! -x node_modules/.bin/esbuild ] \
   || ! node_modules/.bin/wasm-opt --version 2>/dev/null | grep -q "version $WASM_OPT_VERSION"; then
  say "installing npm packages (uplot, playwright-core, binaryen for wasm-opt $WASM_OPT_VERSION, esbuild to minify the page's JS)"
  if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
fi

# 5. browser and software GPU for the browser tests (Debian packages)
if [ "${1:-}" != "--no-browser" ]; then
  missing=()
  for pkg in chromium chromium-driver mesa-vulkan-drivers; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    say "installing Debian packages: ${missing[*]}"
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
fi
say "all tools present"
