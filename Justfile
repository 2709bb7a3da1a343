# One-line shortcuts to the cargo commands in the README.

# The one-command demo: synthesize data, train both streams, test, mAP table, CAS plot.
demo:
    cargo run --release -p maan-cli -- demo

# The test suite (the README's test command).
test:
    cargo test --workspace

# maa-core's tests on wgpu (lavapipe on CPU-only machines).
test-wgpu:
    cargo test -p maa-core --features test-wgpu

# maa-core's tests on an NVIDIA GPU.
test-cuda:
    cargo test -p maa-core --features test-cuda

# Criterion benchmarks (release).
bench:
    cargo xtask bench

# Train MAAN on the built-in synthetic data with CUDA.
train-cuda:
    cargo run --release -p maan-cli -- train --backend cuda

# The paper's Table 1 on synthetic data.
table1:
    cargo run --release -p maan-cli -- experiment table1

# Everything CI checks.
ci:
    bash .ci/run
