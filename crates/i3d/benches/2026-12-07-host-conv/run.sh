#!/usr/bin/env bash
# The measurement of 2026-12-07 for the host convolutions (i3d::host): `maan bench extract`
# built from main before the change (MAAN_BEFORE) and after it (MAAN_AFTER), and the
# PyTorch + OpenCV anchor, interleaved round by round on one clip of CLIP_SECONDS (default 2:
# 48 frames, 3 chunks), in one run; no round starts after BUDGET seconds (default 330), so
# that the run holds /tmp/QUIET under 10 minutes. Raw outputs:
# round<N>-{before,after,pytorch}.{json,txt}, machine.txt.
#
#   MAAN_BEFORE=... MAAN_AFTER=... PYTHON=.../venv/bin/python \
#       crates/i3d/benches/2026-12-07-host-conv/run.sh PYTORCH_I3D_PY OUT_DIR [ROUNDS]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
i3d_py="$1"
out="$2"
rounds="${3:-3}"
python="${PYTHON:-python3}"
mkdir -p "$out"
{
    date -u
    nproc
    lscpu | grep -m1 "Model name" || true
    "$MAAN_AFTER" --version
    "$python" -c "import torch, cv2; print('torch', torch.__version__, 'opencv', cv2.__version__)"
    uptime
} > "$out/machine.txt"
clip="$out/clip.mp4"
# Only to write the clip (a cheap network and flow).
"$MAAN_AFTER" bench extract --clip "$clip" --seconds "${CLIP_SECONDS:-2}" --light-flow --width-div 8 > /dev/null
start=$(date +%s)
for r in $(seq 1 "$rounds"); do
    if [ "$r" -gt 1 ] && [ $(( $(date +%s) - start )) -gt "${BUDGET:-330}" ]; then
        echo "stopping after $((r - 1)) rounds (time)" | tee -a "$out/machine.txt"
        break
    fi
    "$MAAN_BEFORE" bench extract --video "$clip" --json "$out/round$r-before.json" > "$out/round$r-before.txt" 2>&1
    "$MAAN_AFTER" bench extract --video "$clip" --json "$out/round$r-after.json" > "$out/round$r-after.txt" 2>&1
    "$python" "$here/../pytorch_extract_anchor.py" --video "$clip" --i3d "$i3d_py" \
        --json "$out/round$r-pytorch.json" > "$out/round$r-pytorch.txt" 2>&1
    grep -h "frames/s" "$out/round$r-before.txt" "$out/round$r-after.txt" "$out/round$r-pytorch.txt"
done
uptime >> "$out/machine.txt"
