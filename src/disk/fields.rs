//! Bounds-checked integer fields of on-disk structures: a field past the end of its buffer reads as zero (callers
//! size their buffers first; this only keeps a mistake from becoming a panic).

pub(crate) fn be32(b: &[u8], at: usize) -> u32 {
    arr(b, at).map_or(0, u32::from_be_bytes)
}
pub(crate) fn be64(b: &[u8], at: usize) -> u64 {
    arr(b, at).map_or(0, u64::from_be_bytes)
}
pub(crate) fn le16(b: &[u8], at: usize) -> u16 {
    arr(b, at).map_or(0, u16::from_le_bytes)
}
pub(crate) fn le32(b: &[u8], at: usize) -> u32 {
    arr(b, at).map_or(0, u32::from_le_bytes)
}
pub(crate) fn le64(b: &[u8], at: usize) -> u64 {
    arr(b, at).map_or(0, u64::from_le_bytes)
}

fn arr<const N: usize>(b: &[u8], at: usize) -> Option<[u8; N]> {
    b.get(at..at.checked_add(N)?)?.try_into().ok()
}

/// `b[at..at + len]`, or an empty slice where that is out of bounds.
pub(crate) fn slice(b: &[u8], at: usize, len: usize) -> &[u8] {
    at.checked_add(len)
        .and_then(|end| b.get(at..end))
        .unwrap_or(&[])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_bounds_fields_read_as_zero() {
        let b = [1u8, 2, 3, 4, 5];
        assert_eq!(be32(&b, 0), 0x0102_0304);
        assert_eq!(le16(&b, 3), 0x0504);
        assert_eq!(be32(&b, 2), 0);
        assert_eq!(le64(&b, usize::MAX), 0);
        assert_eq!(be64(&b, 0), 0);
        assert_eq!(le32(&b, 1), 0x0504_0302);
        assert_eq!(slice(&b, 3, 2), &[4, 5]);
        assert!(slice(&b, 4, 2).is_empty());
        assert!(slice(&b, usize::MAX, 2).is_empty());
    }
}
