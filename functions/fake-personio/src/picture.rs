//! The fake's profile pictures: a valid 1×1 PNG per person and picture version, distinct for each
//! (the person and version are written into a `tEXt` chunk), so that a test can tell whose picture
//! it holds and whether it is the current one.

/// The PNG the fake serves for person `id` at picture `version`.
pub fn profile_picture_png(id: u64, version: u32) -> Vec<u8> {
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    // IHDR: 1×1, 8-bit RGB, no interlace.
    chunk(&mut png, b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0]);
    let text = format!("Comment\0personio-sync fake: person {id}, picture {version}");
    chunk(&mut png, b"tEXt", text.as_bytes());
    // One scanline (filter byte 0, then R G B from the id) in a zlib stream of one stored block.
    let colour =
        (id.wrapping_mul(2_654_435_761) ^ u64::from(version).wrapping_mul(40_503)).to_be_bytes();
    let scanline = [0, colour[5], colour[6], colour[7]];
    let mut zlib = vec![0x78, 0x01, 0x01, 4, 0, !4, 0xff];
    zlib.extend_from_slice(&scanline);
    zlib.extend_from_slice(&adler32(&scanline).to_be_bytes());
    chunk(&mut png, b"IDAT", &zlib);
    chunk(&mut png, b"IEND", &[]);
    png
}

fn chunk(png: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    let length = u32::try_from(data.len()).unwrap_or(u32::MAX);
    png.extend_from_slice(&length.to_be_bytes());
    let start = png.len();
    png.extend_from_slice(kind);
    png.extend_from_slice(data);
    let crc = crc32(&png[start..]);
    png.extend_from_slice(&crc.to_be_bytes());
}

/// CRC-32 (ISO-HDLC), bit by bit: the fake writes a few bytes per picture.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for byte in bytes {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn adler32(bytes: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for byte in bytes {
        a = (a + u32::from(*byte)) % 65_521;
        b = (b + a) % 65_521;
    }
    (b << 16) | a
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_checksums_are_the_standard_ones() {
        assert_eq!(crc32(b"IEND"), 0xae42_6082);
        assert_eq!(adler32(b"Wikipedia"), 0x11e6_0398);
    }

    #[test]
    fn each_person_and_version_has_its_own_picture() {
        let picture = profile_picture_png(7, 0);
        assert!(picture.starts_with(b"\x89PNG\r\n\x1a\n"));
        assert!(picture.ends_with(&[0xae, 0x42, 0x60, 0x82]));
        assert_ne!(picture, profile_picture_png(8, 0));
        assert_ne!(picture, profile_picture_png(7, 1));
        assert_eq!(picture, profile_picture_png(7, 0));
    }
}
