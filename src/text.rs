//! Building messages without `core::fmt`.
//!
//! `format!` drags the formatting machinery (and, for floats, the float printer) into the wasm:
//! tens of KB that every page downloads for the sake of error and log messages. `cat!` joins
//! pieces with plain string pushes instead; numbers are printed by [`int`] and
//! [`crate::options::num`].

#[allow(unused_imports)]
use crate::prelude::*;
#[doc(hidden)]
pub use alloc::string::String;

/// Something `cat!` can append.
pub trait Piece {
    /// Appends `self` as text (integers in decimal, `f64` by [`crate::options::num`]).
    fn push_to(&self, out: &mut String);
}

impl Piece for str {
    fn push_to(&self, out: &mut String) {
        out.push_str(self);
    }
}

impl Piece for String {
    fn push_to(&self, out: &mut String) {
        out.push_str(self);
    }
}

impl<T: Piece + ?Sized> Piece for &T {
    fn push_to(&self, out: &mut String) {
        (**self).push_to(out);
    }
}

macro_rules! int_piece {
    ($($t:ty),*) => {$(
        impl Piece for $t {
            fn push_to(&self, out: &mut String) {
                push_int(out, *self as u64);
            }
        }
    )*};
}

int_piece!(u16, u32, u64, usize);

impl Piece for f64 {
    fn push_to(&self, out: &mut String) {
        out.push_str(&crate::options::num(*self));
    }
}

/// Appends the decimal digits of `n`, without an index or a division that could panic (a panic
/// path's message would bring core::fmt into the wasm).
pub fn push_int(out: &mut String, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut len = 0;
    for d in digits.iter_mut() {
        *d = b'0' + (n % 10) as u8;
        len += 1;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for d in digits.iter().take(len).rev() {
        out.push(char::from(*d));
    }
}

/// `n` in decimal.
pub fn int(n: u64) -> String {
    let mut s = String::new();
    push_int(&mut s, n);
    s
}

/// Joins its arguments (strings, integers, `f64`) into a `String`.
#[macro_export]
#[doc(hidden)]
macro_rules! cat {
    ($($piece:expr),* $(,)?) => {{
        let mut out = $crate::text::String::new();
        $( $crate::text::Piece::push_to(&$piece, &mut out); )*
        out
    }};
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_pieces_and_prints_numbers() {
        let s = String::from("b");
        assert_eq!(
            cat!("a", s, 0u32, " ", 1234567890123u64, " ", 0.5f64),
            "ab0 1234567890123 0.5"
        );
        assert_eq!(int(0), "0");
        assert_eq!(int(u64::MAX), "18446744073709551615");
    }
}
