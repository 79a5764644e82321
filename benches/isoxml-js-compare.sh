#!/usr/bin/env bash
# Runs the ISOXML corpus through isoxml-js (npm `isoxml`) and through furrow-isoxml, and reports the speed
# ratio. isoxml-js is installed into a cache folder outside the repository.
#
#   benches/isoxml-js-compare.sh [CORPUS_DIR]
#
# Both sides read the same zips (the corpus's zips plus each folder data set and lone XML zipped once into
# the cache), parse the task data and decode every time log, several passes each; the median pass counts.
# ROUNDS (default 3) alternates the two tools and reports the median of the per-round ratios.
# ISOXML_COMPARE_BIN=path runs an already built isoxml-compare binary instead of `cargo bench`.
set -euo pipefail
cd "$(dirname "$0")/.."

CORPUS="${1:-${FURROW_SHARED_DIR:-../shared}/isoxml-corpus}"
CACHE="${FURROW_CACHE:-$HOME/.cache/furrow}/isoxml-js"
ZIPS="$CACHE/corpus-zips"
JS_RUNS="${JS_RUNS:-5}"
RS_RUNS="${RS_RUNS:-20}"

command -v node >/dev/null || { echo "node is required" >&2; exit 1; }
mkdir -p "$CACHE"
if [ ! -f "$CACHE/node_modules/isoxml/package.json" ]; then
    echo "installing npm isoxml into $CACHE"
    [ -f "$CACHE/package.json" ] || echo '{"name":"isoxml-js-cache","private":true}' > "$CACHE/package.json"
    (cd "$CACHE" && npm install --no-audit --no-fund --silent isoxml)
fi

# One zip per corpus input: zips as they are, folders holding a TASKDATA.XML and lone XML files zipped.
rm -rf "$ZIPS" && mkdir -p "$ZIPS"
python3 - "$CORPUS" "$ZIPS" <<'PY'
import os, shutil, sys, zipfile
corpus, out = sys.argv[1], sys.argv[2]
n = 0
def name(rel):
    return rel.replace('/', '__').replace(' ', '_')
for root, dirs, files in sorted(os.walk(corpus)):
    dirs.sort()
    rel = os.path.relpath(root, corpus)
    has = any(f.upper() == 'TASKDATA.XML' for f in files)
    if has:
        with zipfile.ZipFile(os.path.join(out, name(rel) + '.zip'), 'w', zipfile.ZIP_DEFLATED) as z:
            for f in sorted(files):
                p = os.path.join(root, f)
                if os.path.isfile(p) and not f.lower().endswith('.zip'):
                    z.write(p, 'TASKDATA/' + f)
        n += 1
    for f in sorted(files):
        p = os.path.join(root, f)
        if f.lower().endswith('.zip'):
            shutil.copy(p, os.path.join(out, name(os.path.join(rel, f))))
            n += 1
        elif not has and f.upper().endswith('.XML') and not f.startswith('._'):
            with zipfile.ZipFile(os.path.join(out, name(os.path.join(rel, f)) + '.zip'), 'w', zipfile.ZIP_DEFLATED) as z:
                z.write(p, 'TASKDATA/TASKDATA.XML')
            n += 1
print(f"{n} zips in {out}")
PY

# Rounds alternate the two tools so a change in machine load between them (the dev machine is shared) shows
# up as spread between rounds instead of biasing one side; the median round ratio is the figure.
ROUNDS="${ROUNDS:-3}"
# ISOXML_COMPARE_BIN: an already built `isoxml-compare` bench binary (when the workspace does not build).
if [ -z "${ISOXML_COMPARE_BIN:-}" ]; then
    cargo bench -q --no-run -p furrow-benches --bench isoxml-compare 2>/dev/null
fi
furrow_pass() {
    if [ -n "${ISOXML_COMPARE_BIN:-}" ]; then
        "$ISOXML_COMPARE_BIN" --bench
    else
        cargo bench -q -p furrow-benches --bench isoxml-compare 2>/dev/null
    fi
}
RATIOS=()
for round in $(seq 1 "$ROUNDS"); do
    echo "== round $round/$ROUNDS: isoxml-js ($JS_RUNS passes), then furrow-isoxml ($RS_RUNS passes, release build)"
    JS=$(node benches/isoxml-js/compare.mjs "$CACHE" "$ZIPS" "$JS_RUNS")
    echo "$JS"
    RS=$(FURROW_ISOXML_COMPARE_DIR="$ZIPS" FURROW_ISOXML_COMPARE_RUNS="$RS_RUNS" furrow_pass \
        | grep '"tool":"furrow"')
    echo "$RS"
    RATIOS+=("$(python3 - "$JS" "$RS" <<'PY'
import json, sys
js, rs = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(f"isoxml-js {js['version']}: {js['medianMs']:.1f} ms/pass, {js['records']} records, {js['failed']} zips failed", file=sys.stderr)
print(f"furrow-isoxml: {rs['medianMs']:.1f} ms/pass, {rs['records']} records, {rs['failed']} zips failed", file=sys.stderr)
print(f"{js['medianMs'] / rs['medianMs']:.2f}")
PY
)")
    echo "round $round speed ratio (isoxml-js / furrow, median pass): ${RATIOS[-1]}x (load average $(cut -d' ' -f1 /proc/loadavg))"
done
python3 - "${RATIOS[@]}" <<'PY'
import statistics, sys
r = [float(x) for x in sys.argv[1:]]
print(f"speed ratio over {len(r)} rounds: median {statistics.median(r):.1f}x (min {min(r):.1f}x, max {max(r):.1f}x)")
PY
