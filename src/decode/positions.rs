//! Rows given as ascending positions, left out of a buffer: what clearing a column's
//! failed values ([`super::column`]) does to each of its buffers.

use polars_arrow::bitmap::BitmapBuilder;

/// Removes the items of `v` at `rows` (ascending), handing each to `removed`.
pub fn retain_except<T>(v: &mut Vec<T>, rows: &[usize], mut removed: impl FnMut(&T)) {
    let mut next = rows.iter().copied().peekable();
    let mut i = 0;
    v.retain(|item| {
        let keep = next.peek() != Some(&i);
        if !keep {
            next.next();
            removed(item);
        }
        i += 1;
        keep
    });
}

/// The bits of `bits` but those at `rows` (ascending).
pub fn bits_without(bits: &mut BitmapBuilder, rows: &[usize]) -> BitmapBuilder {
    let frozen = std::mem::take(bits).freeze();
    let mut out = BitmapBuilder::with_capacity(frozen.len() - rows.len());
    let mut next = rows.iter().copied().peekable();
    for (i, bit) in frozen.iter().enumerate() {
        if next.peek() == Some(&i) {
            next.next();
        } else {
            out.push(bit);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rows_given_are_left_out_and_handed_over() {
        let mut v = vec![10, 11, 12, 13];
        let mut gone = Vec::new();
        retain_except(&mut v, &[1, 3], |x| gone.push(*x));
        assert_eq!((v, gone), (vec![10, 12], vec![11, 13]));
        let mut bits = BitmapBuilder::new();
        [true, false, true, true, false].into_iter().for_each(|b| bits.push(b));
        let kept: Vec<bool> = bits_without(&mut bits, &[0, 3]).freeze().iter().collect();
        assert_eq!(kept, [false, true, false]);
    }
}
