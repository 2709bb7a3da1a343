//! Training from image labels only, and evaluation by localization error.

use burn::config::Config;
use burn::module::AutodiffModule;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::{AdamConfig, GradientsParams, Optimizer};
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{Int, Tensor, TensorData};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::localize::{
    cam_to_box, iou, localization_errors, resize_bilinear, top_k, BBox, LocErrors, LocRecord,
    CAM_THRESHOLD,
};
use crate::model::{WsolModel, WsolModelConfig};

/// Images with labels and boxes, held in memory, normalised for the model.
#[derive(Debug, Clone, Default)]
pub struct ImageSet {
    /// Side of every (square) image.
    pub size: usize,
    /// Number of classes.
    pub num_classes: usize,
    /// Pixels, `[n, 3, size, size]` flattened.
    pub images: Vec<f32>,
    /// Class of each image.
    pub labels: Vec<usize>,
    /// Ground-truth box of each image, in its pixels.
    pub boxes: Vec<BBox>,
}

impl ImageSet {
    /// An empty set of `size × size` images.
    pub fn new(size: usize, num_classes: usize) -> Self {
        ImageSet {
            size,
            num_classes,
            ..Default::default()
        }
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Appends one image (`[3, size, size]` flattened).
    pub fn push(&mut self, pixels: Vec<f32>, label: usize, bbox: BBox) {
        assert_eq!(pixels.len(), 3 * self.size * self.size, "image size");
        self.images.extend(pixels);
        self.labels.push(label);
        self.boxes.push(bbox);
    }

    /// The pixels of image `i`, `[3, size, size]` flattened.
    pub fn pixels(&self, i: usize) -> &[f32] {
        let n = 3 * self.size * self.size;
        &self.images[i * n..(i + 1) * n]
    }

    /// A batch of images and their labels.
    ///
    /// # Shapes
    /// - output: (`[indices.len(), 3, size, size]`, `[indices.len()]`)
    pub fn batch<B: Backend>(
        &self,
        indices: &[usize],
        device: &B::Device,
    ) -> (Tensor<B, 4>, Tensor<B, 1, Int>) {
        let s = self.size;
        let mut data = Vec::with_capacity(indices.len() * 3 * s * s);
        for &i in indices {
            data.extend_from_slice(self.pixels(i));
        }
        let x = Tensor::from_data(TensorData::new(data, [indices.len(), 3, s, s]), device);
        let labels: Vec<i64> = indices.iter().map(|&i| self.labels[i] as i64).collect();
        let y = Tensor::from_data(TensorData::new(labels, [indices.len()]), device);
        (x, y)
    }
}

/// Training settings.
#[derive(Config, Debug)]
pub struct WsolTrainConfig {
    /// The model.
    pub model: WsolModelConfig,
    /// Optimisation steps.
    #[config(default = 300)]
    pub iterations: usize,
    /// Images per step.
    #[config(default = 32)]
    pub batch_size: usize,
    /// Adam learning rate.
    #[config(default = 1e-3)]
    pub learning_rate: f64,
    /// Seed of the weights and of the batch order.
    #[config(default = 0)]
    pub seed: u64,
}

/// Trains a model from image labels only (cross-entropy on the class scores), with Adam on
/// random batches. `on_step(iteration, loss)` is called after every step; loss values are
/// read back only when `want_loss` is true (reading synchronises the device).
pub fn train<B: AutodiffBackend>(
    config: &WsolTrainConfig,
    data: &ImageSet,
    device: &B::Device,
    want_loss: bool,
    on_step: &mut dyn FnMut(usize, Option<f32>),
) -> WsolModel<B> {
    assert!(!data.is_empty(), "no training images");
    B::seed(device, config.seed);
    let model = config.model.init::<B>(device);
    train_from(config, model, data, device, want_loss, on_step)
}

/// [`train`] from a given model (e.g. with pretrained backbone weights loaded).
pub fn train_from<B: AutodiffBackend>(
    config: &WsolTrainConfig,
    mut model: WsolModel<B>,
    data: &ImageSet,
    device: &B::Device,
    want_loss: bool,
    on_step: &mut dyn FnMut(usize, Option<f32>),
) -> WsolModel<B> {
    let mut optim = AdamConfig::new().init::<B, WsolModel<B>>();
    let loss_fn = CrossEntropyLossConfig::new().init(device);
    let mut rng = StdRng::seed_from_u64(config.seed ^ 0x5EED0FBA7C4);
    let b = config.batch_size.min(data.len());
    for it in 0..config.iterations {
        let idx: Vec<usize> = (0..b).map(|_| rng.random_range(0..data.len())).collect();
        let (x, y) = data.batch::<B>(&idx, device);
        let logits = model.forward(x);
        let loss = loss_fn.forward(logits, y);
        let value = want_loss.then(|| loss.clone().into_scalar().elem::<f32>());
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(config.learning_rate, model, grads);
        on_step(it, value);
    }
    model
}

use burn::tensor::ElementConversion;

/// One image's localization, for figures.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Example {
    /// Index in the evaluated set.
    pub index: usize,
    /// Ground-truth class.
    pub label: usize,
    /// Predicted class.
    pub predicted: usize,
    /// CAM of the predicted class at image resolution, positive part over the maximum,
    /// `[size, size]`.
    pub cam: Vec<f32>,
    /// Box from the CAM.
    pub predicted_box: BBox,
    /// Ground-truth box.
    pub gt_box: BBox,
    /// IoU of the two.
    pub iou: f32,
}

/// What [`evaluate`] returns.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Evaluation {
    /// Error rates.
    pub errors: LocErrors,
    /// Per-image outcomes.
    pub records: Vec<LocRecord>,
    /// The first few images' maps and boxes.
    pub examples: Vec<Example>,
}

/// The map's positive part divided by its maximum (what the CAM rule thresholds).
fn normalised(map: &[f32]) -> Vec<f32> {
    let hi = map.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let hi = if hi > 0.0 { hi } else { 1.0 };
    map.iter().map(|v| v.max(0.0) / hi).collect()
}

/// Classifies every image, turns the CAM of the top-1 class and of the true class into
/// boxes (CAM upsampled bilinearly to the image, [`cam_to_box`] at 20%), and scores top-1 /
/// top-5 localization error at IoU 0.5. Keeps maps for the first `keep_examples` images.
pub fn evaluate<B: Backend>(
    model: &WsolModel<B>,
    data: &ImageSet,
    device: &B::Device,
    batch_size: usize,
    keep_examples: usize,
) -> Evaluation {
    let s = data.size;
    let mut records = Vec::with_capacity(data.len());
    let mut examples = Vec::new();
    let k = data.num_classes;
    for start in (0..data.len()).step_by(batch_size.max(1)) {
        let idx: Vec<usize> = (start..(start + batch_size).min(data.len())).collect();
        let n = idx.len();
        let (x, _) = data.batch::<B>(&idx, device);
        let out = model.forward_maps(x);
        let scores: Vec<f32> = out.logits.into_data().to_vec().expect("f32 logits");
        let top5: Vec<Vec<usize>> = (0..n)
            .map(|j| top_k(&scores[j * k..(j + 1) * k], 5))
            .collect();
        let pred: Vec<usize> = top5.iter().map(|t| t[0]).collect();
        let labels: Vec<usize> = idx.iter().map(|&i| data.labels[i]).collect();
        let mut classes = pred.clone();
        classes.extend_from_slice(&labels);
        let feats = out.features;
        let [_, _, h, w] = feats.dims();
        let both = Tensor::cat(vec![feats.clone(), feats], 0);
        let cams: Vec<f32> = model
            .cam(both, &classes)
            .into_data()
            .to_vec()
            .expect("f32 maps");
        for (j, &i) in idx.iter().enumerate() {
            let gt = data.boxes[i];
            let map = |m: usize| resize_bilinear(&cams[m * h * w..(m + 1) * h * w], h, w, s, s);
            let cam_pred = map(j);
            let box_pred = cam_to_box(&cam_pred, s, s, CAM_THRESHOLD);
            let box_label = if labels[j] == pred[j] {
                box_pred
            } else {
                cam_to_box(&map(n + j), s, s, CAM_THRESHOLD)
            };
            if i < keep_examples {
                examples.push(Example {
                    index: i,
                    label: labels[j],
                    predicted: pred[j],
                    cam: normalised(&cam_pred),
                    predicted_box: box_pred,
                    gt_box: gt,
                    iou: iou(&box_pred, &gt),
                });
            }
            records.push(LocRecord {
                label: labels[j],
                top5: top5[j].clone(),
                iou_top1: iou(&box_pred, &gt),
                iou_label: iou(&box_label, &gt),
            });
        }
    }
    Evaluation {
        errors: localization_errors(&records),
        records,
        examples,
    }
}

/// [`evaluate`] on the inference copy of an autodiff model.
pub fn evaluate_trained<B: AutodiffBackend>(
    model: &WsolModel<B>,
    data: &ImageSet,
    device: &B::Device,
    batch_size: usize,
    keep_examples: usize,
) -> Evaluation {
    evaluate(&model.valid(), data, device, batch_size, keep_examples)
}
