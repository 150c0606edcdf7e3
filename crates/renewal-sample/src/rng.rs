//! The generator's only source of randomness, and the little arithmetic it needs.
//!
//! Everything here uses only `+ - * /` and comparisons on `f64`, which IEEE 754 rounds the same
//! way on every platform, so a seed gives byte-identical files on any machine. (`f64::exp`,
//! `ln` and `powf` call the platform's maths library and may differ in the last bit.)

/// splitmix64: tiny, well mixed, and stable across platforms and Rust releases.
pub(crate) struct Rng(u64);

impl Rng {
    /// An independent stream for one dataset family, so that adding a family (or changing how
    /// one family draws) never changes the numbers of the others.
    pub(crate) fn stream(seed: u64, family: &str) -> Rng {
        // FNV-1a of the family name, mixed into the seed.
        let mut h: u64 = 0xCBF2_9CE4_8422_2325;
        for b in family.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01B3);
        }
        let mut rng = Rng(seed ^ h);
        // Discard one output so that nearby seeds do not start nearby.
        rng.next_u64();
        rng
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in [lo, hi).
    pub(crate) fn between(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    /// Approximately standard normal (Irwin–Hall: twelve uniforms less six), bounded by ±6.
    pub(crate) fn normal(&mut self) -> f64 {
        (0..12).map(|_| self.unit()).sum::<f64>() - 6.0
    }

    /// Successes in `n` trials of probability `p`, counted one trial at a time: exact, and
    /// cheap enough for the few thousand trials a ward's households make.
    pub(crate) fn binomial(&mut self, n: u32, p: f64) -> u32 {
        (0..n).map(|_| u32::from(self.unit() < p)).sum()
    }

    /// A Poisson count of mean `mean` (Knuth's product of uniforms). Means above 16 are drawn
    /// as a sum of Poisson parts, which is again Poisson, so `e^-mean` never underflows.
    pub(crate) fn poisson(&mut self, mean: f64) -> u32 {
        let mut left = mean.max(0.0);
        let mut count = 0;
        while left > 0.0 {
            let part = left.min(16.0);
            left -= part;
            let floor = exp(-part);
            let mut product = self.unit();
            while product > floor {
                count += 1;
                product *= self.unit();
            }
        }
        count
    }
}

/// e^x to about twelve significant figures from arithmetic alone: a Taylor polynomial for
/// x/1024, squared ten times. Monotone, which is all the generator relies on.
pub(crate) fn exp(x: f64) -> f64 {
    let y = x.clamp(-40.0, 40.0) / 1024.0;
    let mut e = 1.0 + y * (1.0 + y / 2.0 * (1.0 + y / 3.0 * (1.0 + y / 4.0 * (1.0 + y / 5.0))));
    for _ in 0..10 {
        e *= e;
    }
    e
}

/// The logistic function, mapping the real line onto (0, 1).
pub(crate) fn logistic(x: f64) -> f64 {
    1.0 / (1.0 + exp(-x))
}

/// Inverse of [`logistic`] by bisection (no logarithm needed).
pub(crate) fn logit(p: f64) -> f64 {
    let (mut lo, mut hi) = (-40.0_f64, 40.0_f64);
    for _ in 0..80 {
        let mid = (lo + hi) / 2.0;
        if logistic(mid) < p {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    (lo + hi) / 2.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a: Vec<u64> = (0..4).map(|_| Rng::stream(1, "iod").next_u64()).collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
        assert_ne!(
            Rng::stream(1, "iod").next_u64(),
            Rng::stream(1, "place").next_u64()
        );
        assert_ne!(
            Rng::stream(1, "iod").next_u64(),
            Rng::stream(2, "iod").next_u64()
        );
    }

    #[test]
    fn draws_stay_in_range() {
        let mut rng = Rng::stream(7, "test");
        for _ in 0..10_000 {
            let u = rng.unit();
            assert!((0.0..1.0).contains(&u));
            let b = rng.between(3.0, 5.0);
            assert!((3.0..5.0).contains(&b));
            assert!(rng.normal().abs() <= 6.0);
        }
    }

    /// Mean and variance near their theory over many draws: n p and n p (1 − p) for the
    /// binomial, the mean for both moments of the Poisson (also above the 16 split).
    #[test]
    fn counts_have_their_distributions_moments() {
        let moments = |draws: Vec<u32>| {
            let n = draws.len() as f64;
            let mean = draws.iter().map(|&x| f64::from(x)).sum::<f64>() / n;
            let var = draws
                .iter()
                .map(|&x| (f64::from(x) - mean) * (f64::from(x) - mean))
                .sum::<f64>()
                / (n - 1.0);
            (mean, var)
        };
        let mut rng = Rng::stream(3, "test");
        let (mean, var) = moments((0..4000).map(|_| rng.binomial(500, 0.1)).collect());
        assert!((mean - 50.0).abs() < 0.5, "binomial mean {mean}");
        assert!((var - 45.0).abs() < 5.0, "binomial variance {var}");
        for lambda in [0.0, 0.7, 4.0, 16.0, 37.5] {
            let (mean, var) = moments((0..4000).map(|_| rng.poisson(lambda)).collect());
            // Five standard errors of the sample mean and of the sample variance.
            let (se_mean, se_var) = (
                (lambda / 4000.0_f64).sqrt(),
                ((lambda + 2.0 * lambda * lambda) / 4000.0_f64).sqrt(),
            );
            assert!(
                (mean - lambda).abs() <= 5.0 * se_mean,
                "poisson({lambda}) mean {mean}"
            );
            assert!(
                (var - lambda).abs() <= 5.0 * se_var,
                "poisson({lambda}) variance {var}"
            );
        }
        assert_eq!(rng.binomial(0, 0.5), 0);
        assert_eq!(rng.binomial(10, 1.0), 10);
    }

    #[test]
    fn arithmetic_exp_and_logit_are_accurate_enough() {
        for x in [-10.0, -1.0, 0.0, 0.5, 3.0] {
            let want = f64::exp(x);
            assert!((exp(x) - want).abs() <= 1e-9 * want, "exp({x})");
        }
        for p in [0.001, 0.025, 0.5, 0.9, 0.999] {
            assert!((logistic(logit(p)) - p).abs() < 1e-12, "logit({p})");
        }
    }
}
