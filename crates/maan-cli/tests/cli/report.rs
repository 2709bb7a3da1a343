//! `maan report` and the report `maan test` writes: the page's data equals the run's metrics
//! JSON, two runs side by side, clean errors, and the page itself in headless Chromium
//! (`tests/browser/check_report.mjs`, Playwright on the system's `chromium`).
//!
//! The browser check needs `chromium` (Debian package) and the Node package of
//! `tests/browser` (`npm ci --prefix crates/maan-cli/tests/browser`). Without them it prints
//! why and passes, unless `MAAN_BROWSER_TESTS=1` (set by `.ci/run`), where it fails.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{fails, maan, ok, synth};

fn read_json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The JSON embedded in a report page.
fn page_data(path: &Path) -> serde_json::Value {
    let page = std::fs::read_to_string(path).unwrap();
    let json = maan_eval::report::embedded_json(&page).expect("the page embeds its data");
    serde_json::from_str(json).unwrap()
}

/// Trains a tiny run (`NAME`, seed `seed`, evaluated every 10 of 20 iterations) on `DIR/data`
/// and tests it into `NAME/detections.json` and `NAME/cas/`, as `maan demo` does.
fn tested_run(dir: &Path, name: &str, seed: &str) -> String {
    ok(&maan(
        &[
            "train",
            "--data-dir",
            "data",
            "--iterations",
            "20",
            "--batch-size",
            "4",
            "--eval-every",
            "10",
            "--seed",
            seed,
            "--quiet",
            "--run",
            name,
        ],
        dir,
    ));
    let detections = format!("{name}/detections.json");
    let cas = format!("{name}/cas");
    ok(&maan(
        &[
            "test",
            "--run",
            name,
            "--detections",
            &detections,
            "--cas-dir",
            &cas,
        ],
        dir,
    ))
}

/// Ground-truth instances per test video and per (video, class), from the synthetic dataset's
/// own annotation file.
fn ground_truth(dir: &Path) -> BTreeMap<String, Vec<String>> {
    let gt = read_json(&dir.join("data/gt.json"));
    let split = std::fs::read_to_string(dir.join("data/split_test.txt")).unwrap();
    split
        .split_whitespace()
        .map(|id| {
            let labels = gt["database"][id]["annotations"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|x| x["label"].as_str().unwrap().to_string())
                        .collect()
                })
                .unwrap_or_default();
            (id.to_string(), labels)
        })
        .collect()
}

fn floats(v: &serde_json::Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

/// `maan test` writes RUN/report.html and prints its path; `maan report` writes the page and
/// `--json`, whose mAP per tIoU, average and classification mAP equal `maan test`'s metrics
/// JSON, whose per-class APs average to that mAP, with the diagnosis, the training curves of
/// metrics.jsonl (two losses per logged iteration, one evaluation each 10 iterations) and every
/// test video with its ground truth, CAS and attention; `--compare` sets two runs side by
/// side; a folder that is no run and a run without detections are clean errors.
#[test]
fn report_holds_the_runs_metrics_and_compares_two_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    synth(dir);
    let printed = tested_run(dir, "run", "1");
    assert!(printed.contains("report -> run/report.html"), "{printed}");
    let from_test = page_data(&dir.join("run/report.html"));
    let text = ok(&maan(
        &[
            "report", "--run", "run", "--out", "r.html", "--json", "r.json",
        ],
        dir,
    ));
    assert!(text.contains("report -> r.html"), "{text}");
    let data = read_json(&dir.join("r.json"));
    assert_eq!(
        data,
        page_data(&dir.join("r.html")),
        "--json is the page's data"
    );
    let metrics = read_json(&dir.join("run/detections.metrics.json"));
    for d in [&data, &from_test] {
        let run = &d["runs"][0];
        let m = &run["metrics"];
        assert_eq!(floats(&m["map"]), floats(&metrics["map"]));
        assert_eq!(m["average_map"], metrics["average_map"]);
        assert_eq!(m["classification_map"], metrics["classification_map"]);
        assert_eq!(run["protocol"]["commit"], metrics["commit"]);
        assert_eq!(run["protocol"]["backend"], "flex");
        assert_eq!(run["name"], "run");
    }
    let run = &data["runs"][0];
    // Per-class APs average to the mAP at each threshold.
    let per_class = run["metrics"]["per_class"].as_array().unwrap();
    let map = floats(&metrics["map"]);
    for (t, want) in map.iter().enumerate() {
        let mean: f64 = per_class
            .iter()
            .map(|c| c["ap"][t].as_f64().unwrap())
            .sum::<f64>()
            / per_class.len() as f64;
        assert!((mean - want).abs() < 1e-12, "tIoU #{t}: {mean} vs {want}");
    }
    let d = &run["diagnosis"];
    assert_eq!(d["false_positive"]["profile"].as_array().unwrap().len(), 10);
    assert_eq!(d["characteristics"].as_array().unwrap().len(), 3);
    let curves = &run["curves"];
    assert_eq!(curves["loss_names"], serde_json::json!(["rgb", "flow"]));
    assert!(!curves["loss"].as_array().unwrap().is_empty());
    let evals: Vec<u64> = curves["evaluations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["iteration"].as_u64().unwrap())
        .collect();
    assert_eq!(evals, vec![10, 20]);
    let gt = ground_truth(dir);
    let videos = run["videos"].as_array().unwrap();
    assert_eq!(videos.len(), gt.len());
    for v in videos {
        let id = v["id"].as_str().unwrap();
        assert_eq!(
            v["ground_truth"].as_array().unwrap().len(),
            gt[id].len(),
            "{id}"
        );
        assert!(dir.join(format!("run/cas/{id}.npy")).is_file());
        assert!(!v["cas"].as_array().unwrap().is_empty(), "{id}: CAS kept");
        assert!(v["attention"].is_array(), "{id}: attention kept");
    }

    tested_run(dir, "run2", "2");
    ok(&maan(
        &[
            "report",
            "--run",
            "run",
            "--compare",
            "run2",
            "--out",
            "cmp.html",
            "--json",
            "cmp.json",
        ],
        dir,
    ));
    let cmp = read_json(&dir.join("cmp.json"));
    let names: Vec<&str> = cmp["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["run", "run2"]);
    assert_eq!(
        floats(&cmp["runs"][1]["metrics"]["map"]),
        floats(&read_json(&dir.join("run2/detections.metrics.json"))["map"])
    );

    fails(
        &maan(&["report", "--run", "data"], dir),
        "not a run directory",
    );
    std::fs::remove_file(dir.join("run2/detections.json")).unwrap();
    fails(
        &maan(&["report", "--run", "run2"], dir),
        "maan test --run run2",
    );
}

/// Why the browser check cannot run here, if it cannot.
fn browser_missing(browser_dir: &Path) -> Option<String> {
    let chromium =
        std::env::var("MAAN_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_string());
    if !Path::new(&chromium).is_file() {
        return Some(format!(
            "no Chromium at {chromium} (apt-get install chromium)"
        ));
    }
    if Command::new("node").arg("--version").output().is_err() {
        return Some("no `node` on PATH".into());
    }
    if !browser_dir.join("node_modules/playwright-core").is_dir() {
        return Some(format!(
            "no playwright-core in {} (npm ci --prefix {})",
            browser_dir.display(),
            browser_dir.display()
        ));
    }
    None
}

/// Opens `page` in headless Chromium with `plan` and returns what the page showed.
fn drive(page: &Path, plan: &serde_json::Value, dir: &Path) -> Option<serde_json::Value> {
    let browser_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    if let Some(why) = browser_missing(&browser_dir) {
        let required = std::env::var("MAAN_BROWSER_TESTS").is_ok_and(|v| v == "1");
        assert!(
            !required,
            "MAAN_BROWSER_TESTS=1 but the browser check cannot run: {why}"
        );
        eprintln!("skipping the browser check of the report: {why}");
        return None;
    }
    let plan_path = dir.join(format!(
        "{}.plan.json",
        page.file_stem().unwrap().to_string_lossy()
    ));
    std::fs::write(&plan_path, plan.to_string()).unwrap();
    let out = Command::new("node")
        .arg("check_report.mjs")
        .arg(page)
        .arg(&plan_path)
        .current_dir(&browser_dir)
        .output()
        .expect("run node");
    assert!(
        out.status.success(),
        "the browser check failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Some(serde_json::from_slice(&out.stdout).expect("the check prints JSON"))
}

/// Asserts what every page must show: no console error, no page error, no request but the
/// page itself.
fn assert_clean(seen: &serde_json::Value) {
    let url = seen["url"].as_str().unwrap();
    assert!(url.starts_with("file://"), "{url}");
    let errors: Vec<&serde_json::Value> = seen["console"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["type"] == "error" || m["type"] == "warning")
        .collect();
    assert!(errors.is_empty(), "console: {errors:?}");
    assert_eq!(seen["page_errors"], serde_json::json!([]));
    for r in seen["requests"].as_array().unwrap() {
        assert_eq!(r.as_str().unwrap(), url, "a request other than the page");
    }
}

/// The page in headless Chromium: it loads with no console error and no request but itself;
/// the timeline of the chosen video has one ground-truth mark per instance of that video (its
/// classes as in the annotation file); choosing another video changes the marks, choosing
/// another class changes the highlighted marks and the CAS curve; the mAP table's numbers (the
/// full value in `data-value` and the text, in %) equal the metrics JSON; the diagnosis charts
/// are drawn; with `--compare`, each run has its own timeline of the same video.
#[test]
fn report_page_in_headless_chromium() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    synth(dir);
    tested_run(dir, "run", "1");
    let gt = ground_truth(dir);
    // Two annotated videos with different numbers of instances, and two classes of the second.
    let mut annotated: Vec<(&String, &Vec<String>)> =
        gt.iter().filter(|(_, l)| !l.is_empty()).collect();
    annotated.sort_by_key(|(id, l)| (l.len(), (*id).clone()));
    let (a, b) = (annotated[0], annotated[annotated.len() - 1]);
    assert_ne!(a.1.len(), b.1.len(), "the synthetic test videos differ");
    // Its first class, and another one whose CAS the page kept for it.
    let kept = page_data(&dir.join("run/report.html"));
    let names = kept["runs"][0]["classes"].as_array().unwrap();
    let tracks: Vec<String> = kept["runs"][0]["videos"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["id"] == b.0.as_str())
        .unwrap()["cas"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            names[t["class"].as_u64().unwrap() as usize]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    let first = b.1.iter().min().unwrap().clone();
    let other = tracks.iter().find(|c| **c != first).unwrap().clone();
    let classes = vec![first, other];
    let plan = serde_json::json!({"videos": [a.0, b.0], "classes": classes});
    let Some(seen) = drive(&dir.join("run/report.html"), &plan, dir) else {
        return;
    };
    assert_clean(&seen);
    assert_eq!(seen["timelines"], 1);
    assert_eq!(seen["diagnosis_charts"], 4);
    let views = seen["views"].as_array().unwrap();
    let count = |id: &str, class: Option<&str>| {
        gt[id]
            .iter()
            .filter(|l| class.is_none_or(|c| c == l.as_str()))
            .count() as u64
    };
    let mut cas_paths = Vec::new();
    for v in views {
        let id = v["video"].as_str().unwrap();
        let class = v["class"].as_str().unwrap();
        assert_eq!(v["gt_marks"].as_u64().unwrap(), count(id, None), "{v}");
        assert_eq!(
            v["gt_selected"].as_u64().unwrap(),
            count(id, Some(class)),
            "{v}"
        );
        let mut marked: Vec<String> = v["gt_classes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap().to_string())
            .collect();
        let mut want = gt[id].clone();
        marked.sort();
        want.sort();
        assert_eq!(marked, want, "{id}: the marks' classes");
        assert!(v["attention"].as_bool().unwrap(), "{v}");
        if v["what"] == "class" {
            cas_paths.push((class.to_string(), v["cas"].clone()));
        }
    }
    // Choosing another video: the first and second plan videos were shown, with different
    // numbers of marks.
    let shown: Vec<(&str, u64)> = views
        .iter()
        .filter(|v| v["what"] == "video")
        .map(|v| {
            (
                v["video"].as_str().unwrap(),
                v["gt_marks"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(shown.len(), 2);
    assert_ne!(shown[0], shown[1]);
    assert_eq!(shown[1].0, b.0);
    // Choosing another class: a different CAS curve (both classes' CAS are kept).
    let last_two = &cas_paths[cas_paths.len() - 2..];
    assert_ne!(last_two[0].0, last_two[1].0);
    assert!(
        last_two[0].1.is_string() && last_two[1].1.is_string(),
        "{last_two:?}"
    );
    assert_ne!(last_two[0].1, last_two[1].1);
    // The numbers of the mAP table equal the metrics JSON.
    let metrics = read_json(&dir.join("run/detections.metrics.json"));
    let cells = seen["map_cells"].as_array().unwrap();
    let cell = |metric: &str, tiou: Option<&str>| {
        cells
            .iter()
            .find(|c| c["metric"] == metric && tiou.is_none_or(|t| c["tiou"] == t))
            .unwrap_or_else(|| panic!("no {metric} cell {tiou:?}: {cells:?}"))
    };
    let check = |c: &serde_json::Value, want: f64| {
        assert_eq!(c["value"].as_f64().unwrap(), want, "{c}");
        assert_eq!(
            c["text"].as_str().unwrap(),
            format!("{:.2}", want * 100.0),
            "{c}"
        );
    };
    let tious = floats(&metrics["tiou_thresholds"]);
    for (t, m) in tious.iter().zip(floats(&metrics["map"])) {
        let label = format!("{}", (t * 100.0).round() / 100.0);
        check(cell("map", Some(&label)), m);
    }
    check(
        cell("average_map", None),
        metrics["average_map"].as_f64().unwrap(),
    );
    match metrics["classification_map"].as_f64() {
        Some(c) => check(cell("classification_map", None), c),
        None => assert!(cell("classification_map", None)["value"].is_null()),
    }
    for (range, v) in metrics["averages"].as_object().unwrap() {
        let c = cells
            .iter()
            .find(|c| c["metric"] == "avg" && c["range"] == range.as_str())
            .unwrap_or_else(|| panic!("no average {range}"));
        check(c, v.as_f64().unwrap());
    }
    // One AP cell per class of the test ground truth and tIoU.
    let gt_classes: std::collections::BTreeSet<&String> = gt.values().flatten().collect();
    assert_eq!(
        seen["class_cells"].as_u64().unwrap() as usize,
        gt_classes.len() * tious.len()
    );

    // Two runs side by side: one timeline each, of the same video.
    tested_run(dir, "run2", "2");
    ok(&maan(
        &[
            "report",
            "--run",
            "run",
            "--compare",
            "run2",
            "--out",
            "cmp.html",
        ],
        dir,
    ));
    let plan = serde_json::json!({"videos": [b.0], "classes": []});
    let seen = drive(&dir.join("cmp.html"), &plan, dir).unwrap();
    assert_clean(&seen);
    assert_eq!(seen["timelines"], 2);
    let last: Vec<&serde_json::Value> = seen["views"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["what"] == "video")
        .collect();
    assert_eq!(last.len(), 2);
    assert_eq!(last[0]["video"], last[1]["video"]);
    assert_eq!(last[0]["run"], 0);
    assert_eq!(last[1]["run"], 1);
    let map_runs: std::collections::BTreeSet<u64> = seen["map_cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["run"].as_u64().unwrap())
        .collect();
    assert_eq!(map_runs.len(), 2);
}
