//! The report's data from real inputs (the DETAD fixture with synthetic CAS), the page's
//! self-containment and its embedded JSON, and the training curves.

use super::*;
use crate::detections::Detection;

fn fixture() -> (GroundTruth, DetectionFile) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/reference/detad");
    (
        GroundTruth::from_path(&dir.join("thumos14_gt.json"))
            .unwrap()
            .subset("test"),
        DetectionFile::from_path(&dir.join("thumos14_detections.json")).unwrap(),
    )
}

/// A CAS `[T, C]` whose value at (t, c) is `((t + 3c) mod 11) / 10` (above 1 for 10, to check
/// the clamp), and an attention `t / T`.
fn signals(
    gt: &GroundTruth,
    classes: usize,
    sps: f64,
) -> HashMap<String, (Vec<f32>, usize, Vec<f32>)> {
    gt.videos
        .iter()
        .map(|(id, v)| {
            let t = (v.duration.unwrap() / sps).floor() as usize;
            let cas = (0..t * classes)
                .map(|i| ((i / classes + 3 * (i % classes)) % 11) as f32 / 10.0)
                .collect();
            let att = (0..t).map(|i| i as f32 / t as f32).collect();
            (id.clone(), (cas, t, att))
        })
        .collect()
}

type Owned = HashMap<String, (Vec<f32>, usize, Vec<f32>)>;

fn source(
    owned: &Owned,
    classes: usize,
) -> impl Fn(&str) -> std::result::Result<Option<Signals>, String> + '_ {
    move |id: &str| {
        Ok(owned.get(id).map(|(cas, t, att)| Signals {
            cas: cas.clone(),
            num_snippets: *t,
            num_classes: classes,
            attention: Some(att.clone()),
        }))
    }
}

fn inputs<'a>(
    gt: &'a GroundTruth,
    det: &'a DetectionFile,
    classes: &'a [String],
    signals: SignalSource<'a>,
    log: &'a [serde_json::Value],
) -> RunInputs<'a> {
    RunInputs {
        name: "run-a".into(),
        protocol: Protocol {
            commit: Some("abc123".into()),
            ..Protocol::default()
        },
        classes,
        ground_truth: gt,
        detections: det,
        tiou_thresholds: crate::eval::thumos14_tiou_thresholds(),
        recorded_map: None,
        classification_map: Some(0.9),
        metrics_log: log,
        loss_names: vec!["rgb".into(), "flow".into()],
        extra_videos: Vec::new(),
        signals,
        seconds_per_snippet: 0.64,
        diagnose: Some(DiagnoseConfig::thumos14()),
    }
}

/// The report's mAP table is `detection_map`'s (per class, per tIoU, averages), its
/// diagnosis is `diagnose`'s, every test video is there with its ground truth, its
/// detections sorted by score, and its CAS kept for its ground-truth classes in per mille.
#[test]
fn run_report_holds_the_evaluators_numbers_and_every_video() {
    let (gt, det) = fixture();
    let classes: Vec<String> = gt.labels().into_iter().collect();
    let owned = signals(&gt, classes.len(), 0.64);
    let src = source(&owned, classes.len());
    let r = build_run(
        &inputs(&gt, &det, &classes, &src, &[]),
        &ReportOptions::default(),
    )
    .unwrap();
    let want = detection_map(&gt, &det, &crate::eval::thumos14_tiou_thresholds()).unwrap();
    let m = r.metrics.as_ref().unwrap();
    assert_eq!(m.map, want.map);
    assert_eq!(m.average_map, want.average_map);
    assert_eq!(m.classification_map, Some(0.9));
    assert_eq!(m.averages.len(), 3, "0.1:0.5, 0.1:0.7, 0.1:0.9");
    for c in &m.per_class {
        assert_eq!(c.ap, want.per_class_ap[&c.class]);
    }
    let d = diagnose(&gt, &det, &DiagnoseConfig::thumos14()).unwrap();
    assert_eq!(r.diagnosis.as_ref(), Some(&d));
    assert_eq!(r.videos.len(), gt.videos.len());
    for v in &r.videos {
        let g = &gt.videos[&v.id];
        assert_eq!(v.ground_truth.len(), g.segments.len());
        assert_eq!(v.duration, g.duration.unwrap());
        assert!(v.detections.windows(2).all(|w| w[0].score >= w[1].score));
        assert_eq!(
            v.detections_total,
            det.results.get(&v.id).map_or(0, Vec::len)
        );
        let (cas, t, att) = &owned[&v.id];
        for m in &v.ground_truth {
            let track = v
                .cas
                .iter()
                .find(|tr| tr.class == m.class)
                .expect("GT class kept");
            for (i, p) in track.permille.iter().enumerate() {
                let want = (cas[i * classes.len() + m.class as usize].min(1.0) * 1000.0).round();
                assert_eq!(*p as f32, want);
            }
        }
        assert!(v.cas.len() <= 6.max(v.ground_truth.len()));
        let a = v.attention.as_ref().unwrap();
        assert_eq!(a.len(), *t);
        assert_eq!(a[*t / 2] as f32, (att[*t / 2] * 1000.0).round());
    }
}

/// The detection limit keeps the best scores and says how many there were; a recorded mAP that
/// differs from the recomputed one is a warning; a CAS of the wrong shape is an error naming
/// the video.
#[test]
fn limits_warnings_and_shape_errors() {
    let (gt, det) = fixture();
    let classes: Vec<String> = gt.labels().into_iter().collect();
    let owned = signals(&gt, classes.len(), 0.64);
    let src = source(&owned, classes.len());
    let mut inp = inputs(&gt, &det, &classes, &src, &[]);
    inp.recorded_map = Some(vec![0.5; 9]);
    let options = ReportOptions {
        max_detections_per_video: 3,
        ..ReportOptions::default()
    };
    let r = build_run(&inp, &options).unwrap();
    assert!(
        r.warnings.iter().any(|w| w.contains("differs")),
        "{:?}",
        r.warnings
    );
    let busiest = r.videos.iter().max_by_key(|v| v.detections_total).unwrap();
    assert_eq!(busiest.detections.len(), 3);
    let best = det.results[&busiest.id]
        .iter()
        .map(|d| d.score)
        .fold(f64::MIN, f64::max);
    assert!((busiest.detections[0].score - best).abs() < 1e-4);
    let id = gt.videos.keys().next().unwrap().clone();
    let mut bad = owned.clone();
    bad.get_mut(&id).unwrap().1 += 1;
    let bad_src = source(&bad, classes.len());
    inp.signals = &bad_src;
    let err = build_run(&inp, &options).unwrap_err().to_string();
    assert!(err.contains(&id) && err.contains("CAS"), "{err}");
    let failing = |v: &str| -> std::result::Result<Option<Signals>, String> {
        Err(format!("cannot read cas/{v}.npy"))
    };
    inp.signals = &failing;
    let err = build_run(&inp, &options).unwrap_err().to_string();
    assert!(err.contains(&format!("cas/{id}.npy")), "{err}");
}

fn page_of(name: &str) -> (ReportData, String) {
    let (gt, det) = fixture();
    let classes: Vec<String> = gt.labels().into_iter().collect();
    let owned = signals(&gt, classes.len(), 0.64);
    let src = source(&owned, classes.len());
    let mut inp = inputs(&gt, &det, &classes, &src, &[]);
    inp.name = name.into();
    let run = build_run(&inp, &ReportOptions::default()).unwrap();
    let data = ReportData {
        format: ReportData::FORMAT,
        generated: "2025-01-01T00:00:00Z".into(),
        generator: "test".into(),
        runs: vec![run],
    };
    let page = render_html(&data).unwrap();
    (data, page)
}

/// The page embeds exactly the report's JSON (it parses back to the same `ReportData`), even
/// when a name holds `</script>`, which cannot end the element early.
#[test]
fn page_embeds_the_report_json_exactly() {
    let (data, page) = page_of("a</script><script>alert(1)</script>");
    let json = embedded_json(&page).unwrap();
    assert!(!json.contains('<'));
    assert_eq!(
        json.replace("\\u003c", "<"),
        serde_json::to_string(&data).unwrap()
    );
    let back: ReportData = serde_json::from_str(json).unwrap();
    assert_eq!(back.runs[0].name, data.runs[0].name);
    assert_eq!(back.runs[0].videos.len(), data.runs[0].videos.len());
    assert_eq!(
        page.matches("<script").count(),
        2,
        "only the page's own two scripts"
    );
    assert!(page.contains("<title>maan report: a&lt;/script&gt;"));
}

/// The page asks for nothing: a Content-Security-Policy of `default-src 'none'`, no `src` or
/// `href` attribute, no `url(` but references to its own elements (`url(#clip-0)`),
/// `@import`, `fetch`, `XMLHttpRequest`, `WebSocket` or `import(`, and no URL but the SVG
/// namespace name (an identifier, never fetched).
#[test]
fn page_is_self_contained() {
    let (_, page) = page_of("run");
    assert!(page.contains("content=\"default-src 'none'"));
    let code: String = page
        .replace("http://www.w3.org/2000/svg", "SVG-NAMESPACE")
        .replace("url(#", "LOCAL-REFERENCE")
        .to_lowercase();
    for needle in [
        "http:",
        "https:",
        "//cdn",
        "src=",
        "href=\"http",
        "url(",
        "@import",
        "fetch(",
        "xmlhttprequest",
        "websocket",
        "import(",
        "<link",
        "<iframe",
        "<img",
    ] {
        assert!(!code.contains(needle), "the page contains {needle:?}");
    }
}

/// Loss and evaluation records of a metrics log become curves; thinning keeps the first and
/// last points and at most the limit.
#[test]
fn curves_from_a_metrics_log() {
    let mut log: Vec<serde_json::Value> = (1..=100)
        .map(|i| serde_json::json!({"iteration": i, "loss": [1.0 / i as f64, 2.0 / i as f64]}))
        .collect();
    log.push(
        serde_json::json!({"iteration": 100, "tiou_thresholds": [0.1, 0.5], "map": [0.6, 0.4],
        "average_map": 0.5, "classification_map": null, "warnings": []}),
    );
    let c = curves(&log, &["rgb".into(), "flow".into()], 10);
    assert_eq!(c.loss_names, vec!["rgb", "flow"]);
    assert_eq!(c.loss.len(), 10);
    assert_eq!(c.loss[0].iteration, 1);
    assert_eq!(c.loss[9].iteration, 100);
    assert_eq!(c.loss[9].values, vec![Some(0.01), Some(0.02)]);
    assert_eq!(c.evaluations.len(), 1);
    assert_eq!(c.evaluations[0].map, vec![0.6, 0.4]);
    assert_eq!(c.evaluations[0].classification_map, None);
    assert_eq!(c.tiou_thresholds, vec![0.1, 0.5]);
}

/// A video with detections that is not a test video is left out of the viewer with a warning;
/// an extra video (a test video without annotations) is in it, its duration from the CAS
/// length.
#[test]
fn videos_outside_the_ground_truth() {
    let (gt, mut det) = fixture();
    det.results.insert(
        "elsewhere".into(),
        vec![Detection {
            label: gt.labels().into_iter().next().unwrap(),
            score: 0.5,
            segment: [1.0, 2.0],
        }],
    );
    let classes: Vec<String> = gt.labels().into_iter().collect();
    let mut owned = signals(&gt, classes.len(), 0.64);
    owned.insert(
        "cas-only".into(),
        (vec![0.0; 10 * classes.len()], 10, vec![0.0; 10]),
    );
    let src = source(&owned, classes.len());
    let mut inp = inputs(&gt, &det, &classes, &src, &[]);
    inp.extra_videos = vec!["cas-only".into()];
    let r = build_run(&inp, &ReportOptions::default()).unwrap();
    // The fixture's own detection in a video without ground truth, and this one.
    assert!(
        r.warnings
            .iter()
            .any(|w| w.contains("2 detections of videos")),
        "{:?}",
        r.warnings
    );
    let v = r.videos.iter().find(|v| v.id == "cas-only").unwrap();
    assert!((v.duration - 6.4).abs() < 1e-12);
    assert!(!r.videos.iter().any(|v| v.id == "elsewhere"));
}
