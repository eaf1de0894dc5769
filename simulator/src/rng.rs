//! The simulator's random numbers: one seeded ChaCha8 generator
//! ([`rand_chacha`]) and the distributions the fleet needs on top of it.
//!
//! ChaCha8's output is fixed by its seed and documented as stable across
//! versions of `rand_chacha`, so the same seed gives the same fleet and the same
//! bytes. Each part of a run draws from its own [`SimRng::fork`], so adding draws
//! in one part does not shift every other part.

use rand::{Rng as _, RngCore as _, SeedableRng as _};
use rand_chacha::ChaCha8Rng;

/// A seeded generator with the distributions the simulation draws from.
#[derive(Debug, Clone)]
pub struct SimRng {
    inner: ChaCha8Rng,
}

impl SimRng {
    /// A generator whose whole sequence is fixed by `seed`.
    pub fn new(seed: u64) -> SimRng {
        SimRng {
            inner: ChaCha8Rng::seed_from_u64(seed),
        }
    }

    /// An independent generator for one named part of the simulation: a fresh
    /// key drawn from this generator, on ChaCha stream `stream`.
    pub fn fork(&mut self, stream: u64) -> SimRng {
        let mut inner = ChaCha8Rng::from_seed(self.inner.random());
        inner.set_stream(stream);
        SimRng { inner }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.inner.next_u64()
    }

    /// The next 128 random bits.
    pub fn next_u128(&mut self) -> u128 {
        self.inner.random()
    }

    /// A uniform value in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        self.inner.random()
    }

    /// A uniform integer in `[0, n)`; 0 when `n` is 0.
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        self.inner.random_range(0..n)
    }

    /// A uniform integer in `[low, high]`; `low` when `high <= low`.
    pub fn between(&mut self, low: u64, high: u64) -> u64 {
        if high <= low {
            return low;
        }
        self.inner.random_range(low..=high)
    }

    /// True with probability `p` (never below 0, always above 1).
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// A uniformly chosen element, or `None` from an empty slice.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        items.get(self.below(items.len() as u64) as usize)
    }

    /// A standard normal value (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.unit();
        let u2 = self.unit();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// A log-normal value with the given median and shape `sigma`: the right-skewed
    /// shape of real request latencies.
    pub fn log_normal(&mut self, median: f64, sigma: f64) -> f64 {
        median * (sigma * self.normal()).exp()
    }

    /// An exponential value with the given mean (gaps between Poisson arrivals).
    pub fn exponential(&mut self, mean: f64) -> f64 {
        -mean * (1.0 - self.unit()).ln()
    }

    /// An index drawn with probability proportional to `weights`; 0 for no weight.
    pub fn weighted(&mut self, weights: &[f64]) -> usize {
        let total: f64 = weights.iter().sum();
        if total <= 0.0 {
            return 0;
        }
        let mut target = self.unit() * total;
        for (index, weight) in weights.iter().enumerate() {
            if target < *weight {
                return index;
            }
            target -= weight;
        }
        weights.len().saturating_sub(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_sequence_and_different_seeds_differ() {
        let a: Vec<u64> = (0..8)
            .map({
                let mut rng = SimRng::new(7);
                move |_| rng.next_u64()
            })
            .collect();
        let b: Vec<u64> = (0..8)
            .map({
                let mut rng = SimRng::new(7);
                move |_| rng.next_u64()
            })
            .collect();
        let c: Vec<u64> = (0..8)
            .map({
                let mut rng = SimRng::new(8);
                move |_| rng.next_u64()
            })
            .collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn forks_differ_from_each_other_and_from_the_parent() {
        let mut root = SimRng::new(1);
        let mut a = root.fork(1);
        let mut b = root.fork(2);
        let from_a: Vec<u64> = (0..4).map(|_| a.next_u64()).collect();
        let from_b: Vec<u64> = (0..4).map(|_| b.next_u64()).collect();
        let from_root: Vec<u64> = (0..4).map(|_| root.next_u64()).collect();
        assert_ne!(from_a, from_b);
        assert_ne!(from_a, from_root);
        let mut again = SimRng::new(1);
        assert_eq!(
            from_a,
            (0..4)
                .map({
                    let mut fork = again.fork(1);
                    move |_| fork.next_u64()
                })
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn bounded_draws_stay_in_range() {
        let mut rng = SimRng::new(1);
        for _ in 0..10_000 {
            assert!(rng.below(7) < 7);
            let v = rng.between(3, 5);
            assert!((3..=5).contains(&v));
            let u = rng.unit();
            assert!((0.0..1.0).contains(&u));
        }
        assert_eq!(rng.below(0), 0);
        assert_eq!(rng.between(9, 2), 9);
    }

    #[test]
    fn log_normal_median_is_close_and_right_skewed() {
        let mut rng = SimRng::new(3);
        let mut draws: Vec<f64> = (0..20_001).map(|_| rng.log_normal(100.0, 0.8)).collect();
        draws.sort_by(f64::total_cmp);
        let median = draws[10_000];
        let mean = draws.iter().sum::<f64>() / draws.len() as f64;
        assert!((90.0..110.0).contains(&median), "median {median}");
        assert!(mean > median * 1.2, "mean {mean} median {median}");
    }

    #[test]
    fn weighted_follows_weights() {
        let mut rng = SimRng::new(5);
        let mut counts = [0u32; 3];
        for _ in 0..30_000 {
            counts[rng.weighted(&[1.0, 0.0, 3.0])] += 1;
        }
        assert_eq!(counts[1], 0);
        let ratio = f64::from(counts[2]) / f64::from(counts[0]);
        assert!((2.7..3.3).contains(&ratio), "ratio {ratio}");
    }
}
