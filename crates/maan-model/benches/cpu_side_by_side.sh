#!/usr/bin/env bash
# The training step on the CPU, before and after a change, beside PyTorch, in one run:
# interleaved rounds of `maan bench train` for two `maan` binaries (each on flex and ndarray;
# the newer one with both of its step engines) and of pytorch_anchor.py (eager, and
# torch.compile), so that a drift of the machine's speed touches every row alike.
#
#   crates/maan-model/benches/cpu_side_by_side.sh BEFORE_MAAN AFTER_MAAN OUT_DIR [ROUNDS]
#
# Both binaries must be built with `--features ndarray` (flex is in every build). One JSON file
# per measurement goes to OUT_DIR (`<round>-<what>.json`), and OUT_DIR/summary.md gets the
# table (mean it/s of each row over the rounds, and its ratio to PyTorch eager's mean).
# Needs python3 with torch and numpy.
set -euo pipefail
before=$1
after=$2
out=$3
rounds=${4:-3}
iters=${ITERATIONS:-300}
here="$(cd "$(dirname "$0")" && pwd)"
mkdir -p "$out"
{
    echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; $(date -u +%FT%TZ)"
    echo "before: $("$before" --version 2>/dev/null || echo "$before")"
    echo "after:  $("$after" --version 2>/dev/null || echo "$after")"
} >"$out/machine.txt"
for r in $(seq 1 "$rounds"); do
    echo "=== round $r of $rounds"
    "$before" bench train --backend flex,ndarray --iterations "$iters" --json "$out/$r-before.json"
    "$after" bench train --backend flex,ndarray --iterations "$iters" --json "$out/$r-after.json"
    python3 "$here/pytorch_anchor.py" --device cpu --threads "$(nproc)" --iterations "$iters" \
        >"$out/$r-torch-eager.json"
    cat "$out/$r-torch-eager.json"
    if [ "${TORCH_COMPILE:-1}" = 1 ]; then
        python3 "$here/pytorch_anchor.py" --device cpu --threads "$(nproc)" --iterations "$iters" \
            --compile default >"$out/$r-torch-compile.json"
        cat "$out/$r-torch-compile.json"
    fi
done
python3 - "$out" "$rounds" <<'EOF'
import json, os, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
rows = {}
def add(key, value):
    rows.setdefault(key, []).append(value)
for r in range(1, rounds + 1):
    for side in ("before", "after"):
        with open(os.path.join(out, f"{r}-{side}.json")) as f:
            for row in json.load(f)["results"]:
                engine = row.get("engine", "autodiff")
                name = f"maan {side} {row['backend']} {engine}"
                add(name + " (end to end)", row["iterations_per_second"])
                add(name + " (training loop)", row["loop_iterations_per_second"])
    for what in ("eager", "compile"):
        path = os.path.join(out, f"{r}-torch-{what}.json")
        if os.path.exists(path):
            with open(path) as f:
                add(f"PyTorch {what}", json.load(f)["iterations_per_second"])
eager = statistics.mean(rows["PyTorch eager"])
lines = ["| row | it/s per round | mean | ratio to PyTorch eager |", "|---|---|---|---|"]
for name, values in rows.items():
    mean = statistics.mean(values)
    each = ", ".join(f"{v:.1f}" for v in values)
    lines.append(f"| {name} | {each} | {mean:.1f} | {mean / eager:.2f} |")
text = "\n".join(lines) + "\n"
with open(os.path.join(out, "summary.md"), "w") as f:
    f.write(text)
print(text)
EOF
