//! Retry delays: exponential growth to a cap, with jitter.
//!
//! Jitter matters more than growth: after a server restart every client sees its socket close at
//! the same instant, and without randomization they all come back in the same millisecond, again
//! and again. A fraction `jitter` of each delay is drawn uniformly, so the herd spreads out.

/// The settings that shape the delays (validated in `options`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    /// Milliseconds before the first retry.
    pub initial: f64,
    /// Cap on every delay, in milliseconds (never below `initial`).
    pub max: f64,
    /// Growth per failed attempt; 1 gives a fixed delay.
    pub factor: f64,
    /// Fraction (0 to 1) of each delay that is randomized.
    pub jitter: f64,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            initial: 1000.0,
            max: 30000.0,
            factor: 2.0,
            jitter: 0.5,
        }
    }
}

impl Backoff {
    /// The delay before retry number `attempt` (1 for the first retry), before jitter.
    pub fn base_delay(&self, attempt: u32) -> f64 {
        // A loop, not `powi` (std-only). It stops at the cap and after 1024 rounds (a factor close
        // to 1 never reaches the cap, and attempts count up without limit with `maxRetries:
        // Infinity`), so a delay never costs more than a few microseconds to compute.
        let cap = self.max.max(self.initial);
        let mut d = self.initial;
        for _ in 1..attempt.min(1025) {
            if d >= cap {
                break;
            }
            d *= self.factor;
        }
        if d.is_finite() {
            d.min(cap)
        } else {
            cap
        }
    }

    /// The delay with jitter; `random` is uniform in `[0, 1)`. The randomized part is taken off the
    /// top, so a delay never exceeds the cap and the fixed-delay classic (`factor` 1, `jitter` 0)
    /// is exact.
    ///
    /// ```
    /// use event_socket::backoff::Backoff;
    ///
    /// let b = Backoff { initial: 1000.0, max: 30000.0, factor: 2.0, jitter: 0.5 };
    /// // Retry 3: base 4000 ms, of which half is randomized.
    /// assert_eq!(b.delay(3, 0.0), 2000.0);
    /// assert_eq!(b.delay(3, 0.5), 3000.0);
    /// assert!(b.delay(3, 0.999) < 4000.0);
    /// // However many failures, the cap holds.
    /// assert!(b.delay(100, 0.999) <= 30000.0);
    /// ```
    pub fn delay(&self, attempt: u32, random: f64) -> f64 {
        let base = self.base_delay(attempt);
        let r = random.clamp(0.0, 1.0);
        (base * (1.0 - self.jitter) + base * self.jitter * r).max(0.0)
    }
}

/// A small xorshift generator: the state machine stays deterministic under test (seeded) and needs
/// no crate or browser call per attempt.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// Any seed works, small or sequential ones too: splitmix64 scrambles it first (plain xorshift
    /// started from nearby small seeds gives nearly equal first draws, i.e. no jitter at all).
    pub fn new(seed: u64) -> Self {
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Rng((z ^ (z >> 31)) | 1)
    }

    /// Uniform in `[0, 1)`.
    pub fn next_f64(&mut self) -> f64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        (x >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_by_factor_up_to_the_cap() {
        let b = Backoff {
            initial: 100.0,
            max: 1000.0,
            factor: 2.0,
            jitter: 0.0,
        };
        let d: Vec<f64> = (1..=6).map(|a| b.delay(a, 0.7)).collect();
        assert_eq!(d, vec![100.0, 200.0, 400.0, 800.0, 1000.0, 1000.0]);
        assert_eq!(b.delay(u32::MAX, 0.0), 1000.0);
    }

    #[test]
    fn factor_one_without_jitter_is_the_classic_fixed_delay() {
        let b = Backoff {
            initial: 3000.0,
            max: 30000.0,
            factor: 1.0,
            jitter: 0.0,
        };
        assert!((1..50).all(|a| b.delay(a, 0.3) == 3000.0));
        assert_eq!(b.delay(u32::MAX, 0.3), 3000.0);
    }

    #[test]
    fn the_exponent_stops_at_1024_so_a_factor_near_one_never_loops_for_long() {
        let b = Backoff {
            initial: 100.0,
            max: 1e9,
            factor: 1.000_001,
            jitter: 0.0,
        };
        // Without the stop, 4 billion rounds would reach the cap (1e9); with it, `powi(1024)`.
        let d = b.delay(u32::MAX, 0.0);
        assert!((d - 100.0 * 1.000_001f64.powi(1024)).abs() < 1e-6, "{d}");
    }

    #[test]
    fn jitter_randomizes_only_its_fraction() {
        let b = Backoff {
            jitter: 0.5,
            ..Backoff::default()
        };
        assert_eq!(b.delay(1, 0.0), 500.0);
        assert!(b.delay(1, 0.999_999) < 1000.0 && b.delay(1, 0.999_999) > 999.0);
    }

    #[test]
    fn rng_is_uniform_enough() {
        let mut r = Rng::new(42);
        let xs: Vec<f64> = (0..10_000).map(|_| r.next_f64()).collect();
        assert!(xs.iter().all(|x| (0.0..1.0).contains(x)));
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        assert!((mean - 0.5).abs() < 0.02, "mean {mean}");
    }
}
