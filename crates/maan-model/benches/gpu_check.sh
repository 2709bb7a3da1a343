#!/usr/bin/env bash
# The GPU measurements of `crates/maan-model/BENCHMARKS.md` ("On an NVIDIA GPU"), in one script,
# so that they are taken together, on one machine, with the PyTorch anchor in the same run.
#
#   crates/maan-model/benches/gpu_check.sh MAAN_BINARY OUT_DIR [STEP...]
#
# (What ran on the H200 for BENCHMARKS.md on 2026-12-04: the command given there, in two
# calls; on 2026-11-27: `... cold warm flex test train infer`, then the whole script.)
#
# MAAN_BINARY is a release `maan` built with `--features cuda` (flex, the default backend, is
# in it too, for the `flex` step). Run it
# from the repository root on a machine with an NVIDIA GPU, its driver and NVRTC; PyTorch (for
# the anchor) is optional. The kernel cache starts empty (fresh MAAN_KERNEL_CACHE folders under
# GPU_CHECK_WORK, default /tmp/maan-gpu-check, which is deleted first). Steps (those given,
# else all but `suites`; always in this order):
#
#   cold     `maan demo --backend cuda` with an empty kernel cache (first use: data generation,
#            NVRTC compilation and autotuning included)
#   warm     the same command again with the cache the first run filled
#   flex     `maan demo` on the CPU (flex), the baseline of the warm run
#   test     `maan test` of the warm run's model on the 210 test videos, cuda then flex
#   autotune `maan bench train --backend cuda` from an empty cache: the first training
#            iteration's compilation and autotuning at D = 1024, then the warm speed
#   train    `maan bench train --backend cuda` (warm: the second cache of `autotune`), then the
#            PyTorch anchor: eager, eager with fused Adam, torch.compile + fused Adam (default
#            and reduce-overhead)
#   cputrain `maan bench train --backend flex` (the fused CPU step and autodiff, every core of
#            the machine) and the PyTorch anchor on the CPU with as many threads
#   infer    `maan bench infer --backend cuda` (same cache)
#   extract  `maan bench extract --backend cuda,flex` on its 8 s synthetic clip (cuda: the
#            TV-L1 flow on the GPU, crates/i3d/src/gpu; both: the stages overlapping; each
#            stage's rate), with the checkpoints in GPU_CHECK_I3D_WEIGHTS (a folder with
#            rgb_imagenet.pt and flow_imagenet.pt) when set, else random weights (the same
#            work); then, when GPU_CHECK_I3D names pytorch-i3d's pytorch_i3d.py and PyTorch and
#            OpenCV (contrib) are installed, crates/i3d/benches/pytorch_extract_anchor.py on the
#            same clip: the networks on CUDA with OpenCV's CPU TV-L1, and with OpenCV's CUDA
#            TV-L1 (an error line where OpenCV has no CUDA, as pip's wheels)
#   suites   the unit-test suites on CUDA: each executable named in MAAN_TEST_BINARIES (built
#            with `cargo test --release -p maa-core -p maan-model --features
#            maa-core/test-cuda,maan-model/test-cuda --no-run`), its CUDA tests (`suite_cuda`)
#            run from the crate's folder as `cargo test` runs them, from an empty CubeCL cache
#
# GPU_CHECK_TORCH (default: the four configurations, separated by ';') chooses the PyTorch
# configurations of `train`, e.g. "--fused;--fused --compile reduce-overhead".
# GPU_CHECK_DEADLINE (seconds, default none) bounds the whole script: a step's time limit is
# cut to what is left, and a step is skipped when under 20 s are left.
#
# Everything is written under OUT_DIR: log.txt (every command with its wall time and
# timestamped output), results.jsonl (the JSON of each benchmark), summary.txt (wall times).
set -u
BIN=$(realpath "$1")
OUT=$(realpath "$2")
shift 2
STEPS=${*:-"cold warm flex test autotune train cputrain infer extract"}
mkdir -p "$OUT"
LOG=$OUT/log.txt
RES=$OUT/results.jsonl
WORK=${GPU_CHECK_WORK:-/tmp/maan-gpu-check}
rm -rf "$WORK"
mkdir -p "$WORK"
export MAAN_DATA_DIR=$WORK/data

# NVRTC: cudarc loads it by name; add the toolkit's folder when the loader does not know it.
if ! ldconfig -p | grep -q libnvrtc; then
    for d in /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib; do
        [ -d "$d" ] && export LD_LIBRARY_PATH="$d:${LD_LIBRARY_PATH:-}"
    done
fi

log() { printf '%s\n' "$*" | tee -a "$LOG"; }

START=$(date +%s)
DEADLINE=${GPU_CHECK_DEADLINE:-0}

# step NAME TIMEOUT CMD...: runs CMD with a timeout, its output timestamped (seconds since the
# step started) into the log, and logs the wall time and exit status.
step() {
    local name=$1 limit=$2
    shift 2
    if [ "$DEADLINE" -gt 0 ]; then
        local left=$((DEADLINE - ($(date +%s) - START)))
        if [ "$left" -lt 20 ]; then
            log "=== $name: skipped (deadline)"
            return
        fi
        [ "$left" -lt "$limit" ] && limit=$left
    fi
    log "=== $name: $*"
    local t0
    t0=$(date +%s%N)
    timeout "$limit" "$@" 2>&1 | while IFS= read -r line; do
        printf '[%8s ms] %s\n' "$((($(date +%s%N) - t0) / 1000000))" "$line"
    done >>"$LOG"
    local rc=${PIPESTATUS[0]}
    local ms=$((($(date +%s%N) - t0) / 1000000))
    local secs
    secs=$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))
    log "=== $name: exit $rc, wall ${secs} s"
    printf '{"step":"%s","exit":%s,"wall_seconds":%s}\n' "$name" "$rc" "$secs" >>"$RES"
}

has() { [[ " $STEPS " == *" $1 "* ]]; }

log "date: $(date -u +%FT%TZ)"
log "binary: $BIN ($("$BIN" --version 2>&1))"
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm --format=csv,noheader 2>&1 | tee -a "$LOG"
log "cpus: $(nproc)"

COLD_CACHE=$WORK/kernels-cold
if has cold; then
    MAAN_KERNEL_CACHE=$COLD_CACHE step demo-cuda-cold 240 "$BIN" demo --backend cuda --run "$WORK/runs/cold"
    du -sh "$COLD_CACHE" 2>&1 | tee -a "$LOG"
fi
if has warm; then
    MAAN_KERNEL_CACHE=$COLD_CACHE step demo-cuda-warm 120 "$BIN" demo --backend cuda --run "$WORK/runs/warm"
fi
if has flex; then
    step demo-flex 200 "$BIN" demo --backend flex --run "$WORK/runs/flex"
fi
if has test && [ -d "$WORK/runs/warm" ]; then
    MAAN_KERNEL_CACHE=$COLD_CACHE step test-cuda-warm 60 "$BIN" test --run "$WORK/runs/warm" \
        --backend cuda --detections "$WORK/det-cuda.json"
    step test-flex 60 "$BIN" test --run "$WORK/runs/warm" --backend flex \
        --detections "$WORK/det-flex.json"
fi
if has autotune; then
    MAAN_KERNEL_CACHE=$WORK/kernels-default \
        step bench-train-cuda-cold-default 200 "$BIN" bench train --backend cuda \
        --warmup 1 --iterations 300 --json "$WORK/bench-train-default.json"
    cat "$WORK/bench-train-default.json" >>"$RES" 2>/dev/null && echo >>"$RES"
fi
WARM_CACHE=$COLD_CACHE
[ -d "$WORK/kernels-default" ] && WARM_CACHE=$WORK/kernels-default
if has train; then
    MAAN_KERNEL_CACHE=$WARM_CACHE step bench-train-cuda 120 "$BIN" bench train --backend cuda \
        --iterations 1000 --json "$WORK/bench-train.json"
    cat "$WORK/bench-train.json" >>"$RES" 2>/dev/null && echo >>"$RES"
    if python3 -c "import torch" 2>/dev/null; then
        A=crates/maan-model/benches/pytorch_anchor.py
        IFS=';' read -r -a TORCH_CONFIGS <<<"${GPU_CHECK_TORCH:-;--fused;--fused --compile default;--fused --compile reduce-overhead}"
        for opts in "${TORCH_CONFIGS[@]}"; do
            # shellcheck disable=SC2086
            step "pytorch $opts" 150 python3 $A --device cuda --iterations 1000 $opts
            grep -h '^\[.*\] {' "$LOG" | tail -1 | sed 's/^\[[^]]*\] //' >>"$RES"
        done
    else
        log "no PyTorch: anchor skipped"
    fi
fi
if has cputrain; then
    step bench-train-flex 120 "$BIN" bench train --backend flex --iterations 1000 \
        --json "$WORK/bench-train-flex.json"
    cat "$WORK/bench-train-flex.json" >>"$RES" 2>/dev/null && echo >>"$RES"
    if python3 -c "import torch" 2>/dev/null; then
        step "pytorch cpu" 150 python3 crates/maan-model/benches/pytorch_anchor.py --device cpu \
            --threads "$(nproc)" --iterations 1000
        grep -h '^\[.*\] {' "$LOG" | tail -1 | sed 's/^\[[^]]*\] //' >>"$RES"
    fi
fi
if has infer; then
    MAAN_KERNEL_CACHE=$WARM_CACHE step bench-infer-cuda 120 "$BIN" bench infer --backend cuda \
        --json "$WORK/bench-infer.json"
    cat "$WORK/bench-infer.json" >>"$RES" 2>/dev/null && echo >>"$RES"
fi
if has extract; then
    weights=()
    anchor_weights=()
    if [ -n "${GPU_CHECK_I3D_WEIGHTS:-}" ]; then
        weights=(--weights-rgb "$GPU_CHECK_I3D_WEIGHTS/rgb_imagenet.pt"
            --weights-flow "$GPU_CHECK_I3D_WEIGHTS/flow_imagenet.pt")
        anchor_weights=("${weights[@]}")
    fi
    CLIP=$WORK/extract-clip.mp4
    MAAN_KERNEL_CACHE=$WARM_CACHE step bench-extract 600 "$BIN" bench extract \
        --backend cuda,flex --clip "$CLIP" ${weights[@]+"${weights[@]}"} --json "$WORK/bench-extract.json"
    cat "$WORK/bench-extract.json" >>"$RES" 2>/dev/null && echo >>"$RES"
    if [ -n "${GPU_CHECK_I3D:-}" ] && python3 -c "import torch, cv2" 2>/dev/null; then
        for flow in cpu cuda; do
            step "pytorch extract cuda, TV-L1 $flow" 600 python3 \
                crates/i3d/benches/pytorch_extract_anchor.py --video "$CLIP" \
                --i3d "$GPU_CHECK_I3D" ${anchor_weights[@]+"${anchor_weights[@]}"} --device cuda --flow "$flow" \
                --json "$WORK/pytorch-extract-$flow.json"
            cat "$WORK/pytorch-extract-$flow.json" >>"$RES" 2>/dev/null && echo >>"$RES"
        done
    else
        log "no GPU_CHECK_I3D, PyTorch or OpenCV: extraction anchor skipped"
    fi
fi
if has suites; then
    for t in ${MAAN_TEST_BINARIES:-}; do
        # Each test binary runs from the crate's folder, as `cargo test` runs it.
        crate=$(basename "$t" | sed 's/-[0-9a-f]*$//; s/_/-/g')
        bin=$(realpath "$t")
        # cubecl.toml keeps CubeCL's caches under target/, absent on a fresh machine: a cold run.
        (cd "crates/$crate" && step "tests-$crate-cuda" 300 "$bin" suite_cuda)
        grep -h 'test result' "$LOG" | tail -1 | tee -a "$OUT/summary-tests.txt"
    done
fi
log "=== summary"
grep '^=== .*wall' "$LOG" | tee "$OUT/summary.txt"
