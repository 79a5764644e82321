# Sourced by the contract checks (scripts/schemathesis/run.sh, scripts/openapi-client/run.sh): starts the
# furrow-server binary on 127.0.0.1 with an embedded SQLite database in a temporary folder and an API owner, and
# waits until it serves. Nothing leaves 127.0.0.1.
#
#   start_furrow_server BINARY [FLAG...]   sets FURROW_BASE (http://127.0.0.1:PORT) and FURROW_PID
#   furrow_token                           prints a token of the owner (rememberMe: 30 days)
#   stop_furrow_server                     stops the server and removes its folder
FURROW_TEST_OWNER="contract@example.com"
FURROW_TEST_PASSWORD="contract-password"

start_furrow_server() {
    local binary="$1"
    shift
    FURROW_TEST_DIR="$(mktemp -d)"
    # Port 0: the server logs the address it bound, so no free-port guess can race with another process.
    env -u FURROW_DATABASE_URL -u FURROW_SECRET_KEY -u FURROW_PROVIDER_URLS -u FURROW_WORKERS \
        FURROW_OWNER_USERNAME="$FURROW_TEST_OWNER" FURROW_OWNER_PASSWORD="$FURROW_TEST_PASSWORD" \
        RUST_LOG=warn,furrow_server=info \
        "$binary" --data-dir "$FURROW_TEST_DIR/data" --listen 127.0.0.1:0 "$@" \
        >"$FURROW_TEST_DIR/stdout.log" 2>"$FURROW_TEST_DIR/server.log" &
    FURROW_PID=$!
    FURROW_BASE=""
    local deadline=$((SECONDS + 120))
    while [ -z "$FURROW_BASE" ]; do
        if ! kill -0 "$FURROW_PID" 2>/dev/null; then
            cat "$FURROW_TEST_DIR/server.log" >&2
            echo "furrow-server exited before it listened" >&2
            return 1
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            echo "furrow-server did not log its address within 120 s" >&2
            return 1
        fi
        FURROW_BASE="$(grep -o 'listening on http://[0-9.:]*' "$FURROW_TEST_DIR/server.log" | head -n1 | cut -d' ' -f3 || true)"
        [ -n "$FURROW_BASE" ] || sleep 0.1
    done
    # Ready when /health answers 200 (the log line comes before the accept loop runs).
    until curl -fsS -o /dev/null "$FURROW_BASE/health"; do
        kill -0 "$FURROW_PID" 2>/dev/null || { cat "$FURROW_TEST_DIR/server.log" >&2; return 1; }
        [ "$SECONDS" -lt "$deadline" ] || { echo "furrow-server /health did not answer" >&2; return 1; }
        sleep 0.1
    done
    export FURROW_BASE
}

furrow_token() {
    curl -fsS -X POST -H 'Content-Type: application/json' \
        -d "{\"username\":\"$FURROW_TEST_OWNER\",\"password\":\"$FURROW_TEST_PASSWORD\",\"rememberMe\":true}" \
        "$FURROW_BASE/api/authenticate" | python3 -c 'import sys, json; print(json.load(sys.stdin)["id_token"])'
}

stop_furrow_server() {
    if [ -n "${FURROW_PID:-}" ]; then
        kill "$FURROW_PID" 2>/dev/null || true
        wait "$FURROW_PID" 2>/dev/null || true
        FURROW_PID=""
    fi
    [ -z "${FURROW_TEST_DIR:-}" ] || rm -rf "$FURROW_TEST_DIR"
}
