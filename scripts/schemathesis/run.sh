#!/usr/bin/env bash
# Property-based tests of furrow's OpenAPI document against the server it describes: schemathesis (pinned in
# requirements.txt beside this script) runs every check (`--checks all`) on every operation of
# /openapi.json served by a furrow-server with an embedded SQLite database in a temporary folder. The document
# passes when schemathesis reports no failure: every status, media type, header and body the server answers is
# the one the document declares, schema-valid requests are accepted and invalid ones refused.
#
# Usage: scripts/schemathesis/run.sh FURROW_SERVER_BINARY
# Environment: FURROW_SCHEMATHESIS_DIR (the venv; default ~/.cache/furrow/schemathesis, installed by .ci/run),
# FURROW_SCHEMATHESIS_EXAMPLES (fuzzed cases per operation beside the coverage phase; default 50), FURROW_SCHEMATHESIS_REPORT (a folder for the
# JUnit report; default a temporary one).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
binary="$1"
venv="${FURROW_SCHEMATHESIS_DIR:-${HOME}/.cache/furrow/schemathesis}"
examples="${FURROW_SCHEMATHESIS_EXAMPLES:-50}"
report="${FURROW_SCHEMATHESIS_REPORT:-$(mktemp -d)}"
# shellcheck source=../furrow-test-server.sh
. "$here/../furrow-test-server.sh"

# The API alone (no background worker): stored credentials stay PROCESSING and nothing calls a provider.
start_furrow_server "$binary" --role api
trap stop_furrow_server EXIT
echo "furrow-server at $FURROW_BASE"

common=(
    --checks all
    --max-examples "$examples"
    --seed 28
    --generation-database none
    --workers 2
    --no-color
    --suppress-health-check all
)

# Every operation but logout, with one token: a logout in the middle would end the token the rest runs with.
token="$(furrow_token)"
"$venv/bin/schemathesis" --config-file "$here/schemathesis.toml" run "$FURROW_BASE/openapi.json" "${common[@]}" \
    -H "Authorization: Bearer $token" \
    --exclude-path /api/logout \
    --report junit --report-junit-path "$report/schemathesis.xml"

# Logout on its own, with a token of its own (it ends it, or every token of the owner).
token="$(furrow_token)"
"$venv/bin/schemathesis" --config-file "$here/schemathesis.toml" run "$FURROW_BASE/openapi.json" "${common[@]}" \
    -H "Authorization: Bearer $token" \
    --include-path /api/logout \
    --report junit --report-junit-path "$report/schemathesis-logout.xml"
