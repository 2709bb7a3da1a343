//! Inspecting a dataset directory: every file read and validated, every problem collected
//! ([`inspect`]), with summary statistics ([`InspectReport`], which words itself in a table:
//! [`InspectReport::summary`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use maan_eval::{Benchmark, SnippetTiming};

use crate::error::{Problem, Severity};
use crate::layout::Layout;
use crate::loader::{scan, LoadOptions, Video, WtalDataset};

/// Everything [`inspect`] found: summary statistics and every problem.
#[derive(Debug, Clone)]
pub struct InspectReport {
    /// The directory.
    pub dir: PathBuf,
    /// The layout (detected or given), if it could be determined.
    pub layout: Option<Layout>,
    /// The benchmark, if the annotations could be read.
    pub kind: Option<Benchmark>,
    /// The class names.
    pub classes: Vec<String>,
    /// Videos per split that loaded without error: `(train, test)`.
    pub videos: (usize, usize),
    /// Videos listed per split: `(train, test)`.
    pub listed: (usize, usize),
    /// Instances per class in the loaded `(train, test)` videos, in class order.
    pub instances: Vec<(usize, usize)>,
    /// Snippet-count statistics of the loaded train and test videos.
    pub snippets: [Option<LengthStats>; 2],
    /// Feature dimension of the rgb stream, of the flow stream (0: none).
    pub dims: (usize, usize),
    /// Element types found on disk and how many files had each.
    pub dtypes: BTreeMap<String, usize>,
    /// Every problem found, errors and warnings.
    pub problems: Vec<Problem>,
    /// The loaded dataset when there was no error.
    pub dataset: Option<WtalDataset>,
}

impl InspectReport {
    /// Number of errors.
    pub fn num_errors(&self) -> usize {
        self.problems
            .iter()
            .filter(|p| p.severity == Severity::Error)
            .count()
    }

    /// Number of warnings.
    pub fn num_warnings(&self) -> usize {
        self.problems
            .iter()
            .filter(|p| p.severity == Severity::Warning)
            .count()
    }

    /// Whether any error was found.
    pub fn has_errors(&self) -> bool {
        self.num_errors() > 0
    }

    /// The report as `maan inspect` prints it: the dataset, layout, benchmark, classes and
    /// snippet timing (`timing`), the per-split video and snippet statistics, the feature
    /// dimensions and file types, the instances per class, and the problems (errors first).
    pub fn summary(&self, timing: SnippetTiming) -> String {
        let mut out = format!("dataset   {}\n", self.dir.display());
        out += &format!(
            "layout    {}   kind {}   classes {}   timing {} frames @ {} fps = {:.3} s/snippet\n",
            self.layout.map_or("?".to_string(), |l| l.to_string()),
            self.kind.map_or("?".to_string(), |k| k.to_string()),
            self.classes.len(),
            timing.frames_per_snippet,
            timing.fps,
            timing.seconds_per_snippet()
        );
        if self.layout.is_some() && self.kind.is_some() {
            out += &format!(
                "\n{:<6} {:>7} {:>7} {:>9} {:>6} {:>7} {:>8} {:>6}\n",
                "split", "listed", "loaded", "snippets", "min", "median", "mean", "max"
            );
            let splits = [
                ("train", self.listed.0, self.videos.0),
                ("test", self.listed.1, self.videos.1),
            ];
            for ((name, listed, loaded), stats) in splits.into_iter().zip(self.snippets) {
                out += &match stats {
                    Some(s) => format!(
                        "{name:<6} {listed:>7} {loaded:>7} {:>9} {:>6} {:>7} {:>8.1} {:>6}\n",
                        s.total, s.min, s.median, s.mean, s.max
                    ),
                    None => format!(
                        "{name:<6} {listed:>7} {loaded:>7} {:>9} {:>6} {:>7} {:>8} {:>6}\n",
                        0, "-", "-", "-", "-"
                    ),
                };
            }
            let dtypes: Vec<String> = self
                .dtypes
                .iter()
                .map(|(k, v)| format!("{k} x {v}"))
                .collect();
            out += &format!(
                "\nfeatures  rgb {} dims, flow {} dims   files: {}\n",
                self.dims.0,
                self.dims.1,
                if dtypes.is_empty() {
                    "none read".to_string()
                } else {
                    dtypes.join(", ")
                }
            );
            if !self.classes.is_empty() {
                let w = self
                    .classes
                    .iter()
                    .map(|c| c.len())
                    .max()
                    .unwrap_or(5)
                    .max(5);
                out += &format!(
                    "\n{:>3}  {:<w$}  {:>6}  {:>6}\n",
                    "#", "class", "train", "test"
                );
                let (mut a, mut b) = (0, 0);
                for (i, (name, (tr, te))) in self.classes.iter().zip(&self.instances).enumerate() {
                    out += &format!("{i:>3}  {name:<w$}  {tr:>6}  {te:>6}\n");
                    a += tr;
                    b += te;
                }
                out += &format!("{:>3}  {:<w$}  {a:>6}  {b:>6}\n", "", "instances");
            }
        }
        out += &format!(
            "\nproblems  {} errors, {} warnings\n",
            self.num_errors(),
            self.num_warnings()
        );
        for p in self.problems_by_severity() {
            out += &format!("  {p}\n");
        }
        out
    }

    /// The problems, errors first.
    pub fn problems_by_severity(&self) -> Vec<Problem> {
        let mut problems = self.problems.clone();
        problems.sort_by_key(|p| std::cmp::Reverse(p.severity));
        problems
    }
}

/// Min, median, mean and max of the snippet counts of a set of videos.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LengthStats {
    /// Number of videos.
    pub count: usize,
    /// Total snippets.
    pub total: usize,
    /// Shortest video.
    pub min: usize,
    /// Median length (lower median).
    pub median: usize,
    /// Mean length.
    pub mean: f64,
    /// Longest video.
    pub max: usize,
}

impl LengthStats {
    /// Statistics of the lengths of `videos`, `None` when empty.
    pub fn of(videos: &[Arc<Video>]) -> Option<LengthStats> {
        let mut l: Vec<usize> = videos.iter().map(|v| v.len).collect();
        if l.is_empty() {
            return None;
        }
        l.sort_unstable();
        let total: usize = l.iter().sum();
        Some(LengthStats {
            count: l.len(),
            total,
            min: l[0],
            median: l[(l.len() - 1) / 2],
            mean: total as f64 / l.len() as f64,
            max: l[l.len() - 1],
        })
    }
}

/// Reads and validates every file of a dataset directory and collects every problem instead of
/// stopping at the first. Never fails: a directory that cannot be read at all gives a report
/// with one error.
pub fn inspect(dir: &Path, opts: &LoadOptions) -> InspectReport {
    let mut report = InspectReport {
        dir: dir.into(),
        layout: opts.layout,
        kind: opts.kind,
        classes: Vec::new(),
        videos: (0, 0),
        listed: (0, 0),
        instances: Vec::new(),
        snippets: [None, None],
        dims: (0, 0),
        dtypes: BTreeMap::new(),
        problems: Vec::new(),
        dataset: None,
    };
    let scan = match scan(dir, opts) {
        Ok(s) => s,
        Err(e) => {
            report.problems.push(Problem::error(&e));
            return report;
        }
    };
    let ds = scan.dataset;
    report.layout = Some(ds.layout);
    report.kind = Some(ds.kind);
    report.classes = ds.classes.names().to_vec();
    report.videos = (ds.train.len(), ds.test.len());
    report.listed = scan.listed;
    report.instances = vec![(0, 0); ds.classes.len()];
    for (split, videos) in [(0, &ds.train), (1, &ds.test)] {
        for v in videos.iter() {
            for s in &v.segments {
                if let Some(c) = ds.classes.index_of(&s.label) {
                    if split == 0 {
                        report.instances[c].0 += 1;
                    } else {
                        report.instances[c].1 += 1;
                    }
                }
            }
        }
    }
    report.snippets = [LengthStats::of(&ds.train), LengthStats::of(&ds.test)];
    report.dims = (ds.rgb_dim(), ds.flow_dim());
    report.dtypes = scan
        .dtypes
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    report.problems = scan.errors.iter().map(Problem::error).collect();
    report.problems.extend(ds.warnings.iter().cloned());
    if scan.errors.is_empty() {
        report.dataset = Some(ds);
    }
    report
}
