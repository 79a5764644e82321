#!/usr/bin/env bash
# A Python client generated from furrow's /openapi.json with openapi-python-client (pinned in requirements.txt
# beside this script) drives a furrow-server: test_client.py creates a Leaf user and a CLAAS credential through
# the generated, typed calls and reads the credential's events. The server runs with --demo, so the CLAAS
# validation goes to the in-process simulator on 127.0.0.1 and leaves an event; nothing leaves the machine.
# The generator runs with --fail-on-warning: an operation or schema it cannot turn into code fails the check.
#
# Usage: scripts/openapi-client/run.sh FURROW_SERVER_BINARY
# Environment: FURROW_OPENAPI_CLIENT_DIR (the venv; default ~/.cache/furrow/openapi-client, installed by .ci/run).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
binary="$1"
venv="${FURROW_OPENAPI_CLIENT_DIR:-${HOME}/.cache/furrow/openapi-client}"
# shellcheck source=../furrow-test-server.sh
. "$here/../furrow-test-server.sh"

work="$(mktemp -d)"
cleanup() {
    stop_furrow_server
    rm -rf "$work"
}
trap cleanup EXIT

start_furrow_server "$binary" --demo
echo "furrow-server at $FURROW_BASE"

curl -fsS -o "$work/openapi.json" "$FURROW_BASE/openapi.json"
(cd "$work" && "$venv/bin/openapi-python-client" generate --path openapi.json --config "$here/config.yaml" \
    --meta none --output-path "$work/furrow_client" --fail-on-warning)

FURROW_TEST_OWNER="$FURROW_TEST_OWNER" FURROW_TEST_PASSWORD="$FURROW_TEST_PASSWORD" \
    PYTHONPATH="$work" "$venv/bin/python" "$here/test_client.py"
