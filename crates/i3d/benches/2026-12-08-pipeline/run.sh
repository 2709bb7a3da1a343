#!/bin/bash
# Interleaved rounds: before (main without issue 38), after (issue38-merge), PyTorch + OpenCV, same clip.
set -euo pipefail
OUT=${OUT:-/tmp/xb}; mkdir -p $OUT
AFTER=/tmp/maan-after; BEFORE=/tmp/maan-before
PY=/work/venv35/bin/python; I3D=/tmp/p35/pti3d/pytorch_i3d.py
ANCHOR=/work/wt40/crates/i3d/benches/pytorch_extract_anchor.py
{ date -u; nproc; grep -m1 "model name" /proc/cpuinfo; lscpu | grep -i "flags" | grep -o "avx512f" | head -1; $AFTER --version; $PY -c "import torch, cv2; print('torch', torch.__version__, 'opencv', cv2.__version__)"; uptime; } > $OUT/machine.txt
[ -f $OUT/clip.mp4 ] || $AFTER bench extract --backend flex --clip $OUT/clip.mp4 --seconds ${SECONDS_CLIP:-4} --json $OUT/warmup.json > $OUT/warmup.txt 2>&1
for r in $(seq 1 ${ROUNDS:-2}); do
  $BEFORE bench extract --backend flex --video $OUT/clip.mp4 --json $OUT/round$r-before.json > $OUT/round$r-before.txt 2>&1
  $AFTER bench extract --backend flex --video $OUT/clip.mp4 --json $OUT/round$r-after.json > $OUT/round$r-after.txt 2>&1
  $PY $ANCHOR --video $OUT/clip.mp4 --i3d $I3D --threads 2 --json $OUT/round$r-pytorch.json > $OUT/round$r-pytorch.txt 2>&1
  uptime >> $OUT/machine.txt
done
