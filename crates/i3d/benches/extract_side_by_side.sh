#!/usr/bin/env bash
# Feature extraction speed, maan against PyTorch + OpenCV, on one clip in one run.
#
#   crates/i3d/benches/extract_side_by_side.sh PYTORCH_I3D_PY [OUT_DIR] [BACKENDS]
#
# PYTORCH_I3D_PY: the path of pytorch-i3d's `pytorch_i3d.py` (piergiaj/pytorch-i3d);
# OUT_DIR: where the clip and the JSON go (default: bench-extract); BACKENDS: maan's backends,
# comma-separated (default: flex; e.g. flex,cuda on a GPU machine). `PYTHON` names the Python
# with torch, numpy and opencv-contrib-python-headless (default: python3); `MAAN` a built
# `maan` binary (default: `cargo build --release -p maan-cli`, then target/release/maan);
# `CLIP_SECONDS` the clip's length (default 8).
#
# `maan bench extract` writes a synthetic clip (320x240, 25 fps, H.264) and times its own
# pipeline on it, then the PyTorch + OpenCV pipeline (pytorch_extract_anchor.py) runs on the
# same file; both use every core of the machine. Random network weights: the same work as
# the public checkpoints. Results: OUT_DIR/maan.json, OUT_DIR/pytorch.json, OUT_DIR/machine.txt.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
i3d_py="${1:?usage: extract_side_by_side.sh PYTORCH_I3D_PY [OUT_DIR] [BACKENDS]}"
out="${2:-bench-extract}"
backends="${3:-flex}"
python="${PYTHON:-python3}"
mkdir -p "$out"
if [ -z "${MAAN:-}" ]; then
    (cd "$here/../../.." && cargo build --release -p maan-cli --features "$backends" >&2)
    MAAN="$here/../../../target/release/maan"
fi
{
    date -u
    nproc
    grep -m1 "model name" /proc/cpuinfo || true
    "$MAAN" --version
    "$python" -c "import torch, cv2; print('torch', torch.__version__, 'opencv', cv2.__version__)"
} > "$out/machine.txt"
"$MAAN" bench extract --backend "$backends" --clip "$out/clip.mp4" \
    --seconds "${CLIP_SECONDS:-8}" --json "$out/maan.json"
"$python" "$here/pytorch_extract_anchor.py" --video "$out/clip.mp4" --i3d "$i3d_py" \
    --json "$out/pytorch.json"
