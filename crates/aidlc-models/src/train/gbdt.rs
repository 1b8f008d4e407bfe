//! Histogram gradient-boosted trees, grown leaf-wise.
//!
//! Every feature is cut into at most `max_bins` bins (quantiles of the training values, with
//! `f32` thresholds); a categorical feature is encoded as its category's rank by frequency and
//! cut like a number. Bin 255 holds missing values, and each split learns which side they take.
//! Trees grow best-leaf-first; the histogram of the smaller child is built from its rows and the
//! larger child's is the parent's minus it. Histograms are built in parallel over features, each
//! feature summed over rows in one fixed order, so the model does not depend on the number of
//! threads.
//!
//! A split on bin `b` sends bins `≤ b` left, which is exactly `x as f32 <= threshold[b]` on the
//! encoded value: the trained trees route rows the same way in the native scorer and in ONNX.

use super::linear::frequent_categories;
use super::{SplitMix, Target, TrainOutcome, TrainSet, model_of, thread_count};
use crate::builtin::{Encoding, Link, Predictor, Tree, TreeEnsemble};
use crate::error::ModelError;
use crate::frame::Frame;
use aidlc_data::Column;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The bin of a missing value (and of a category not seen in training).
const MISSING: u8 = 255;
/// Histogram slots per feature: up to 255 value bins and the missing bin.
const SLOTS: usize = 256;
/// Rows sampled per feature to place the bin thresholds.
const BIN_SAMPLE: usize = 200_000;

/// Parameters of the gradient-boosted trees trainer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GbdtParams {
    /// Boosting rounds (the most, with early stopping). A multiclass round adds one tree per
    /// class.
    pub n_trees: usize,
    /// Shrinkage applied to every leaf value.
    pub learning_rate: f64,
    /// The most leaves per tree.
    pub max_leaves: usize,
    /// The deepest a leaf may be (the root is depth 0); `None` leaves depth to `max_leaves`.
    pub max_depth: Option<usize>,
    /// The fewest training rows in a leaf.
    pub min_samples_leaf: usize,
    /// The least hessian (row weight, for squared error) in a leaf.
    pub min_hessian_leaf: f64,
    /// L2 penalty on leaf values.
    pub l2: f64,
    /// Value bins per feature, 2 to 255 (a missing value has its own bin besides these).
    pub max_bins: usize,
    /// Stop when the validation loss has not improved for this many rounds, and keep the best
    /// round's trees. Needs a validation set; `None` runs every round.
    pub early_stopping_rounds: Option<usize>,
    /// The share of rows each round learns from, drawn with the seed; 1 uses every row.
    pub subsample: f64,
    /// The share of features each tree may split on, drawn with the seed; 1 uses every feature.
    pub feature_fraction: f64,
    /// Worker threads; `None` uses every core. The model is the same for any value.
    pub threads: Option<usize>,
}

impl Default for GbdtParams {
    fn default() -> Self {
        GbdtParams {
            n_trees: 100,
            learning_rate: 0.1,
            max_leaves: 31,
            max_depth: None,
            min_samples_leaf: 20,
            min_hessian_leaf: 1e-3,
            l2: 0.0,
            max_bins: 255,
            early_stopping_rounds: Some(20),
            subsample: 1.0,
            feature_fraction: 1.0,
            threads: None,
        }
    }
}

impl GbdtParams {
    fn check(&self) -> Result<(), ModelError> {
        let bad = |what: &str| Err(ModelError::Training(format!("gbdt: {what}")));
        if self.n_trees == 0 {
            return bad("n_trees must be at least 1");
        }
        if !(self.learning_rate > 0.0 && self.learning_rate.is_finite()) {
            return bad("learning_rate must be a positive number");
        }
        if self.max_leaves < 2 {
            return bad("max_leaves must be at least 2");
        }
        if !(2..=255).contains(&self.max_bins) {
            return bad("max_bins must be between 2 and 255");
        }
        let non_negative = |x: f64| x.is_finite() && x >= 0.0;
        if !(non_negative(self.l2) && non_negative(self.min_hessian_leaf)) {
            return bad("l2 and min_hessian_leaf must be non-negative numbers");
        }
        if !(self.subsample > 0.0 && self.subsample <= 1.0) {
            return bad("subsample must be in (0, 1]");
        }
        if !(self.feature_fraction > 0.0 && self.feature_fraction <= 1.0) {
            return bad("feature_fraction must be in (0, 1]");
        }
        if self.early_stopping_rounds == Some(0) {
            return bad("early_stopping_rounds must be at least 1");
        }
        Ok(())
    }
}

/// How one feature's values map to bins.
#[derive(Debug, Clone)]
struct FeatureBins {
    /// Bin `b` holds the values `x` with `threshold[b-1] < x as f32 <= threshold[b]`; there is
    /// one bin more than thresholds.
    thresholds: Vec<f32>,
    /// For a categorical feature, the rank of each category (its encoded value).
    categories: Option<HashMap<String, u8>>,
}

impl FeatureBins {
    fn n_bins(&self) -> usize {
        self.thresholds.len() + 1
    }

    /// The threshold of a split on bin `b`: the bin's upper threshold, or for the last bin (all
    /// values left, missing right) the largest `f32`.
    fn split_threshold(&self, b: usize) -> f32 {
        self.thresholds.get(b).copied().unwrap_or(f32::MAX)
    }

    fn bin_number(&self, x: f64) -> u8 {
        if x.is_nan() {
            return MISSING;
        }
        let x = x as f32;
        self.thresholds.partition_point(|t| x > *t) as u8
    }

    /// The bins of a column (of this feature's kind).
    fn bin_column(&self, column: &Column) -> Vec<u8> {
        match (column, &self.categories) {
            (Column::Numeric(v), _) => v.iter().map(|&x| self.bin_number(x)).collect(),
            (Column::Categorical(v), Some(ranks)) => v
                .iter()
                .map(|c| {
                    c.as_deref()
                        .and_then(|c| ranks.get(c))
                        .copied()
                        .unwrap_or(MISSING)
                })
                .collect(),
            (Column::Categorical(v), None) => vec![MISSING; v.len()],
        }
    }
}

/// The thresholds of a numeric column: bins of about equal row counts over a sample of the
/// values, each threshold halfway between two neighbouring distinct values (as `f32`).
fn fit_numeric(values: &[f64], max_bins: usize) -> Vec<f32> {
    let present = values.iter().filter(|x| !x.is_nan()).count();
    let stride = present.div_ceil(BIN_SAMPLE).max(1);
    let mut sample: Vec<f32> = values
        .iter()
        .filter(|x| !x.is_nan())
        .step_by(stride)
        .map(|&x| x as f32)
        .collect();
    sample.sort_by(f32::total_cmp);
    let mut distinct: Vec<(f32, usize)> = Vec::new();
    for x in sample {
        match distinct.last_mut() {
            Some((v, count)) if *v == x => *count += 1,
            _ => distinct.push((x, 1)),
        }
    }
    let midpoint = |a: f32, b: f32| {
        let m = ((f64::from(a) + f64::from(b)) / 2.0) as f32;
        if m >= a && m < b { m } else { a }
    };
    if distinct.len() <= max_bins {
        return distinct
            .windows(2)
            .map(|w| midpoint(w[0].0, w[1].0))
            .collect();
    }
    let total: usize = distinct.iter().map(|d| d.1).sum();
    let mut thresholds = Vec::with_capacity(max_bins - 1);
    let (mut seen, mut in_bin) = (0usize, 0usize);
    for i in 0..distinct.len() - 1 {
        seen += distinct[i].1;
        in_bin += distinct[i].1;
        let bins_left = max_bins - thresholds.len();
        // The share of the remaining rows each remaining bin should hold.
        let target = (total - (seen - in_bin)) as f64 / bins_left as f64;
        if in_bin as f64 >= target && thresholds.len() < max_bins - 1 {
            thresholds.push(midpoint(distinct[i].0, distinct[i + 1].0));
            in_bin = 0;
        }
    }
    thresholds
}

/// The fitted bins of every feature, and the model encodings that give the same values.
fn fit_bins(frame: &Frame, max_bins: usize, threads: usize) -> (Vec<FeatureBins>, Vec<Encoding>) {
    let fit = |column: &Column| match column {
        Column::Numeric(v) => (
            FeatureBins {
                thresholds: fit_numeric(v, max_bins),
                categories: None,
            },
            Encoding::Numeric {
                fill: None,
                center: 0.0,
                scale: 1.0,
            },
        ),
        Column::Categorical(v) => {
            let categories = frequent_categories(v, max_bins);
            let ranks = categories
                .iter()
                .enumerate()
                .map(|(k, c)| (c.clone(), k as u8))
                .collect();
            (
                FeatureBins {
                    thresholds: (1..categories.len()).map(|k| k as f32 - 0.5).collect(),
                    categories: Some(ranks),
                },
                Encoding::Ordinal { categories },
            )
        }
    };
    parallel_map(&frame.columns, threads, fit)
        .into_iter()
        .unzip()
}

/// `f` over `items` on up to `threads` threads, results in order.
fn parallel_map<T: Sync, R: Send>(
    items: &[T],
    threads: usize,
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    if threads <= 1 || items.len() <= 1 {
        return items.iter().map(&f).collect();
    }
    let per = items.len().div_ceil(threads);
    let f = &f;
    std::thread::scope(|s| {
        let handles: Vec<_> = items
            .chunks(per)
            .map(|chunk| s.spawn(move || chunk.iter().map(f).collect::<Vec<R>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a binning thread panicked"))
            .collect()
    })
}

/// Runs `f(offset, chunk)` over `data` cut into one chunk per thread.
fn parallel_chunks<T: Send>(data: &mut [T], threads: usize, f: impl Fn(usize, &mut [T]) + Sync) {
    const MIN_CHUNK: usize = 16_384;
    if threads <= 1 || data.len() < 2 * MIN_CHUNK {
        f(0, data);
        return;
    }
    let per = data.len().div_ceil(threads);
    let f = &f;
    std::thread::scope(|s| {
        for (i, chunk) in data.chunks_mut(per).enumerate() {
            s.spawn(move || f(i * per, chunk));
        }
    });
}

/// Gradient and hessian sums (and the row count) of a histogram bin or a node.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Cell {
    g: f64,
    h: f64,
    n: f64,
}

impl Cell {
    fn add(&mut self, o: &Cell) {
        self.g += o.g;
        self.h += o.h;
        self.n += o.n;
    }

    fn minus(&self, o: &Cell) -> Cell {
        Cell {
            g: self.g - o.g,
            h: self.h - o.h,
            n: self.n - o.n,
        }
    }
}

/// The best split of a leaf.
#[derive(Debug, Clone, Copy)]
struct Split {
    feature: usize,
    bin: usize,
    missing_left: bool,
    gain: f64,
    left: Cell,
    right: Cell,
}

/// Everything fixed while growing trees.
struct Grower<'a> {
    params: &'a GbdtParams,
    bins: &'a [Vec<u8>],
    features: &'a [FeatureBins],
    threads: usize,
}

/// A leaf waiting to be split: its node, rows `start..end` of the row order, histogram and best
/// split.
struct Leaf {
    node: usize,
    start: usize,
    end: usize,
    depth: usize,
    total: Cell,
    hist: Vec<Cell>,
    best: Option<Split>,
}

/// A grown tree with the bin of each split, for routing binned rows.
struct Grown {
    tree: Tree,
    split_bin: Vec<u8>,
    /// Each node's slice of the row order the tree was grown with.
    ranges: Vec<(usize, usize)>,
    /// The feature and gain of each split, for feature importance.
    gains: Vec<(usize, f64)>,
}

impl Grown {
    /// Adds each leaf's value to output `k` of the scores of the rows it holds (`order` is the
    /// row order left by growing this tree).
    fn add_to(&self, order: &[u32], scores: &mut [f64], m: usize, k: usize) {
        for (i, &(start, end)) in self.ranges.iter().enumerate() {
            if self.tree.left[i] == 0 {
                let v = self.tree.value[i];
                for &r in &order[start..end] {
                    scores[r as usize * m + k] += v;
                }
            }
        }
    }

    fn leaf_value(&self, bins: &[Vec<u8>], row: usize) -> f64 {
        let t = &self.tree;
        let mut i = 0usize;
        loop {
            let l = t.left[i];
            if l == 0 {
                return t.value[i];
            }
            let b = bins[t.feature[i] as usize][row];
            let go_left = if b == MISSING {
                t.missing_left[i]
            } else {
                b <= self.split_bin[i]
            };
            i = if go_left { l } else { t.right[i] } as usize;
        }
    }
}

impl Grower<'_> {
    fn leaf_value(&self, total: &Cell) -> f64 {
        -total.g / (total.h + self.params.l2) * self.params.learning_rate
    }

    fn score(&self, c: &Cell) -> f64 {
        c.g * c.g / (c.h + self.params.l2)
    }

    /// Sums the gradients of `rows` (in `gh`, gathered in row order; `None` means every row in
    /// order) into each active feature's slots of `hist`, in parallel over features.
    fn build_histogram(
        &self,
        rows: Option<&[u32]>,
        gh: &[[f32; 2]],
        active: &[bool],
        hist: &mut [Cell],
    ) {
        let mut slots: Vec<(usize, &mut [Cell])> = hist
            .chunks_mut(SLOTS)
            .enumerate()
            .filter(|(f, _)| active[*f])
            .collect();
        if self.threads <= 1 || gh.len() * slots.len() < 100_000 {
            fill_group(self.bins, &mut slots, rows, gh);
            return;
        }
        let per = slots.len().div_ceil(self.threads);
        let bins = self.bins;
        std::thread::scope(|s| {
            for group in slots.chunks_mut(per) {
                s.spawn(move || fill_group(bins, group, rows, gh));
            }
        });
    }

    /// The best split of a leaf over the active features; the first best on a tie (lowest
    /// feature, then lowest bin, then missing right).
    fn best_split(&self, leaf: &Leaf, active: &[bool]) -> Option<Split> {
        let p = self.params;
        if let Some(max_depth) = p.max_depth
            && leaf.depth >= max_depth
        {
            return None;
        }
        let min_n = p.min_samples_leaf.max(1) as f64;
        if leaf.total.n < 2.0 * min_n {
            return None;
        }
        let parent = self.score(&leaf.total);
        let mut best: Option<Split> = None;
        let mut consider = |feature: usize, bin: usize, left: Cell, missing_left: bool| {
            let right = leaf.total.minus(&left);
            if left.n < min_n
                || right.n < min_n
                || left.h < p.min_hessian_leaf
                || right.h < p.min_hessian_leaf
            {
                return;
            }
            let gain = self.score(&left) + self.score(&right) - parent;
            if gain > 1e-12 * parent.abs().max(1e-300) && best.is_none_or(|b| gain > b.gain) {
                best = Some(Split {
                    feature,
                    bin,
                    missing_left,
                    gain,
                    left,
                    right,
                });
            }
        };
        for (f, fb) in self.features.iter().enumerate() {
            if !active[f] {
                continue;
            }
            let slots = &leaf.hist[f * SLOTS..(f + 1) * SLOTS];
            let missing = slots[MISSING as usize];
            let n_bins = fb.n_bins();
            let mut left = Cell::default();
            for (b, cell) in slots[..n_bins].iter().enumerate() {
                left.add(cell);
                if b + 1 < n_bins {
                    if cell.n == 0.0 {
                        // The same partition as the bin before.
                        continue;
                    }
                    if missing.n > 0.0 {
                        consider(f, b, left, false);
                        let mut with_missing = left;
                        with_missing.add(&missing);
                        consider(f, b, with_missing, true);
                    } else {
                        // No missing values here: at scoring time they follow the larger side.
                        let right_n = leaf.total.n - left.n;
                        consider(f, b, left, left.n >= right_n);
                    }
                } else if missing.n > 0.0 {
                    // Every value left, missing values right.
                    consider(f, b, left, false);
                }
            }
        }
        best
    }

    /// Grows one tree on `rows` (sorted) with per-row gradients `grad`; `order` and `gh` are
    /// scratch space.
    fn grow(
        &self,
        rows: &[u32],
        grad: &[[f32; 2]],
        active: &[bool],
        order: &mut Vec<u32>,
        output: usize,
    ) -> Grown {
        let n_features = self.features.len();
        order.clear();
        order.extend_from_slice(rows);
        let mut gh: Vec<[f32; 2]> = order.iter().map(|&r| grad[r as usize]).collect();
        let mut total = Cell::default();
        for &[g, h] in &gh {
            total.g += f64::from(g);
            total.h += f64::from(h);
        }
        total.n = order.len() as f64;
        let mut hist = vec![Cell::default(); n_features * SLOTS];
        // Every row in order (no subsample) needs no row indices.
        let all = rows.len() == self.bins.first().map_or(0, Vec::len);
        self.build_histogram((!all).then_some(&order[..]), &gh, active, &mut hist);
        let mut tree = Tree {
            output,
            feature: vec![0],
            threshold: vec![0.0],
            left: vec![0],
            right: vec![0],
            missing_left: vec![false],
            value: vec![self.leaf_value(&total)],
        };
        let mut split_bin = vec![0u8];
        let mut ranges = vec![(0, order.len())];
        let mut gains = Vec::new();
        let mut root = Leaf {
            node: 0,
            start: 0,
            end: order.len(),
            depth: 0,
            total,
            hist,
            best: None,
        };
        root.best = self.best_split(&root, active);
        let mut leaves = vec![root];
        let mut scratch: Vec<u32> = Vec::new();
        let mut n_leaves = 1;
        while n_leaves < self.params.max_leaves {
            let Some(at) = leaves
                .iter()
                .enumerate()
                .filter_map(|(i, l)| l.best.map(|b| (i, b.gain)))
                .fold(None, |acc: Option<(usize, f64)>, (i, g)| match acc {
                    Some((_, best)) if best >= g => acc,
                    _ => Some((i, g)),
                })
                .map(|(i, _)| i)
            else {
                break;
            };
            let mut parent = leaves.swap_remove(at);
            let split = parent.best.take().expect("a chosen leaf has a split");
            gains.push((split.feature, split.gain));
            // Stable partition of the leaf's rows: left rows keep their order at the front.
            let column = &self.bins[split.feature];
            let segment = &mut order[parent.start..parent.end];
            // Branch-free: every row is written to both sides and counts on one.
            scratch.resize(segment.len(), 0);
            let (mut n_left, mut n_right) = (0, 0);
            let (bin, missing_left) = (split.bin, split.missing_left);
            for i in 0..segment.len() {
                let r = segment[i];
                let b = column[r as usize];
                let left = (b == MISSING && missing_left) | (b != MISSING && usize::from(b) <= bin);
                segment[n_left] = r;
                scratch[n_right] = r;
                n_left += usize::from(left);
                n_right += usize::from(!left);
            }
            segment[n_left..].copy_from_slice(&scratch[..n_right]);
            let mid = parent.start + n_left;
            // The tree: the parent becomes a split, its children two new leaves.
            let (l, r) = (tree.feature.len(), tree.feature.len() + 1);
            let p = parent.node;
            tree.feature[p] = split.feature as u32;
            tree.threshold[p] = self.features[split.feature].split_threshold(split.bin);
            tree.missing_left[p] = split.missing_left;
            tree.left[p] = l as u32;
            tree.right[p] = r as u32;
            tree.value[p] = 0.0;
            split_bin[p] = split.bin as u8;
            for total in [split.left, split.right] {
                tree.feature.push(0);
                tree.threshold.push(0.0);
                tree.left.push(0);
                tree.right.push(0);
                tree.missing_left.push(false);
                tree.value.push(self.leaf_value(&total));
                split_bin.push(0);
            }
            ranges.push((parent.start, mid));
            ranges.push((mid, parent.end));
            n_leaves += 1;
            let mut left = Leaf {
                node: l,
                start: parent.start,
                end: mid,
                depth: parent.depth + 1,
                total: split.left,
                hist: Vec::new(),
                best: None,
            };
            let mut right = Leaf {
                node: r,
                start: mid,
                end: parent.end,
                depth: parent.depth + 1,
                total: split.right,
                hist: Vec::new(),
                best: None,
            };
            let last_round = n_leaves >= self.params.max_leaves;
            if !last_round {
                // Build the smaller child's histogram; the larger's is the parent's minus it.
                let (small, large) = if n_left <= parent.end - mid {
                    (&mut left, &mut right)
                } else {
                    (&mut right, &mut left)
                };
                let small_rows = &order[small.start..small.end];
                gh.clear();
                gh.extend(small_rows.iter().map(|&r| grad[r as usize]));
                let mut small_hist = vec![Cell::default(); n_features * SLOTS];
                self.build_histogram(Some(small_rows), &gh, active, &mut small_hist);
                for (p, s) in parent.hist.iter_mut().zip(&small_hist) {
                    *p = p.minus(s);
                }
                small.hist = small_hist;
                large.hist = std::mem::take(&mut parent.hist);
                left.best = self.best_split(&left, active);
                right.best = self.best_split(&right, active);
            }
            for child in [left, right] {
                if child.best.is_some() {
                    leaves.push(child);
                }
            }
            // Keep the leaves in node order, so ties between equal gains break the same way.
            leaves.sort_by_key(|l| l.node);
        }
        Grown {
            tree,
            split_bin,
            ranges,
            gains,
        }
    }
}

/// Fills the histograms of a group of features, four at a time: each row's index and gradients
/// are read once for four features.
fn fill_group(
    bins: &[Vec<u8>],
    group: &mut [(usize, &mut [Cell])],
    rows: Option<&[u32]>,
    gh: &[[f32; 2]],
) {
    for (_, slots) in group.iter_mut() {
        slots.fill(Cell::default());
    }
    for quad in group.chunks_mut(4) {
        if let [(f0, s0), (f1, s1), (f2, s2), (f3, s3)] = quad {
            let columns = [&bins[*f0][..], &bins[*f1], &bins[*f2], &bins[*f3]];
            let slots = [as_slots(s0), as_slots(s1), as_slots(s2), as_slots(s3)];
            fill4(columns, slots, rows, gh);
        } else {
            for (f, s) in quad.iter_mut() {
                fill1(&bins[*f], as_slots(s), rows, gh);
            }
        }
    }
}

fn as_slots(slots: &mut [Cell]) -> &mut [Cell; SLOTS] {
    slots.try_into().expect("a feature has 256 histogram slots")
}

#[inline(always)]
fn bump(slots: &mut [Cell; SLOTS], bin: u8, g: f32, h: f32) {
    let c = &mut slots[bin as usize];
    c.g += f64::from(g);
    c.h += f64::from(h);
    c.n += 1.0;
}

fn fill1(column: &[u8], slots: &mut [Cell; SLOTS], rows: Option<&[u32]>, gh: &[[f32; 2]]) {
    match rows {
        Some(rows) => {
            for (&r, &[g, h]) in rows.iter().zip(gh) {
                bump(slots, column[r as usize], g, h);
            }
        }
        None => {
            for (&b, &[g, h]) in column.iter().zip(gh) {
                bump(slots, b, g, h);
            }
        }
    }
}

fn fill4(
    columns: [&[u8]; 4],
    slots: [&mut [Cell; SLOTS]; 4],
    rows: Option<&[u32]>,
    gh: &[[f32; 2]],
) {
    let [c0, c1, c2, c3] = columns;
    let [s0, s1, s2, s3] = slots;
    match rows {
        Some(rows) => {
            for (&r, &[g, h]) in rows.iter().zip(gh) {
                let r = r as usize;
                bump(s0, c0[r], g, h);
                bump(s1, c1[r], g, h);
                bump(s2, c2[r], g, h);
                bump(s3, c3[r], g, h);
            }
        }
        None => {
            let n = gh.len();
            let (c0, c1, c2, c3) = (&c0[..n], &c1[..n], &c2[..n], &c3[..n]);
            for (k, &[g, h]) in gh.iter().enumerate() {
                bump(s0, c0[k], g, h);
                bump(s1, c1[k], g, h);
                bump(s2, c2[k], g, h);
                bump(s3, c3[k], g, h);
            }
        }
    }
}

/// The loss being boosted.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Objective {
    Binary,
    Multiclass(usize),
    Squared,
}

impl Objective {
    fn outputs(self) -> usize {
        match self {
            Objective::Multiclass(k) => k,
            _ => 1,
        }
    }
}

/// Class index or value of each row, for gradients and losses.
fn labels(target: &Target) -> Vec<f64> {
    match target {
        Target::Classes { y, .. } => y.iter().map(|&c| c as f64).collect(),
        Target::Values(v) => v.clone(),
    }
}

/// Gradient and hessian of every row for output `k`, from the raw scores (row-major,
/// `outputs` per row).
fn gradients(
    objective: Objective,
    k: usize,
    scores: &[f64],
    y: &[f64],
    weights: Option<&[f64]>,
    out: &mut [[f32; 2]],
    threads: usize,
) {
    let m = objective.outputs();
    parallel_chunks(out, threads, |offset, chunk| {
        for (j, gh) in chunk.iter_mut().enumerate() {
            let i = offset + j;
            let w = weights.map_or(1.0, |w| w[i]);
            let (g, h) = match objective {
                Objective::Binary => {
                    let p = 1.0 / (1.0 + (-scores[i]).exp());
                    (p - y[i], (p * (1.0 - p)).max(1e-16))
                }
                Objective::Multiclass(_) => {
                    let s = &scores[i * m..(i + 1) * m];
                    let max = s.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                    let sum: f64 = s.iter().map(|v| (v - max).exp()).sum();
                    let p = (s[k] - max).exp() / sum;
                    let t = f64::from(y[i] as usize == k);
                    (p - t, (p * (1.0 - p)).max(1e-16))
                }
                Objective::Squared => (scores[i] - y[i], 1.0),
            };
            // Gradients are kept in f32 (sums are f64): half the memory traffic.
            *gh = [(g * w) as f32, (h * w) as f32];
        }
    });
}

/// The weighted mean loss of raw scores: log loss or squared error.
fn loss(objective: Objective, scores: &[f64], y: &[f64], weights: Option<&[f64]>) -> f64 {
    let m = objective.outputs();
    let (mut total, mut weight) = (0.0, 0.0);
    for (i, &t) in y.iter().enumerate() {
        let w = weights.map_or(1.0, |w| w[i]);
        let l = match objective {
            Objective::Binary => {
                let z = scores[i];
                z.max(0.0) + (-z.abs()).exp().ln_1p() - t * z
            }
            Objective::Multiclass(_) => {
                let s = &scores[i * m..(i + 1) * m];
                let max = s.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let log_sum = max + s.iter().map(|v| (v - max).exp()).sum::<f64>().ln();
                log_sum - s[t as usize]
            }
            Objective::Squared => (scores[i] - t) * (scores[i] - t),
        };
        total += w * l;
        weight += w;
    }
    total / weight
}

/// The starting scores: the log-odds of the positive class, the log of each class prior, or the
/// mean value.
fn base_scores(objective: Objective, y: &[f64], weights: Option<&[f64]>) -> Vec<f64> {
    let m = objective.outputs();
    let mut sums = vec![0.0; m];
    let mut weight = 0.0;
    for (i, &t) in y.iter().enumerate() {
        let w = weights.map_or(1.0, |w| w[i]);
        weight += w;
        match objective {
            Objective::Binary | Objective::Squared => sums[0] += w * t,
            Objective::Multiclass(_) => sums[t as usize] += w,
        }
    }
    match objective {
        Objective::Binary => {
            let p = (sums[0] / weight).clamp(1e-15, 1.0 - 1e-15);
            vec![(p / (1.0 - p)).ln()]
        }
        Objective::Multiclass(_) => sums.iter().map(|s| (s / weight).max(1e-15).ln()).collect(),
        Objective::Squared => vec![sums[0] / weight],
    }
}

pub(super) fn train(
    params: &GbdtParams,
    train: &TrainSet,
    valid: Option<&TrainSet>,
    seed: u64,
) -> Result<TrainOutcome, ModelError> {
    params.check()?;
    let threads = thread_count(params.threads);
    let frame = &train.features;
    if frame.n_rows > u32::MAX as usize {
        return Err(ModelError::Training(format!(
            "gbdt: {} rows is more than the trainer takes ({})",
            frame.n_rows,
            u32::MAX
        )));
    }
    let objective = match &train.target {
        Target::Classes { classes, .. } if classes.len() == 2 => Objective::Binary,
        Target::Classes { classes, .. } => Objective::Multiclass(classes.len()),
        Target::Values(_) => Objective::Squared,
    };
    let m = objective.outputs();
    let (features, encodings) = fit_bins(frame, params.max_bins, threads);
    let pairs: Vec<(&FeatureBins, &Column)> = features.iter().zip(&frame.columns).collect();
    let bins: Vec<Vec<u8>> = parallel_map(&pairs, threads, |(fb, c)| fb.bin_column(c));
    let n = frame.n_rows;
    let y = labels(&train.target);
    let weights = train.weights.as_deref();
    let base = base_scores(objective, &y, weights);
    let mut scores: Vec<f64> = (0..n).flat_map(|_| base.iter().copied()).collect();

    let mut valid_data = valid.map(|v| {
        let pairs: Vec<(&FeatureBins, &Column)> =
            features.iter().zip(&v.features.columns).collect();
        let bins: Vec<Vec<u8>> = parallel_map(&pairs, threads, |(fb, c)| fb.bin_column(c));
        let scores: Vec<f64> = (0..v.features.n_rows)
            .flat_map(|_| base.iter().copied())
            .collect();
        (bins, scores, labels(&v.target), v.weights.as_deref())
    });

    let grower = Grower {
        params,
        bins: &bins,
        features: &features,
        threads,
    };
    let mut rng = SplitMix(seed);
    let mut grad = vec![[0.0f32; 2]; n];
    let mut order: Vec<u32> = Vec::with_capacity(n);
    let mut tree_gains: Vec<Vec<(usize, f64)>> = Vec::new();
    let mut trees: Vec<Tree> = Vec::new();
    let mut history = Vec::new();
    let mut best: Option<(usize, f64)> = None;
    let all_rows: Vec<u32> = (0..n as u32).collect();
    let n_active = ((features.len() as f64 * params.feature_fraction).ceil() as usize)
        .clamp(1, features.len().max(1));
    let mut rounds = 0;
    for round in 0..params.n_trees {
        rounds = round + 1;
        let bag: Vec<u32> = if params.subsample < 1.0 {
            (0..n as u32)
                .filter(|_| rng.next_f64() < params.subsample)
                .collect()
        } else {
            Vec::new()
        };
        let rows = if params.subsample < 1.0 {
            &bag
        } else {
            &all_rows
        };
        let mut round_trees = Vec::with_capacity(m);
        // Every class's gradients in a round come from the scores before it, so a multiclass
        // round adds its trees to a copy.
        let mut next = (m > 1).then(|| scores.clone());
        for k in 0..m {
            let mut active = vec![true; features.len()];
            if n_active < features.len() {
                // A partial Fisher–Yates shuffle picks the tree's features.
                let mut ids: Vec<usize> = (0..features.len()).collect();
                for i in 0..n_active {
                    let j = i + (rng.next_u64() % (ids.len() - i) as u64) as usize;
                    ids.swap(i, j);
                }
                active = vec![false; features.len()];
                ids[..n_active].iter().for_each(|&f| active[f] = true);
            }
            gradients(objective, k, &scores, &y, weights, &mut grad, threads);
            let grown = grower.grow(rows, &grad, &active, &mut order, k);
            let target = next.as_mut().unwrap_or(&mut scores);
            if params.subsample < 1.0 {
                // Rows out of the bag are in no leaf: route every row.
                parallel_chunks(target, threads, |offset, chunk| {
                    for (j, s) in chunk.iter_mut().enumerate() {
                        let i = offset + j;
                        if i % m == k {
                            *s += grown.leaf_value(&bins, i / m);
                        }
                    }
                });
            } else {
                grown.add_to(&order, target, m, k);
            }
            round_trees.push(grown);
        }
        if let Some(next) = next {
            scores = next;
        }
        if let Some((vbins, vscores, vy, vw)) = valid_data.as_mut() {
            for grown in &round_trees {
                let k = grown.tree.output;
                parallel_chunks(vscores, threads, |offset, chunk| {
                    for (j, s) in chunk.iter_mut().enumerate() {
                        let i = offset + j;
                        if i % m == k {
                            *s += grown.leaf_value(vbins, i / m);
                        }
                    }
                });
            }
            let l = loss(objective, vscores, vy, *vw);
            history.push(l);
            if best.is_none_or(|(_, b)| l < b) {
                best = Some((round + 1, l));
            }
        }
        for grown in round_trees {
            tree_gains.push(grown.gains);
            trees.push(grown.tree);
        }
        if let (Some(stop), Some((best_round, _))) = (params.early_stopping_rounds, best)
            && round + 1 - best_round >= stop
        {
            break;
        }
    }
    let best_iteration = match (params.early_stopping_rounds, best) {
        (Some(_), Some((best_round, _))) => {
            trees.truncate(best_round * m);
            tree_gains.truncate(best_round * m);
            Some(best_round)
        }
        _ => None,
    };
    let link = match objective {
        Objective::Binary => Link::Logistic,
        Objective::Multiclass(_) => Link::Softmax,
        Objective::Squared => Link::Identity,
    };
    let predictor = Predictor::Trees(TreeEnsemble {
        base_scores: base,
        trees,
        link,
    });
    // The importance of the trees kept: total split gain per feature.
    let mut importance = vec![0.0; features.len()];
    for &(f, gain) in tree_gains.iter().flatten() {
        importance[f] += gain;
    }
    let feature_importance = frame.names.iter().cloned().zip(importance).collect();
    Ok(TrainOutcome {
        model: model_of(train, encodings, predictor),
        iterations: rounds,
        best_iteration,
        valid_history: history,
        feature_importance,
    })
}
