//! Tiny datasets written in the real on-disk formats, for tests and examples.
//!
//! [`write_fixture`] writes a THUMOS14-like dataset of a few short videos in layout A, layout B or
//! the official ActivityNet form, through the same npy writer as the synthetic benchmark, so that
//! loaders can be checked on a round trip. Feature values are small multiples of 0.5, exact in
//! f16, given by [`fixture_value`].

use std::fs;
use std::path::Path;

use crate::error::DatasetError;
use crate::layout::{Layout, Split};
use crate::npy::{write_features, NpyDtype};

/// One video of a fixture.
#[derive(Debug, Clone, PartialEq)]
pub struct FixtureVideo {
    /// Video id (for the ActivityNet form, the id without `v_`; files are named `v_<id>.npy`).
    pub id: String,
    /// Split.
    pub split: Split,
    /// Snippets.
    pub len: usize,
    /// Annotated instances `(label, start, end)` in seconds.
    pub segments: Vec<(String, f64, f64)>,
}

/// The videos [`write_fixture`] writes: four training and three test videos of 3 to 30
/// snippets, one of them multi-label (CliffDiving + Diving), one shorter than T = 20.
pub fn fixture_videos(layout: Layout) -> Vec<FixtureVideo> {
    let anet = layout == Layout::ActivityNet;
    let v = |id: &str, split, len, segs: &[(&str, f64, f64)]| FixtureVideo {
        id: id.to_string(),
        split,
        len,
        segments: segs
            .iter()
            .map(|(l, s, e)| (l.to_string(), *s, *e))
            .collect(),
    };
    if anet {
        vec![
            v("aaaaaaaaaaa", Split::Train, 30, &[("Archery", 1.0, 9.0)]),
            v(
                "bbbbbbbbbbb",
                Split::Train,
                25,
                &[("Bathing dog", 2.0, 6.0), ("Bathing dog", 8.0, 12.0)],
            ),
            v("ccccccccccc", Split::Train, 12, &[("Zumba", 0.0, 7.0)]),
            v("ddddddddddd", Split::Test, 20, &[("Archery", 3.0, 10.0)]),
            v("eeeeeeeeeee", Split::Test, 28, &[("Zumba", 1.5, 15.0)]),
        ]
    } else {
        vec![
            v(
                "video_validation_0000001",
                Split::Train,
                30,
                &[("BaseballPitch", 1.0, 3.5), ("BaseballPitch", 10.0, 12.0)],
            ),
            v(
                "video_validation_0000002",
                Split::Train,
                25,
                &[("CliffDiving", 2.0, 4.0), ("Diving", 2.0, 4.0)],
            ),
            v(
                "video_validation_0000003",
                Split::Train,
                3,
                &[("HighJump", 0.5, 1.5)],
            ),
            v(
                "video_validation_0000004",
                Split::Train,
                20,
                &[("VolleyballSpiking", 5.0, 9.0)],
            ),
            v(
                "video_test_0000001",
                Split::Test,
                22,
                &[("HighJump", 3.0, 6.4)],
            ),
            v(
                "video_test_0000002",
                Split::Test,
                18,
                &[("BaseballPitch", 0.64, 2.56), ("GolfSwing", 7.0, 9.0)],
            ),
            v(
                "video_test_0000003",
                Split::Test,
                26,
                &[("Billiards", 4.0, 8.0)],
            ),
        ]
    }
}

/// The value of feature `(t, d)` of the `v`-th fixture video in stream `stream` (0 rgb, 1 flow):
/// a multiple of 0.5 in [-2, 2], exact in f16.
pub fn fixture_value(v: usize, stream: usize, t: usize, d: usize) -> f32 {
    let x = ((v * 7 + t * 3 + d + stream * 5) % 9) as f32 * 0.5 - 2.0;
    if stream == 1 {
        -x
    } else {
        x
    }
}

/// The features of the `v`-th fixture video, row-major `[len, dim]`.
pub fn fixture_features(v: usize, stream: usize, len: usize, dim: usize) -> Vec<f32> {
    (0..len * dim)
        .map(|i| fixture_value(v, stream, i / dim, i % dim))
        .collect()
}

fn write(path: &Path, text: &str) -> Result<(), DatasetError> {
    fs::write(path, text).map_err(|e| DatasetError::io(path, e))
}

fn mkdir(path: &Path) -> Result<(), DatasetError> {
    fs::create_dir_all(path).map_err(|e| DatasetError::io(path, e))
}

/// Writes [`fixture_videos`] to `dir` in the given layout with `dim` features per stream:
///
/// - [`Layout::A`]: BaSNet `gt.json` (subsets `train`/`test`, segments as strings, no duration),
///   split files, `features/{train,test}/{rgb,flow}/<id>.npy` `[T, dim]`;
/// - [`Layout::B`]: ACM-Net `gt.json` (`version`, `taxonomy`, subsets `validation`/`test`, float
///   segments, `duration` = `T * 0.64`), split files, `{train,test}/<id>.npy` `[T, 2 dim]`;
/// - [`Layout::ActivityNet`]: official `activity_net.v1-3.min.json` (subsets `training`,
///   `validation` and one `testing` video without annotations), no split files, features
///   `{train,test}/v_<id>.npy` `[T, 2 dim]`.
pub fn write_fixture(
    dir: &Path,
    layout: Layout,
    dim: usize,
    dtype: NpyDtype,
) -> Result<(), DatasetError> {
    let videos = fixture_videos(layout);
    mkdir(dir)?;
    let mut db = serde_json::Map::new();
    for (i, v) in videos.iter().enumerate() {
        let rgb = fixture_features(i, 0, v.len, dim);
        let flow = fixture_features(i, 1, v.len, dim);
        let split = v.split.name();
        let duration = v.len as f64 * 0.64;
        let entry = match layout {
            Layout::A => {
                for (stream, data) in [("rgb", &rgb), ("flow", &flow)] {
                    let d = dir.join("features").join(split).join(stream);
                    mkdir(&d)?;
                    write_features(&d.join(format!("{}.npy", v.id)), data, v.len, dim, dtype)?;
                }
                let ann: Vec<_> = v
                    .segments
                    .iter()
                    .map(|(l, s, e)| serde_json::json!({"segment": [s.to_string(), e.to_string()], "label": l}))
                    .collect();
                serde_json::json!({"subset": split, "annotations": ann})
            }
            Layout::B | Layout::ActivityNet => {
                let d = dir.join(split);
                mkdir(&d)?;
                let joint: Vec<f32> = (0..v.len)
                    .flat_map(|t| {
                        rgb[t * dim..(t + 1) * dim]
                            .iter()
                            .chain(&flow[t * dim..(t + 1) * dim])
                            .copied()
                    })
                    .collect();
                let name = if layout == Layout::ActivityNet {
                    format!("v_{}", v.id)
                } else {
                    v.id.clone()
                };
                write_features(
                    &d.join(format!("{name}.npy")),
                    &joint,
                    v.len,
                    2 * dim,
                    dtype,
                )?;
                let ann: Vec<_> = v
                    .segments
                    .iter()
                    .map(|(l, s, e)| serde_json::json!({"segment": [s, e], "label": l}))
                    .collect();
                let subset = match (layout, v.split) {
                    (Layout::B, Split::Train) => "validation",
                    (Layout::B, Split::Test) => "test",
                    (_, Split::Train) => "training",
                    (_, Split::Test) => "validation",
                };
                serde_json::json!({"subset": subset, "duration": duration, "frames": (duration * 30.0).round(),
                    "resolution": "640x360", "url": format!("https://www.youtube.com/watch?v={}", v.id),
                    "annotations": ann})
            }
        };
        db.insert(v.id.clone(), entry);
    }
    let root = match layout {
        Layout::A => serde_json::json!({ "database": db }),
        Layout::B => serde_json::json!({"taxonomy": [], "version": "TH14", "database": db}),
        Layout::ActivityNet => {
            db.insert(
                "zzzzzzzzzzz".into(),
                serde_json::json!({"subset": "testing", "duration": 30.0, "resolution": "640x360",
                    "url": "https://www.youtube.com/watch?v=zzzzzzzzzzz", "annotations": []}),
            );
            serde_json::json!({"version": "VERSION 1.3", "taxonomy": [{"parentName": "Root", "nodeName": "Archery", "nodeId": 1, "parentId": 0}], "database": db})
        }
    };
    let gt_name = if layout == Layout::ActivityNet {
        crate::ACTIVITYNET_JSON
    } else {
        "gt.json"
    };
    let text =
        serde_json::to_string_pretty(&root).map_err(|e| DatasetError::Config(e.to_string()))?;
    write(&dir.join(gt_name), &text)?;
    if layout != Layout::ActivityNet {
        for split in [Split::Train, Split::Test] {
            let names: Vec<&str> = videos
                .iter()
                .filter(|v| v.split == split)
                .map(|v| v.id.as_str())
                .collect();
            write(
                &dir.join(format!("split_{}.txt", split.name())),
                &(names.join("\n") + "\n"),
            )?;
        }
    }
    Ok(())
}
