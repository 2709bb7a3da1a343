//! Writes synthetic detections against a ground truth's `test` subset, for timing `maan eval`.
//!
//! `cargo run --release -p maan-eval --example synth_detections -- GT.json N OUT.json [SEED]`

#[path = "../benches/common/synth.rs"]
mod synth;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 4 {
        return Err("usage: synth_detections GT.json N OUT.json [SEED]".into());
    }
    let gt = maan_eval::GroundTruth::from_path(args[1].as_ref())?.subset("test");
    let n: usize = args[2].parse()?;
    let seed: u64 = args.get(4).map(|s| s.parse()).transpose()?.unwrap_or(7);
    let det = synth::synthetic_detections(&gt, n, seed);
    det.to_path(args[3].as_ref())?;
    println!("wrote {} detections to {}", det.num_detections(), args[3]);
    Ok(())
}
