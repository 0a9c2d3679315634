#!/usr/bin/env bash
# The page's own JavaScript (www/*.js and the service worker) minified in place in the
# built page: comments, whitespace and local names go (about 24 KB gzip of the page's
# 1 MiB budget, tests/browser `page_weight`); the sources in www/ keep them. esbuild
# from npm (package.json), one file at a time, no bundling: every module keeps its own
# URL and imports. wasm-bindgen's glue is left as it is (scripts/build-relaxed.sh checks
# that both wasm builds share it byte for byte).
#
# Trunk runs it after every build (Trunk.toml, [[hooks]] post_build, after the relaxed
# build), so `make build` and `make serve` ship minified code; MINIFY=0 keeps the page
# readable for debugging. By hand it works on dist/.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
STAGE=${TRUNK_STAGING_DIR:-dist}
if [ "${MINIFY:-1}" = 0 ]; then
  echo "[minify] MINIFY=0: the page's JavaScript stays as written"
  exit 0
fi
esbuild "$STAGE"/www/*.js --minify --format=esm --outdir="$STAGE/www" --allow-overwrite --log-level=warning
esbuild "$STAGE/sw.js" --minify --outfile="$STAGE/sw.js" --allow-overwrite --log-level=warning
echo "[minify] $STAGE/www/*.js and $STAGE/sw.js minified (esbuild)"
