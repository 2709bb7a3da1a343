//! Loading and validating a whole dataset directory (reading every file and reporting every
//! problem is `crate::inspect`'s).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;

use maan_eval::annotations::{ClassList, GroundTruth, GtSegment, GtVideo};

use crate::error::{DatasetError, Problem};
use crate::layout::{detect_layout, detect_store, FeatureStore, Layout, Split, ACTIVITYNET_JSON};
use crate::npy::{check_finite, read_features, FeatureArray, NpyDtype};
use maan_eval::{Benchmark, SnippetTiming};

/// One video: its features, loaded once and kept in memory, and its annotations.
#[derive(Debug, Clone, PartialEq)]
pub struct Video {
    /// The video id as in the annotation file (the key detections are scored under).
    pub id: String,
    /// Number of snippets `T`.
    pub len: usize,
    /// RGB features, row-major `[len, rgb_dim]`.
    pub rgb: Arc<[f32]>,
    /// Flow features, row-major `[len, flow_dim]`; `None` (and `flow_dim == 0`) for a dataset
    /// with one stream only.
    pub flow: Option<Arc<[f32]>>,
    /// RGB feature dimension (1024 for I3D).
    pub rgb_dim: usize,
    /// Flow feature dimension (1024 for I3D; 0 when there is no flow stream).
    pub flow_dim: usize,
    /// Class indices present in the video (sorted, unique; several for multi-label videos).
    pub labels: Vec<usize>,
    /// Annotated instances in seconds, clipped to `[0, duration]`.
    pub segments: Vec<GtSegment>,
    /// Duration in seconds: the annotation's `duration`, or `len * seconds_per_snippet` when the
    /// file gives none.
    pub duration: f64,
    /// Number of classes of the dataset: the length of the multi-hot label vector.
    pub num_classes: usize,
}

impl Video {
    /// Multi-hot label vector `[num_classes]`.
    pub fn label_vector(&self) -> Vec<f32> {
        let mut v = vec![0.0; self.num_classes];
        for &c in &self.labels {
            if c < v.len() {
                v[c] = 1.0;
            }
        }
        v
    }

    /// Row `t` of the rgb features, `[rgb_dim]`.
    pub fn rgb_row(&self, t: usize) -> &[f32] {
        &self.rgb[t * self.rgb_dim..(t + 1) * self.rgb_dim]
    }

    /// Row `t` of the flow features, `[flow_dim]` (empty without a flow stream).
    pub fn flow_row(&self, t: usize) -> &[f32] {
        match &self.flow {
            Some(f) => &f[t * self.flow_dim..(t + 1) * self.flow_dim],
            None => &[],
        }
    }
}

/// How to read a dataset directory.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LoadOptions {
    /// The layout; `None` detects it ([`detect_layout`]).
    pub layout: Option<Layout>,
    /// The benchmark; `None` infers it (ActivityNet layout, or labels that are not THUMOS14
    /// classes, mean ActivityNet1.3).
    pub kind: Option<Benchmark>,
    /// Snippet timing (16 frames at 25 fps by default).
    pub timing: SnippetTiming,
    /// Crop rgb and flow to the shorter of the two when their lengths differ (a counted warning)
    /// instead of failing.
    pub crop_to_shorter: bool,
    /// Annotation file; `None` means `gt.json` (or `activity_net.v1-3.min.json` for the
    /// ActivityNet layout) in the directory.
    pub annotations: Option<PathBuf>,
    /// Class list, one name per line; `None` means `classes.txt` in the directory if present,
    /// else the built-in list of the benchmark.
    pub classes: Option<PathBuf>,
    /// Threads reading feature files; 0 means the number of CPUs.
    pub num_threads: usize,
}

/// A loaded dataset: every video's features in memory, with labels and annotations.
#[derive(Debug, Clone)]
pub struct WtalDataset {
    /// The directory it was read from.
    pub dir: PathBuf,
    /// The benchmark.
    pub kind: Benchmark,
    /// The layout.
    pub layout: Layout,
    /// The class list; class index = position.
    pub classes: ClassList,
    /// Snippet timing.
    pub timing: SnippetTiming,
    /// Training videos, in split-file order.
    pub train: Vec<Arc<Video>>,
    /// Test videos, in split-file order.
    pub test: Vec<Arc<Video>>,
    /// The whole annotation file (all subsets, unclipped).
    pub ground_truth: GroundTruth,
    /// Every warning found while loading.
    pub warnings: Vec<Problem>,
}

impl WtalDataset {
    /// Reads and validates a dataset directory; fails on the first error (the message counts
    /// the others; [`inspect`] lists them all).
    pub fn load(dir: &Path, opts: &LoadOptions) -> Result<WtalDataset, DatasetError> {
        let scan = scan(dir, opts)?;
        let mut errors = scan.errors;
        if !errors.is_empty() {
            let more = errors.len() - 1;
            let first = errors.swap_remove(0);
            return Err(if more == 0 {
                first
            } else {
                DatasetError::Many {
                    first: Box::new(first),
                    more,
                }
            });
        }
        Ok(scan.dataset)
    }

    /// The feature dimension of the rgb stream (0 for an empty dataset).
    pub fn rgb_dim(&self) -> usize {
        self.train
            .iter()
            .chain(&self.test)
            .map(|v| v.rgb_dim)
            .next()
            .unwrap_or(0)
    }

    /// The feature dimension of the flow stream (0 without flow or for an empty dataset).
    pub fn flow_dim(&self) -> usize {
        self.train
            .iter()
            .chain(&self.test)
            .map(|v| v.flow_dim)
            .next()
            .unwrap_or(0)
    }

    /// Number of classes.
    pub fn num_classes(&self) -> usize {
        self.classes.len()
    }

    /// The ground truth of the test videos that were loaded, with segments clipped as in
    /// [`Video::segments`] and durations as in [`Video::duration`]: what detections on the test
    /// split are scored against.
    pub fn test_ground_truth(&self) -> GroundTruth {
        GroundTruth {
            version: self.ground_truth.version.clone(),
            videos: self
                .test
                .iter()
                .map(|v| {
                    let subset = self
                        .ground_truth
                        .videos
                        .get(&v.id)
                        .map(|g| g.subset.clone())
                        .unwrap_or_else(|| "test".into());
                    (
                        v.id.clone(),
                        GtVideo {
                            subset,
                            duration: Some(v.duration),
                            segments: v.segments.clone(),
                        },
                    )
                })
                .collect(),
        }
    }
}

/// The result of reading a directory: a dataset (possibly missing the videos that failed), the
/// errors, and per-dtype file counts.
pub(crate) struct Scan {
    pub(crate) dataset: WtalDataset,
    pub(crate) errors: Vec<DatasetError>,
    pub(crate) listed: (usize, usize),
    pub(crate) dtypes: BTreeMap<NpyDtype, usize>,
}

/// One video to read.
struct Job {
    split: Split,
    /// Key in the annotation file.
    id: String,
    /// Feature file stem.
    name: String,
    /// Whether a missing feature file is a warning (videos found through annotation subsets
    /// rather than a split file) instead of an error.
    optional: bool,
}

enum Outcome {
    Loaded(Video, Vec<NpyDtype>, Vec<Problem>),
    Skipped(Problem),
    Failed(Vec<DatasetError>),
}

fn read_split_file(path: &Path) -> Result<Vec<String>, DatasetError> {
    let text = std::fs::read_to_string(path).map_err(|e| DatasetError::io(path, e))?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect())
}

pub(crate) fn scan(dir: &Path, opts: &LoadOptions) -> Result<Scan, DatasetError> {
    opts.timing.validate().map_err(DatasetError::Config)?;
    let source = Source::resolve(dir, opts)?;
    let listing = list_videos(dir, &source)?;
    let ctx = Ctx {
        dir,
        store: source.store,
        gt: &source.gt,
        gt_path: &source.gt_path,
        classes: &source.classes,
        opts,
    };
    let outcomes = run_jobs(&listing.jobs, &ctx, opts.num_threads);
    Ok(collect(dir, opts, source, listing, outcomes))
}

/// Where a dataset's parts are: its layout and feature store, its annotations, its benchmark
/// and class list (each given in [`LoadOptions`] or found in the folder).
struct Source {
    layout: Layout,
    store: FeatureStore,
    gt_path: PathBuf,
    gt: GroundTruth,
    kind: Benchmark,
    classes: ClassList,
}

impl Source {
    fn resolve(dir: &Path, opts: &LoadOptions) -> Result<Source, DatasetError> {
        let layout = match opts.layout {
            Some(l) => {
                if !dir.is_dir() {
                    return Err(DatasetError::io(
                        dir,
                        std::io::Error::new(
                            std::io::ErrorKind::NotFound,
                            "dataset directory not found",
                        ),
                    ));
                }
                l
            }
            None => detect_layout(dir)?,
        };
        let store = match layout {
            Layout::A => FeatureStore::TwoFiles,
            Layout::B => FeatureStore::Joint,
            Layout::ActivityNet => detect_store(dir).ok_or_else(|| DatasetError::UnknownLayout {
                dir: dir.into(),
                reason: "ActivityNet annotations, but no features/ folder (layout A) and no train/ or test/ folder (layout B)".into(),
            })?,
        };
        let gt_path = match &opts.annotations {
            Some(p) => p.clone(),
            None if layout == Layout::ActivityNet && dir.join(ACTIVITYNET_JSON).is_file() => {
                dir.join(ACTIVITYNET_JSON)
            }
            None => dir.join("gt.json"),
        };
        let gt = GroundTruth::from_path(&gt_path)?;
        // The layout's benchmark, else the labels' (`Benchmark::infer_from`).
        let kind = opts.kind.unwrap_or_else(|| match layout {
            Layout::ActivityNet => Benchmark::ActivityNet13,
            _ => Benchmark::infer_from(&gt),
        });
        let classes = match &opts.classes {
            Some(p) => ClassList::from_path(p)?,
            None if dir.join("classes.txt").is_file() => {
                ClassList::from_path(&dir.join("classes.txt"))?
            }
            None => kind.classes(),
        };
        Ok(Source {
            layout,
            store,
            gt_path,
            gt,
            kind,
            classes,
        })
    }
}

/// The videos to read, from the split files or, without them, the annotation subsets.
struct Listing {
    jobs: Vec<Job>,
    /// Videos listed for (train, test).
    listed: (usize, usize),
    errors: Vec<DatasetError>,
    warnings: Vec<Problem>,
}

fn list_videos(dir: &Path, source: &Source) -> Result<Listing, DatasetError> {
    let Source {
        layout, gt, kind, ..
    } = source;
    let (layout, kind) = (*layout, *kind);
    let mut errors = Vec::new();
    let mut warnings = Vec::new();

    // Map a feature/split name to its annotation key: the name itself, or without `v_`.
    let resolve = |name: &str| -> Option<String> {
        if gt.videos.contains_key(name) {
            Some(name.to_string())
        } else {
            name.strip_prefix("v_")
                .filter(|s| gt.videos.contains_key(*s))
                .map(String::from)
        }
    };
    let feature_name = |id: &str| -> String {
        if layout == Layout::ActivityNet && !id.starts_with("v_") {
            format!("v_{id}")
        } else {
            id.to_string()
        }
    };

    let mut jobs = Vec::new();
    let mut listed = (0, 0);
    let mut in_split: BTreeSet<String> = BTreeSet::new();
    for split in [Split::Train, Split::Test] {
        let split_path = dir.join(format!("split_{}.txt", split.name()));
        let from_file = split_path.is_file();
        let entries: Vec<(String, String, bool)> = if from_file {
            let names = read_split_file(&split_path)?;
            let mut seen = BTreeSet::new();
            let mut out = Vec::new();
            for name in names {
                if !seen.insert(name.clone()) {
                    warnings.push(Problem::warning(format!(
                        "{}: video {name} is listed twice; using it once",
                        split_path.display()
                    )));
                    continue;
                }
                match resolve(&name) {
                    Some(id) => out.push((id, name, false)),
                    None => errors.push(DatasetError::NotAnnotated {
                        path: split_path.clone(),
                        video: name,
                    }),
                }
            }
            out
        } else {
            gt.videos
                .iter()
                .filter(|(_, v)| match split {
                    Split::Train => kind.is_train_subset(&v.subset),
                    Split::Test => kind.is_test_subset(&v.subset),
                })
                .map(|(id, _)| (id.clone(), feature_name(id), true))
                .collect()
        };
        match split {
            Split::Train => listed.0 = entries.len(),
            Split::Test => listed.1 = entries.len(),
        }
        for (id, name, optional) in entries {
            in_split.insert(id.clone());
            jobs.push(Job {
                split,
                id,
                name,
                optional,
            });
        }
    }
    // Annotated videos of a train or test subset that no split file lists: no features.
    for (id, v) in &gt.videos {
        if !in_split.contains(id)
            && (kind.is_train_subset(&v.subset) || kind.is_test_subset(&v.subset))
        {
            warnings.push(Problem::warning(format!(
                "{}: video {id} (subset {:?}) is annotated but has no features (not in a split file); skipped",
                source.gt_path.display(),
                v.subset
            )));
        }
    }
    Ok(Listing {
        jobs,
        listed,
        errors,
        warnings,
    })
}

/// Gathers the loaded videos into a dataset, checking that their dimensions agree.
fn collect(
    dir: &Path,
    opts: &LoadOptions,
    source: Source,
    listing: Listing,
    outcomes: Vec<Outcome>,
) -> Scan {
    let Listing {
        jobs,
        listed,
        mut errors,
        mut warnings,
    } = listing;
    let mut train = Vec::new();
    let mut test = Vec::new();
    let mut dtypes: BTreeMap<NpyDtype, usize> = BTreeMap::new();
    let mut dims: Option<(usize, usize, PathBuf)> = None;
    for (job, outcome) in jobs.iter().zip(outcomes) {
        match outcome {
            Outcome::Loaded(video, dts, warns) => {
                for d in dts {
                    *dtypes.entry(d).or_default() += 1;
                }
                warnings.extend(warns);
                let path = source.store.rgb_path(dir, job.split, &job.name);
                match &dims {
                    None => dims = Some((video.rgb_dim, video.flow_dim, path)),
                    Some((r, f, first)) if (*r, *f) != (video.rgb_dim, video.flow_dim) => {
                        errors.push(DatasetError::WrongShape {
                            path,
                            video: video.id.clone(),
                            message: format!(
                                "feature dimensions rgb {} / flow {} differ from rgb {r} / flow {f} of {}",
                                video.rgb_dim,
                                video.flow_dim,
                                first.display()
                            ),
                        });
                        continue;
                    }
                    Some(_) => {}
                }
                match job.split {
                    Split::Train => train.push(Arc::new(video)),
                    Split::Test => test.push(Arc::new(video)),
                }
            }
            Outcome::Skipped(p) => warnings.push(p),
            Outcome::Failed(errs) => errors.extend(errs),
        }
    }
    let dataset = WtalDataset {
        dir: dir.into(),
        kind: source.kind,
        layout: source.layout,
        classes: source.classes,
        timing: opts.timing,
        train,
        test,
        ground_truth: source.gt,
        warnings,
    };
    Scan {
        dataset,
        errors,
        listed,
        dtypes,
    }
}

struct Ctx<'a> {
    dir: &'a Path,
    store: FeatureStore,
    gt: &'a GroundTruth,
    gt_path: &'a Path,
    classes: &'a ClassList,
    opts: &'a LoadOptions,
}

/// Loads every job on a rayon pool of `num_threads` threads (0: rayon's global pool, one per
/// core); outcomes come back in job order.
fn run_jobs(jobs: &[Job], ctx: &Ctx<'_>, num_threads: usize) -> Vec<Outcome> {
    let load = || jobs.par_iter().map(|job| load_video(job, ctx)).collect();
    if num_threads == 0 {
        return load();
    }
    match rayon::ThreadPoolBuilder::new()
        .num_threads(num_threads)
        .build()
    {
        Ok(pool) => pool.install(load),
        // No threads to be had: read in this one.
        Err(_) => jobs.iter().map(|job| load_video(job, ctx)).collect(),
    }
}

fn load_video(job: &Job, ctx: &Ctx<'_>) -> Outcome {
    let video = job.id.as_str();
    let Some(gtv) = ctx.gt.videos.get(video) else {
        return Outcome::Failed(Vec::new());
    };
    let mut errors = Vec::new();
    let mut warnings = Vec::new();

    let mut labels = BTreeSet::new();
    for s in &gtv.segments {
        match ctx.classes.index_of(&s.label) {
            Some(c) => {
                labels.insert(c);
            }
            None => errors.push(DatasetError::UnknownLabel {
                path: ctx.gt_path.into(),
                video: video.into(),
                label: s.label.clone(),
            }),
        }
    }

    let rgb_path = ctx.store.rgb_path(ctx.dir, job.split, &job.name);
    if job.optional && !rgb_path.is_file() {
        return Outcome::Skipped(Problem::warning(format!(
            "{}: video {video} is annotated but has no features ({} is missing); skipped",
            ctx.gt_path.display(),
            rgb_path.display()
        )));
    }
    let mut dtypes = Vec::new();
    let mut checked = |path: &Path| -> Option<FeatureArray> {
        let arr = match read_features(path, video) {
            Ok(a) => a,
            Err(e) => {
                errors.push(e);
                return None;
            }
        };
        dtypes.push(arr.dtype);
        if arr.rows == 0 {
            errors.push(DatasetError::EmptyVideo {
                path: path.into(),
                video: video.into(),
            });
            return None;
        }
        if arr.cols == 0 {
            errors.push(DatasetError::WrongShape {
                path: path.into(),
                video: video.into(),
                message: format!("feature dimension is 0 (shape [{}, 0])", arr.rows),
            });
            return None;
        }
        if let Err(e) = check_finite(&arr, path, video) {
            errors.push(e);
            return None;
        }
        Some(arr)
    };

    let (rgb, flow) = match ctx.store {
        FeatureStore::TwoFiles => {
            let rgb = checked(&rgb_path);
            let flow_path = ctx.store.flow_path(ctx.dir, job.split, &job.name);
            let flow = checked(&flow_path);
            let (Some(mut rgb), Some(mut flow)) = (rgb, flow) else {
                return Outcome::Failed(errors);
            };
            if rgb.rows != flow.rows {
                if ctx.opts.crop_to_shorter {
                    let n = rgb.rows.min(flow.rows);
                    warnings.push(Problem::warning(format!(
                        "{}: video {video}: rgb has {} snippets but flow has {}; both cropped to {n}",
                        flow_path.display(),
                        rgb.rows,
                        flow.rows
                    )));
                    rgb.data.truncate(n * rgb.cols);
                    rgb.rows = n;
                    flow.data.truncate(n * flow.cols);
                    flow.rows = n;
                } else {
                    errors.push(DatasetError::StreamLengthMismatch {
                        path: flow_path,
                        video: video.into(),
                        rgb_len: rgb.rows,
                        flow_len: flow.rows,
                    });
                    return Outcome::Failed(errors);
                }
            }
            (rgb, Some(flow))
        }
        FeatureStore::Joint => {
            let Some(arr) = checked(&rgb_path) else {
                return Outcome::Failed(errors);
            };
            if arr.cols % 2 != 0 {
                errors.push(DatasetError::WrongShape {
                    path: rgb_path,
                    video: video.into(),
                    message: format!(
                        "layout B needs rgb and flow side by side, an even number of columns; found shape [{}, {}]",
                        arr.rows, arr.cols
                    ),
                });
                return Outcome::Failed(errors);
            }
            let half = arr.cols / 2;
            let mut r = Vec::with_capacity(arr.rows * half);
            let mut f = Vec::with_capacity(arr.rows * half);
            for row in arr.data.chunks_exact(arr.cols) {
                r.extend_from_slice(&row[..half]);
                f.extend_from_slice(&row[half..]);
            }
            let dtype = arr.dtype;
            (
                FeatureArray {
                    rows: arr.rows,
                    cols: half,
                    data: r,
                    dtype,
                },
                Some(FeatureArray {
                    rows: arr.rows,
                    cols: half,
                    data: f,
                    dtype,
                }),
            )
        }
    };
    if !errors.is_empty() {
        return Outcome::Failed(errors);
    }

    let len = rgb.rows;
    let spf = ctx.opts.timing.seconds_per_snippet();
    let (duration, tolerance) = match gtv.duration {
        Some(d) if d > 0.0 => (d, 1e-6),
        _ => (len as f64 * spf, spf),
    };
    let mut segments = Vec::with_capacity(gtv.segments.len());
    for s in &gtv.segments {
        if s.end > duration + tolerance || s.start < 0.0 {
            warnings.push(Problem::warning(format!(
                "{}: video {video}: segment [{}, {}] ({}) lies beyond the video [0, {duration:.3}]; {}",
                ctx.gt_path.display(),
                s.start,
                s.end,
                s.label,
                if s.start >= duration { "dropped" } else { "clipped" }
            )));
        }
        if s.start >= duration {
            continue;
        }
        segments.push(GtSegment {
            label: s.label.clone(),
            start: s.start.max(0.0),
            end: s.end.min(duration),
        });
    }
    let (flow_data, flow_dim) = match flow {
        Some(f) => (Some(Arc::from(f.data)), f.cols),
        None => (None, 0),
    };
    Outcome::Loaded(
        Video {
            id: video.into(),
            len,
            rgb: Arc::from(rgb.data),
            flow: flow_data,
            rgb_dim: rgb.cols,
            flow_dim,
            labels: labels.into_iter().collect(),
            segments,
            duration,
            num_classes: ctx.classes.len(),
        },
        dtypes,
        warnings,
    )
}
