//! CUB-200-2011 in its official on-disk format.
//!
//! ```text
//! CUB_200_2011/
//!   images.txt              <image_id> <relative path under images/>
//!   image_class_labels.txt  <image_id> <class_id, 1-based>
//!   train_test_split.txt    <image_id> <1: train, 0: test>
//!   bounding_boxes.txt      <image_id> <x> <y> <width> <height>   (pixels, floats)
//!   images/<class folder>/<name>.jpg
//! ```
//!
//! [`Cub::open`] reads and cross-checks the four list files (every id known, every image
//! with a class, a split and a box); [`Cub::load_set`] decodes the images of a split,
//! checks each box lies in its image, and resizes them to a square side with the boxes.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use image::imageops::FilterType;

use crate::error::WsolError;
use crate::localize::BBox;
use crate::train::ImageSet;

/// ImageNet channel means, for pretrained backbones.
pub const IMAGENET_MEAN: [f32; 3] = [0.485, 0.456, 0.406];
/// ImageNet channel standard deviations.
pub const IMAGENET_STD: [f32; 3] = [0.229, 0.224, 0.225];

/// Slack (pixels) allowed beyond the image edge: CUB's boxes are whole pixels that sometimes
/// reach one past the last column or row.
const EDGE_SLACK: f32 = 1.0;

/// A list file's rows by image id: (line number, fields after the id).
type Keyed = HashMap<u32, (usize, Vec<String>)>;

/// One image of the dataset.
#[derive(Debug, Clone, PartialEq)]
pub struct CubImage {
    /// Image id of the list files.
    pub id: u32,
    /// Path relative to `images/`.
    pub name: String,
    /// Class, 0-based (the file's class id minus one).
    pub label: usize,
    /// Whether the image is in the training split.
    pub train: bool,
    /// Ground-truth box in the original image's pixels.
    pub bbox: BBox,
    /// Line of the box in bounding_boxes.txt (for errors).
    box_line: usize,
}

/// The dataset's list files, checked against each other.
#[derive(Debug, Clone)]
pub struct Cub {
    /// The dataset folder.
    pub root: PathBuf,
    /// Every image, in images.txt order.
    pub images: Vec<CubImage>,
    /// Number of classes (the largest class id).
    pub num_classes: usize,
}

/// Reads a list file: one `(line number, fields)` per non-empty line, each with at least
/// `fields` whitespace-separated fields (the first is an image id).
fn read_list(path: &Path, fields: usize) -> Result<Vec<(usize, u32, Vec<String>)>, WsolError> {
    if !path.is_file() {
        return Err(WsolError::MissingFile {
            path: path.to_path_buf(),
        });
    }
    let text = std::fs::read_to_string(path).map_err(|source| WsolError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line_no = i + 1;
        let parts: Vec<&str> = line.split_whitespace().collect();
        if parts.is_empty() {
            continue;
        }
        let malformed = |message: String| WsolError::Malformed {
            path: path.to_path_buf(),
            line: line_no,
            message,
        };
        if parts.len() != fields {
            return Err(malformed(format!(
                "expected {fields} fields, found {}: {line:?}",
                parts.len()
            )));
        }
        let id: u32 = parts[0]
            .parse()
            .map_err(|_| malformed(format!("image id {:?} is not a number", parts[0])))?;
        rows.push((
            line_no,
            id,
            parts[1..].iter().map(|s| s.to_string()).collect(),
        ));
    }
    Ok(rows)
}

impl Cub {
    /// Reads and cross-checks the list files of the dataset at `root` (no image is decoded).
    pub fn open(root: &Path) -> Result<Cub, WsolError> {
        let images_txt = root.join("images.txt");
        let mut order = Vec::new();
        let mut names: HashMap<u32, String> = HashMap::new();
        for (line, id, f) in read_list(&images_txt, 2)? {
            if names.insert(id, f[0].clone()).is_some() {
                return Err(WsolError::Malformed {
                    path: images_txt.clone(),
                    line,
                    message: format!("image id {id} is listed twice"),
                });
            }
            order.push(id);
        }
        // Reads one list file into id -> (line, fields), checking every id is known.
        let keyed = |file: &str, fields: usize| -> Result<(PathBuf, Keyed), WsolError> {
            let path = root.join(file);
            let mut map = HashMap::new();
            for (line, id, f) in read_list(&path, fields)? {
                if !names.contains_key(&id) {
                    return Err(WsolError::UnknownImage { path, line, id });
                }
                if map.insert(id, (line, f)).is_some() {
                    return Err(WsolError::Malformed {
                        path,
                        line,
                        message: format!("image id {id} is listed twice"),
                    });
                }
            }
            Ok((path, map))
        };
        let (labels_path, labels) = keyed("image_class_labels.txt", 2)?;
        let (split_path, split) = keyed("train_test_split.txt", 2)?;
        let (boxes_path, boxes) = keyed("bounding_boxes.txt", 5)?;
        let mut images = Vec::with_capacity(order.len());
        let mut num_classes = 0;
        for id in order {
            let name = names[&id].clone();
            let entry = |path: &Path, map: &Keyed| {
                map.get(&id)
                    .cloned()
                    .ok_or_else(|| WsolError::MissingEntry {
                        path: path.to_path_buf(),
                        id,
                        name: name.clone(),
                    })
            };
            let (line, f) = entry(&labels_path, &labels)?;
            let class: usize =
                f[0].parse()
                    .ok()
                    .filter(|&c| c >= 1)
                    .ok_or_else(|| WsolError::Malformed {
                        path: labels_path.clone(),
                        line,
                        message: format!("class id {:?} is not a number ≥ 1", f[0]),
                    })?;
            num_classes = num_classes.max(class);
            let (line, f) = entry(&split_path, &split)?;
            let train = match f[0].as_str() {
                "1" => true,
                "0" => false,
                other => {
                    return Err(WsolError::Malformed {
                        path: split_path.clone(),
                        line,
                        message: format!("split {other:?} is neither 1 (train) nor 0 (test)"),
                    })
                }
            };
            let (box_line, f) = entry(&boxes_path, &boxes)?;
            let v: Vec<f32> = f
                .iter()
                .map(|s| s.parse::<f32>().ok().filter(|v| v.is_finite()))
                .collect::<Option<_>>()
                .ok_or_else(|| WsolError::Malformed {
                    path: boxes_path.clone(),
                    line: box_line,
                    message: format!("box {f:?} is not four numbers"),
                })?;
            if v[2] <= 0.0 || v[3] <= 0.0 {
                return Err(WsolError::Malformed {
                    path: boxes_path.clone(),
                    line: box_line,
                    message: format!("box of image id {id} has width or height ≤ 0"),
                });
            }
            images.push(CubImage {
                id,
                name,
                label: class - 1,
                train,
                bbox: BBox::new(v[0], v[1], v[0] + v[2], v[1] + v[3]),
                box_line,
            });
        }
        Ok(Cub {
            root: root.to_path_buf(),
            images,
            num_classes,
        })
    }

    /// Decodes one image, checks its box lies inside it, and resizes it to `size × size`.
    /// Returns the pixels (`[3, size, size]`, ImageNet-normalised) and the resized box.
    pub fn load_image(&self, img: &CubImage, size: usize) -> Result<(Vec<f32>, BBox), WsolError> {
        let path = self.root.join("images").join(&img.name);
        if !path.is_file() {
            return Err(WsolError::MissingFile { path });
        }
        let decoded = image::open(&path).map_err(|e| WsolError::UnreadableImage {
            path: path.clone(),
            id: img.id,
            message: e.to_string(),
        })?;
        let rgb = decoded.to_rgb8();
        let (width, height) = rgb.dimensions();
        let b = img.bbox;
        if b.x0 < 0.0
            || b.y0 < 0.0
            || b.x1 > width as f32 + EDGE_SLACK
            || b.y1 > height as f32 + EDGE_SLACK
        {
            return Err(WsolError::BoxOutsideImage {
                path: self.root.join("bounding_boxes.txt"),
                line: img.box_line,
                id: img.id,
                image: path,
                x: b.x0,
                y: b.y0,
                w: b.x1 - b.x0,
                h: b.y1 - b.y0,
                width,
                height,
            });
        }
        let resized = image::imageops::resize(&rgb, size as u32, size as u32, FilterType::Triangle);
        let mut pixels = vec![0.0f32; 3 * size * size];
        for (x, y, p) in resized.enumerate_pixels() {
            for c in 0..3 {
                let v = p.0[c] as f32 / 255.0;
                pixels[c * size * size + y as usize * size + x as usize] =
                    (v - IMAGENET_MEAN[c]) / IMAGENET_STD[c];
            }
        }
        let bbox = b
            .scaled(size as f32 / width as f32, size as f32 / height as f32)
            .clamp_to(size as f32);
        Ok((pixels, bbox))
    }

    /// The images of one split (`train` or test), at most `limit` of them (in file order,
    /// every class kept when `limit` is below the split's size: a stride over the list),
    /// decoded and resized to `size × size`.
    pub fn load_set(
        &self,
        train: bool,
        size: usize,
        limit: Option<usize>,
    ) -> Result<ImageSet, WsolError> {
        let split: Vec<&CubImage> = self.images.iter().filter(|i| i.train == train).collect();
        let n = limit.unwrap_or(split.len()).min(split.len());
        let mut set = ImageSet::new(size, self.num_classes);
        for j in 0..n {
            let img = split[j * split.len() / n.max(1)];
            let (pixels, bbox) = self.load_image(img, size)?;
            set.push(pixels, img.label, bbox);
        }
        Ok(set)
    }
}

impl BBox {
    /// The box clipped to `[0, side]²`.
    pub fn clamp_to(&self, side: f32) -> BBox {
        BBox::new(
            self.x0.clamp(0.0, side),
            self.y0.clamp(0.0, side),
            self.x1.clamp(0.0, side),
            self.y1.clamp(0.0, side),
        )
    }
}

/// Writes a tiny CUB-200-2011 in the official format under `dir` (for tests and examples):
/// three images of two classes (`001.Black_footed_Albatross`: ids 1 (train, 20×16 JPEG) and 2
/// (test, 24×12 JPEG); `002.Laysan_Albatross`: id 3 (test, 10×10 PNG)), each with the box
/// `(2, 3, width / 2, height / 2)`. Returns the dataset folder, `dir/CUB_200_2011`.
pub fn write_fixture(dir: &Path) -> Result<PathBuf, WsolError> {
    let root = dir.join("CUB_200_2011");
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| WsolError::Io { path, source }
    };
    let classes = ["001.Black_footed_Albatross", "002.Laysan_Albatross"];
    for c in classes {
        let d = root.join("images").join(c);
        std::fs::create_dir_all(&d).map_err(io(&d))?;
    }
    let files = [
        (
            1,
            classes[0],
            "Black_Footed_Albatross_0046_18.jpg",
            1,
            1,
            (20u32, 16u32),
        ),
        (
            2,
            classes[0],
            "Black_Footed_Albatross_0009_34.jpg",
            1,
            0,
            (24, 12),
        ),
        (
            3,
            classes[1],
            "Laysan_Albatross_0002_1027.png",
            2,
            0,
            (10, 10),
        ),
    ];
    let (mut images, mut labels, mut split, mut boxes) =
        (String::new(), String::new(), String::new(), String::new());
    for (id, class, name, label, train, (w, h)) in files {
        let rel = format!("{class}/{name}");
        images += &format!("{id} {rel}\n");
        labels += &format!("{id} {label}\n");
        split += &format!("{id} {train}\n");
        boxes += &format!("{id} 2.0 3.0 {}.0 {}.0\n", w / 2, h / 2);
        let img = image::RgbImage::from_fn(w, h, |x, y| image::Rgb([x as u8 * 10, y as u8, 7]));
        let path = root.join("images").join(&rel);
        img.save(&path).map_err(|e| WsolError::UnreadableImage {
            path: path.clone(),
            id,
            message: e.to_string(),
        })?;
    }
    for (file, text) in [
        ("images.txt", images),
        ("image_class_labels.txt", labels),
        ("train_test_split.txt", split),
        ("bounding_boxes.txt", boxes),
    ] {
        let path = root.join(file);
        std::fs::write(&path, text).map_err(io(&path))?;
    }
    Ok(root)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_official_format() {
        let dir = tempfile::tempdir().unwrap();
        let root = write_fixture(dir.path()).unwrap();
        let cub = Cub::open(&root).unwrap();
        assert_eq!(cub.num_classes, 2);
        assert_eq!(cub.images.len(), 3);
        assert_eq!(cub.images[2].label, 1);
        assert!(cub.images[0].train && !cub.images[1].train);
        assert_eq!(cub.images[0].bbox, BBox::new(2.0, 3.0, 12.0, 11.0));
        let test = cub.load_set(false, 8, None).unwrap();
        assert_eq!(test.len(), 2);
        assert_eq!(test.labels, vec![0, 1]);
        assert_eq!(test.images.len(), 2 * 3 * 8 * 8);
        // Image 2 is 24×12, box (2, 3, 12×6): scaled by 8/24 and 8/12.
        let b = test.boxes[0];
        assert!(
            (b.x0 - 2.0 / 3.0).abs() < 1e-5 && (b.y1 - 6.0).abs() < 1e-5,
            "{b:?}"
        );
        let train = cub.load_set(true, 8, Some(5)).unwrap();
        assert_eq!(train.len(), 1);
    }

    #[test]
    fn broken_fixtures_name_file_line_and_problem() {
        let dir = tempfile::tempdir().unwrap();
        let root = write_fixture(dir.path()).unwrap();
        // Malformed line.
        std::fs::write(root.join("train_test_split.txt"), "1 1\n2\n3 0\n").unwrap();
        let e = Cub::open(&root).unwrap_err().to_string();
        assert!(
            e.contains("train_test_split.txt:2:") && e.contains("expected 2 fields"),
            "{e}"
        );
        // Unknown image id.
        std::fs::write(root.join("train_test_split.txt"), "1 1\n2 0\n3 0\n9 1\n").unwrap();
        let e = Cub::open(&root).unwrap_err().to_string();
        assert!(
            e.contains("train_test_split.txt:4:") && e.contains("unknown image id 9"),
            "{e}"
        );
        // Image without a box.
        std::fs::write(root.join("train_test_split.txt"), "1 1\n2 0\n3 0\n").unwrap();
        std::fs::write(root.join("bounding_boxes.txt"), "1 2 3 10 8\n2 2 3 12 6\n").unwrap();
        let e = Cub::open(&root).unwrap_err().to_string();
        assert!(
            e.contains("bounding_boxes.txt: no entry for image id 3"),
            "{e}"
        );
        // Box outside its (10×10) image: found when the image is read.
        std::fs::write(
            root.join("bounding_boxes.txt"),
            "1 2 3 10 8\n2 2 3 12 6\n3 5 5 20 3\n",
        )
        .unwrap();
        let cub = Cub::open(&root).unwrap();
        let e = cub.load_set(false, 8, None).unwrap_err().to_string();
        assert!(
            e.contains("bounding_boxes.txt:3:") && e.contains("outside the 10×10 image"),
            "{e}"
        );
        // Unreadable image and missing list file.
        std::fs::write(
            root.join("bounding_boxes.txt"),
            "1 2 3 10 8\n2 2 3 12 6\n3 1 1 3 3\n",
        )
        .unwrap();
        let bad = root.join("images/002.Laysan_Albatross/Laysan_Albatross_0002_1027.png");
        std::fs::write(&bad, b"not a png").unwrap();
        let e = Cub::open(&root)
            .unwrap()
            .load_set(false, 8, None)
            .unwrap_err();
        assert!(matches!(e, WsolError::UnreadableImage { id: 3, .. }), "{e}");
        std::fs::remove_file(root.join("images.txt")).unwrap();
        let e = Cub::open(&root).unwrap_err().to_string();
        assert!(e.contains("images.txt: missing file"), "{e}");
    }
}
