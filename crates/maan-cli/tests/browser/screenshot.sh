#!/usr/bin/env bash
# Makes docs/figures/report.png, the README's picture of a run's report: runs `maan demo`
# (seed 0, flex) into RUN (default runs/demo-report) unless RUN/report.html exists, then opens
# the report in headless Chromium (check_report.mjs) on a HammerThrow test video and
# screenshots the diagnosis and the video viewer.
#
# usage: crates/maan-cli/tests/browser/screenshot.sh [RUN]
# needs: chromium (apt-get install chromium), Node 20+ and npm.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here/../../../.."
run="${1:-runs/demo-report}"
if [ ! -f "$run/report.html" ]; then
    cargo run --release -p maan-cli -- demo --run "$run"
fi
[ -d "$here/node_modules/playwright-core" ] || npm ci --prefix "$here" --no-audit --no-fund
video=$(python3 - "$run" <<'PY'
import json, re, sys
page = open(sys.argv[1] + "/report.html").read()
data = json.loads(re.search(r'id="report-data">(.*?)</script>', page, re.S).group(1))
run = data["runs"][0]
hammer = run["classes"].index("HammerThrow")
videos = [v for v in run["videos"] if any(m[0] == hammer for m in v["ground_truth"])]
print(sorted(videos, key=lambda v: v["id"])[0]["id"])
PY
)
plan=$(mktemp)
cat > "$plan" <<JSON
{"videos": [], "classes": [], "width": 1280, "height": 900,
 "screenshot": "$PWD/docs/figures/report.png", "screenshot_video": "$video",
 "screenshot_class": "HammerThrow", "clip": ["#diagnosis", "#viewer"]}
JSON
page="$(realpath "$run/report.html")"
(cd "$here" && node check_report.mjs "$page" "$plan" > /dev/null)
rm -f "$plan"
echo "wrote docs/figures/report.png ($video, HammerThrow)"
