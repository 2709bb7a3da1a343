//! Backend selection: `--backend ndarray|flex|wgpu|cuda` mapped to a Burn device at run time.
