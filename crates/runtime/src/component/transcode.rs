//! The native string routines behind the adapters' transcoding intrinsics (see
//! `fact_environ::component::Transcode`). They work on byte slices of the two memories;
//! the adapter has already checked the ranges, and slicing checks them again.

use fact_environ::Trap;

fn utf16_units(src: &[u8]) -> impl Iterator<Item = u16> + '_ {
    src.chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
}

/// Validates UTF-8 and copies it.
pub fn utf8_to_utf8(src: &[u8], dst: &mut [u8]) -> Result<(), Trap> {
    std::str::from_utf8(src).map_err(|_| Trap::InvalidUtf8)?;
    dst.copy_from_slice(src);
    Ok(())
}

/// Validates UTF-16 (no unpaired surrogates) and copies it.
pub fn utf16_to_utf16(src: &[u8], dst: &mut [u8]) -> Result<(), Trap> {
    if char::decode_utf16(utf16_units(src)).any(|c| c.is_err()) {
        return Err(Trap::InvalidUtf16);
    }
    dst.copy_from_slice(src);
    Ok(())
}

/// Widens Latin-1 to UTF-16.
pub fn latin1_to_utf16(src: &[u8], dst: &mut [u8]) {
    for (b, out) in src.iter().zip(dst.chunks_exact_mut(2)) {
        out.copy_from_slice(&u16::from(*b).to_le_bytes());
    }
}

/// Validates UTF-8 and writes it as UTF-16; returns the code units written.
pub fn utf8_to_utf16(src: &[u8], dst: &mut [u8]) -> Result<usize, Trap> {
    let s = std::str::from_utf8(src).map_err(|_| Trap::InvalidUtf8)?;
    let mut n = 0;
    for (unit, out) in s.encode_utf16().zip(dst.chunks_exact_mut(2)) {
        out.copy_from_slice(&unit.to_le_bytes());
        n += 1;
    }
    Ok(n)
}

/// Validates UTF-16 and writes UTF-8 until the next code point would not fit in `dst`;
/// returns `(code units read, bytes written)`.
pub fn utf16_to_utf8(src: &[u8], dst: &mut [u8]) -> Result<(usize, usize), Trap> {
    let (mut read, mut written) = (0, 0);
    for c in char::decode_utf16(utf16_units(src)) {
        let c = c.map_err(|_| Trap::InvalidUtf16)?;
        let len = c.len_utf8();
        if written + len > dst.len() {
            break;
        }
        c.encode_utf8(&mut dst[written..]);
        written += len;
        read += c.len_utf16();
    }
    Ok((read, written))
}

/// Writes Latin-1 as UTF-8 until the next character would not fit; returns
/// `(bytes read, bytes written)`.
pub fn latin1_to_utf8(src: &[u8], dst: &mut [u8]) -> (usize, usize) {
    let (mut read, mut written) = (0, 0);
    for &b in src {
        let c = char::from(b);
        let len = c.len_utf8();
        if written + len > dst.len() {
            break;
        }
        c.encode_utf8(&mut dst[written..]);
        written += len;
        read += 1;
    }
    (read, written)
}

/// Validates UTF-8 and writes Latin-1 while every code point fits in a byte; returns
/// `(bytes read, bytes written)`. The unread rest is validated too.
pub fn utf8_to_latin1(src: &[u8], dst: &mut [u8]) -> Result<(usize, usize), Trap> {
    let s = std::str::from_utf8(src).map_err(|_| Trap::InvalidUtf8)?;
    let (mut read, mut written) = (0, 0);
    for c in s.chars() {
        let Ok(b) = u8::try_from(u32::from(c)) else {
            break;
        };
        if written >= dst.len() {
            break;
        }
        dst[written] = b;
        written += 1;
        read += c.len_utf8();
    }
    Ok((read, written))
}

/// Validates UTF-16 and writes Latin-1 while every code unit fits in a byte; returns
/// `(code units read, bytes written)`.
pub fn utf16_to_latin1(src: &[u8], dst: &mut [u8]) -> Result<(usize, usize), Trap> {
    if char::decode_utf16(utf16_units(src)).any(|c| c.is_err()) {
        return Err(Trap::InvalidUtf16);
    }
    let mut n = 0;
    for unit in utf16_units(src) {
        if unit > 0xff || n >= dst.len() {
            break;
        }
        dst[n] = unit as u8;
        n += 1;
    }
    Ok((n, n))
}

/// Widens the first `len` Latin-1 bytes of `buf` to UTF-16 in place (`buf` holds at least
/// `2 * len` bytes).
pub fn inflate_latin1(buf: &mut [u8], len: usize) {
    for i in (0..len).rev() {
        let b = buf[i];
        buf[2 * i] = b;
        buf[2 * i + 1] = 0;
    }
}

/// Narrows `units` UTF-16 code units at the start of `buf` to Latin-1 in place if all of
/// them fit in a byte; returns whether it did.
pub fn deflate_utf16(buf: &mut [u8], units: usize) -> bool {
    if utf16_units(&buf[..2 * units]).any(|u| u > 0xff) {
        return false;
    }
    for i in 0..units {
        buf[i] = buf[2 * i];
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16(s: &str) -> Vec<u8> {
        s.encode_utf16().flat_map(|u| u.to_le_bytes()).collect()
    }

    #[test]
    fn round_trips_and_validation() {
        let s = "héllo ☃ 🍰";
        let mut out = vec![0; 2 * s.len()];
        let n = utf8_to_utf16(s.as_bytes(), &mut out).unwrap();
        assert_eq!(&out[..2 * n], utf16(s).as_slice());
        let mut back = vec![0; 3 * n];
        let (read, written) = utf16_to_utf8(&out[..2 * n], &mut back).unwrap();
        assert_eq!((read, &back[..written]), (n, s.as_bytes()));
        assert_eq!(utf8_to_utf8(&[0xff], &mut [0]), Err(Trap::InvalidUtf8));
        assert_eq!(
            utf16_to_utf16(&[0x00, 0xd8], &mut [0, 0]),
            Err(Trap::InvalidUtf16)
        );
    }

    #[test]
    fn capacity_stops_at_code_point_boundaries() {
        let src = utf16("a☃b");
        let mut dst = vec![0; 3];
        assert_eq!(utf16_to_utf8(&src, &mut dst).unwrap(), (1, 1));
        let mut dst = vec![0; 2];
        assert_eq!(latin1_to_utf8(&[b'a', 0xe9, b'c'], &mut dst), (1, 1));
    }

    #[test]
    fn latin1_paths() {
        let (read, written) = utf8_to_latin1("aé☃".as_bytes(), &mut [0; 8]).unwrap();
        assert_eq!((read, written), (3, 2));
        let mut buf = vec![b'a', 0xe9, 0, 0];
        inflate_latin1(&mut buf, 2);
        assert_eq!(buf, utf16("aé"));
        assert!(deflate_utf16(&mut buf, 2));
        assert_eq!(&buf[..2], &[b'a', 0xe9]);
        let mut snow = utf16("☃");
        assert!(!deflate_utf16(&mut snow, 1));
        let mut wide = vec![0; 4];
        latin1_to_utf16(&[b'x', 0xff], &mut wide);
        assert_eq!(wide, utf16("x\u{ff}"));
    }
}
