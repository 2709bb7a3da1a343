//! `maan experiment` end to end at tiny sizes: `regimes`, `ablation` and `wsol`.

use crate::common::{fails, maan, ok};

/// `maan experiment regimes` end to end at a tiny size: it trains the chosen models on the
/// chosen regime and on every heat-map cell, and writes the Markdown and JSON reports (the
/// regime with all its parameters, one row per model, the grid of MAAN minus STPN equal to the
/// difference of the two models' scores) and the heat map as PNG and SVG; a bad knob is an
/// error naming it.
#[test]
fn experiment_regimes_writes_tables_and_a_heat_map() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let text = ok(&maan(
        &[
            "experiment",
            "regimes",
            "--regimes",
            "uniform",
            "--aggregators",
            "stpn,maa",
            "--seeds",
            "1",
            "--iterations",
            "3",
            "--dim",
            "4",
            "--dominance",
            "1,4",
            "--specificity",
            "0.5",
            "--run",
            "out",
            "--quiet",
        ],
        dir,
    ));
    assert!(
        text.contains("| STPN |") && text.contains("| MAAN |"),
        "{text}"
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("out/regimes.json")).unwrap())
            .unwrap();
    let regime = &report["regimes"][0];
    assert_eq!(regime["regime"], "uniform");
    assert_eq!(regime["signal"]["model"], "i3d");
    assert_eq!(regime["signal"]["peak"], 0.0);
    assert_eq!(regime["table"]["rows"].as_array().unwrap().len(), 2);
    let grid = &report["grid"];
    assert_eq!(grid["dominance"].as_array().unwrap().len(), 2);
    for j in 0..2 {
        let (m, s, d) = (
            grid["maan"][0][j].as_f64().unwrap(),
            grid["stpn"][0][j].as_f64().unwrap(),
            grid["difference_points"][0][j].as_f64().unwrap(),
        );
        assert!((d - (m - s) * 100.0).abs() < 1e-9, "{m} {s} {d}");
    }
    for f in ["regimes.md", "heatmap.png", "heatmap.svg"] {
        assert!(dir.join("out").join(f).is_file(), "{f} missing");
    }
    assert!(!dir.join("out/data").exists(), "generated data left behind");
    fails(
        &maan(
            &["experiment", "regimes", "--specificity", "2", "--run", "o2"],
            dir,
        ),
        "--specificity",
    );
}

/// `maan experiment ablation` end to end at a tiny size: per regime four rows (the paper, OIC
/// localization, the background class, both), each with one AP vector per seed; the two rows
/// of one training option share their trained models (equal classification mAP per seed) and
/// differ in localization; the Markdown and JSON reports are written and the generated data
/// removed; options that do not apply are errors naming them.
#[test]
fn experiment_ablation_writes_four_rows_per_regime() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let text = ok(&maan(
        &[
            "experiment",
            "ablation",
            "--regimes",
            "uniform",
            "--seeds",
            "2",
            "--iterations",
            "3",
            "--dim",
            "4",
            "--run",
            "out",
            "--quiet",
        ],
        dir,
    ));
    assert!(
        text.contains("| MAAN (paper) |") && text.contains("| + both |"),
        "{text}"
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("out/ablation.json")).unwrap())
            .unwrap();
    let regime = &report["regimes"][0];
    assert_eq!(regime["regime"], "uniform");
    let cells = regime["cells"].as_array().unwrap();
    assert_eq!(cells.len(), 4);
    for c in cells {
        assert_eq!(c["map_per_seed"].as_array().unwrap().len(), 2);
        assert!(
            c["averages"][0][0] == "0.1:0.5",
            "first average is not 0.1:0.5: {c}"
        );
    }
    for (a, b) in [(0, 1), (2, 3)] {
        assert_eq!(
            cells[a]["cls_map_per_seed"], cells[b]["cls_map_per_seed"],
            "rows {a} and {b} should test the same trained models"
        );
        assert_ne!(cells[a]["localization"], cells[b]["localization"]);
    }
    assert_eq!(cells[0]["variant"]["background"], "none");
    assert_eq!(cells[3]["variant"]["background"], "bas");
    assert!(dir.join("out/ablation.md").is_file());
    assert!(!dir.join("out/data").exists(), "generated data left behind");
    fails(
        &maan(
            &[
                "experiment",
                "ablation",
                "--aggregators",
                "stpn",
                "--run",
                "o2",
            ],
            dir,
        ),
        "--aggregators",
    );
}

/// `maan experiment wsol` at tiny sizes (hidden `--tiny`): the Table 4-shaped table on stdout,
/// and wsol.md, wsol.json and the Figure 6 PNG in `--run`; `--backbone-weights` without
/// CUB is refused.
#[test]
fn experiment_wsol_writes_table_json_and_figure() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("wsol");
    let out = maan(
        &[
            "experiment",
            "wsol",
            "--tiny",
            "--quiet",
            "--backend",
            "flex",
            "--run",
            out_dir.to_str().unwrap(),
        ],
        dir.path(),
    );
    let text = ok(&out);
    for row in ["CAM (GAP) 4×4", "weighted-CAM 7×7", "MAAN 4×4", "MAAN 7×7"] {
        assert!(text.contains(&format!("| {row} |")), "{text}");
    }
    assert!(text.contains("Top-1 loc err | Top-5 loc err"), "{text}");
    for f in ["wsol.md", "wsol.json", "wsol.png"] {
        assert!(out_dir.join(f).is_file(), "{f} missing");
    }
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("wsol.json")).unwrap()).unwrap();
    assert_eq!(json["rows"].as_array().unwrap().len(), 6);
    let out = maan(
        &[
            "experiment",
            "wsol",
            "--tiny",
            "--backbone-weights",
            "vgg16.safetensors",
        ],
        dir.path(),
    );
    fails(&out, "--backbone-weights needs --data-dir");
    // CUB-200-2011 in the official format (a 3-image fixture), and a broken one.
    let cub = maan_wsol::cub::write_fixture(dir.path()).unwrap();
    let cub_out = dir.path().join("wsol-cub");
    let run_cub = || {
        maan(
            &[
                "experiment",
                "wsol",
                "--tiny",
                "--quiet",
                "--data-dir",
                cub.to_str().unwrap(),
                "--run",
                cub_out.to_str().unwrap(),
            ],
            dir.path(),
        )
    };
    let text = ok(&run_cub());
    assert!(text.contains("CUB-200-2011: 3 images, 2 classes"), "{text}");
    assert!(text.contains("no --backbone-weights"), "{text}");
    assert!(cub_out.join("wsol.png").is_file());
    std::fs::write(cub.join("image_class_labels.txt"), "1 1\n2 x\n3 2\n").unwrap();
    fails(&run_cub(), "image_class_labels.txt:2: class id");
}
