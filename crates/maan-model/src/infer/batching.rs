//! How whole videos are grouped for inference ([`Batching`]): exact lengths on CPU backends,
//! fixed-size chunks of snippets on GPU backends, or padded buckets (see the `infer` module
//! docs), and the planner of padded batches ([`Batching::plan`]).

use serde::{Deserialize, Serialize};

/// How [`super::run_videos`] groups whole videos into padded batches (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Batching {
    /// Pad videos to bucket lengths and batch them (`true`, for GPU backends), or run each
    /// video alone at its exact length (`false`: CPU backends compile nothing per shape, and
    /// padding would only add work: 1.8× slower on flex, `maan bench infer`).
    pub buckets: bool,
    /// The shortest bucket length (a power of two).
    pub min_bucket: usize,
    /// The longest bucket length (a power of two); longer videos are padded to a multiple of
    /// it and run alone.
    pub max_bucket: usize,
    /// At most this many (padded) snippets in one batch, which bounds the memory of a batch
    /// (per stream: `max_snippets × D` features, `max_snippets × C` CAS values).
    pub max_snippets: usize,
    /// Snippets per chunk of the *chunked* mode (0: off). When `buckets` is set and this is
    /// not 0, the per-snippet layers run on the snippets of all videos stacked in chunks of
    /// `min(chunk, total.next_power_of_two())` rows (one shape per run, zero rows padding
    /// the last chunk), and each video's aggregation is done on the host (module docs).
    #[serde(default)]
    pub chunk: usize,
}

impl Default for Batching {
    fn default() -> Self {
        Batching {
            buckets: true,
            min_bucket: 64,
            max_bucket: 8192,
            max_snippets: 16_384,
            chunk: 8192,
        }
    }
}

impl Batching {
    /// One video a batch at its exact length (no padding): the choice for CPU backends.
    pub fn exact() -> Self {
        Batching {
            buckets: false,
            chunk: 0,
            ..Batching::default()
        }
    }

    /// Whole videos padded to bucket lengths, batched, on the device end to end (the mode
    /// before chunks; kept for comparison, `maan bench infer --batching buckets`).
    pub fn buckets() -> Self {
        Batching {
            chunk: 0,
            ..Batching::default()
        }
    }

    /// Whether this is the chunked mode (see [`Batching::chunk`]).
    pub fn is_chunked(&self) -> bool {
        self.buckets && self.chunk > 0
    }

    /// Buckets on GPU backends (`gpu = true`), exact lengths on CPU backends.
    pub fn for_gpu(gpu: bool) -> Self {
        if gpu {
            Batching::default()
        } else {
            Batching::exact()
        }
    }
}

/// One padded batch of [`Batching::plan`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedBatch {
    /// The padded length `T` of every video in the batch.
    pub len: usize,
    /// The batch size (a power of two for the last batch of a bucket, padded with copies of
    /// `videos[0]`), `>= videos.len()`.
    pub size: usize,
    /// Indices of the real videos, in batch order.
    pub videos: Vec<usize>,
}

impl Batching {
    /// The bucket length of a video of `len` snippets: the next power of two, clamped below by
    /// `min_bucket`; above `max_bucket`, the next multiple of `max_bucket`.
    pub fn bucket_len(&self, len: usize) -> usize {
        let len = len.max(1);
        if !self.buckets {
            len
        } else if len > self.max_bucket {
            len.div_ceil(self.max_bucket) * self.max_bucket
        } else {
            len.next_power_of_two().max(self.min_bucket)
        }
    }

    /// The full batch size of a bucket: as many videos as fit in `max_snippets` (at least 1).
    pub fn full_batch(&self, bucket_len: usize) -> usize {
        if !self.buckets {
            return 1;
        }
        (self.max_snippets / bucket_len.max(1)).max(1)
    }

    /// Groups videos of the given lengths into padded batches: by bucket (shortest first),
    /// full batches of [`Batching::full_batch`] videos, then a last batch padded up to a power
    /// of two. Every index appears in exactly one batch.
    pub fn plan(&self, lengths: &[usize]) -> Vec<PlannedBatch> {
        let mut by_bucket: std::collections::BTreeMap<usize, Vec<usize>> = Default::default();
        for (i, &len) in lengths.iter().enumerate() {
            by_bucket.entry(self.bucket_len(len)).or_default().push(i);
        }
        let mut out = Vec::new();
        for (len, videos) in by_bucket {
            let full = self.full_batch(len);
            for chunk in videos.chunks(full) {
                let size = if chunk.len() == full {
                    full
                } else {
                    chunk.len().next_power_of_two().min(full)
                };
                out.push(PlannedBatch {
                    len,
                    size,
                    videos: chunk.to_vec(),
                });
            }
        }
        out
    }
}
