//! A share of a network's hidden units, for one training run split over K workers.
//!
//! Worker `r` of `K` holds the contiguous units `U_r = [r N / K, (r + 1) N / K)` of every
//! hidden layer: the rows `U_r` of each matrix that produces a hidden layer
//! (`W_0 [N x D]`, `W_i [N x N]`) and the columns `U_r` of the readout `W_H [C x N]`.
//! One worker (`K = 1`) holds the whole network.

use std::ops::Range;

/// Which hidden units of a width-`N` network this worker holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Part {
    /// This worker's index r.
    pub rank: usize,
    /// The number of workers K.
    pub count: usize,
    /// The network's width N.
    pub width: usize,
}

impl Part {
    /// The whole network on one worker.
    pub fn whole(width: usize) -> Self {
        Part {
            rank: 0,
            count: 1,
            width,
        }
    }

    /// True when this worker holds every unit.
    pub fn is_whole(&self) -> bool {
        self.count == 1
    }

    /// The units `U_r` of worker `r`.
    pub fn units_of(&self, r: usize) -> Range<usize> {
        self.width * r / self.count..self.width * (r + 1) / self.count
    }

    /// This worker's units.
    pub fn units(&self) -> Range<usize> {
        self.units_of(self.rank)
    }

    /// How many units this worker holds, `|U_r|`.
    pub fn len(&self) -> usize {
        self.units().len()
    }

    /// True when this worker holds no unit (more workers than units).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// This worker's entries of weight matrix `l` of `matrices` (the readout is the
    /// last), given the whole matrix `[fan_out x fan_in]` row-major: rows `U_r` of a
    /// matrix that produces a hidden layer, columns `U_r` of the readout.
    pub fn share(&self, l: usize, matrices: usize, fan_in: usize, whole: Vec<f32>) -> Vec<f32> {
        if self.is_whole() {
            whole
        } else if l + 1 == matrices {
            columns(&whole, fan_in, self.units())
        } else {
            let u = self.units();
            whole[u.start * fan_in..u.end * fan_in].to_vec()
        }
    }
}

/// Columns `cols` of a row-major matrix with `n` columns: `[rows x |cols|]`.
pub fn columns(m: &[f32], n: usize, cols: Range<usize>) -> Vec<f32> {
    m.chunks_exact(n)
        .flat_map(|row| &row[cols.clone()])
        .copied()
        .collect()
}

/// Write `src [rows x |cols|]` into columns `cols` of the row-major `dst` with `n`
/// columns.
pub fn put_columns(dst: &mut [f32], n: usize, cols: Range<usize>, src: &[f32]) {
    let k = cols.len();
    if k == 0 {
        return;
    }
    for (row, s) in dst.chunks_exact_mut(n).zip(src.chunks_exact(k)) {
        row[cols.clone()].copy_from_slice(s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_parts_tile_the_units_in_order() {
        for (n, k) in [(10, 3), (7, 7), (1024, 2), (5, 1)] {
            let parts: Vec<_> = (0..k)
                .map(|r| Part {
                    rank: r,
                    count: k,
                    width: n,
                })
                .collect();
            let mut next = 0;
            for p in &parts {
                assert_eq!(p.units().start, next);
                next = p.units().end;
                assert!(p.len() >= n / k && p.len() <= n.div_ceil(k));
            }
            assert_eq!(next, n);
        }
    }

    #[test]
    fn columns_round_trip_through_put_columns() {
        let m: Vec<f32> = (0..12).map(|v| v as f32).collect(); // [3 x 4]
        let c = columns(&m, 4, 1..3);
        assert_eq!(c, [1.0, 2.0, 5.0, 6.0, 9.0, 10.0]);
        let mut back = vec![0.0; 12];
        put_columns(&mut back, 4, 1..3, &c);
        assert_eq!(back, [0., 1., 2., 0., 0., 5., 6., 0., 0., 9., 10., 0.]);
    }

    #[test]
    fn a_share_is_rows_of_a_hidden_matrix_and_columns_of_the_readout() {
        let p = Part {
            rank: 1,
            count: 2,
            width: 4,
        };
        let w: Vec<f32> = (0..8).map(|v| v as f32).collect();
        // hidden matrix [4 x 2]: rows 2, 3
        assert_eq!(p.share(0, 2, 2, w.clone()), [4.0, 5.0, 6.0, 7.0]);
        // readout [2 x 4]: columns 2, 3
        assert_eq!(p.share(1, 2, 4, w), [2.0, 3.0, 6.0, 7.0]);
    }
}
