//! Which files of a folder are videos ([`VIDEO_EXTENSIONS`]) and the videos to process from a
//! path ([`list_videos`]), each with the id its outputs are named after.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::VideoError;

/// File extensions taken as videos when a folder is listed (lower case).
pub const VIDEO_EXTENSIONS: &[&str] = &[
    "mp4", "m4v", "mov", "mkv", "avi", "webm", "mpg", "mpeg", "flv", "wmv", "3gp", "ts",
];

/// The videos at `path`: the file itself, or the video files of the folder (by extension,
/// [`VIDEO_EXTENSIONS`]) sorted by id, each with its id (the file stem).
///
/// # Errors
/// [`VideoError::Listing`] for a path that is neither, a folder without video files, a file
/// name that is not UTF-8 or two files of one id; [`VideoError::Io`] when the folder cannot
/// be read.
pub fn list_videos(path: &Path) -> Result<Vec<(String, PathBuf)>, VideoError> {
    let listing = |message: String| VideoError::Listing {
        path: path.to_path_buf(),
        message,
    };
    let files: Vec<PathBuf> = if path.is_dir() {
        let io = |source| VideoError::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut files = Vec::new();
        for entry in std::fs::read_dir(path).map_err(io)? {
            let p = entry.map_err(io)?.path();
            let is_video = p
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| VIDEO_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()));
            if p.is_file() && is_video {
                files.push(p);
            }
        }
        if files.is_empty() {
            return Err(listing(format!(
                "no video files (extensions {})",
                VIDEO_EXTENSIONS.join(", ")
            )));
        }
        files
    } else if path.is_file() {
        vec![path.to_path_buf()]
    } else {
        return Err(listing("no such file or folder".into()));
    };
    let mut by_id: BTreeMap<String, PathBuf> = BTreeMap::new();
    for f in files {
        let Some(id) = f.file_stem().and_then(|s| s.to_str()).map(str::to_string) else {
            return Err(listing(format!("{}: file name is not UTF-8", f.display())));
        };
        if let Some(other) = by_id.insert(id.clone(), f.clone()) {
            return Err(listing(format!(
                "{} and {} would both write the features of video {id}",
                other.display(),
                f.display()
            )));
        }
    }
    Ok(by_id.into_iter().collect())
}
