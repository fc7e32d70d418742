//! A tiny FLAC writer for tests (16-bit samples in verbatim subframes, no compression), so the FLAC
//! decoding path is checked on files made in the test rather than on binaries nobody can inspect.
//! Included by path from the tests that need it.

/// Writes `samples` (interleaved, `channels` per frame) as a FLAC file at `sample_rate`.
#[allow(dead_code)]
pub fn flac_16bit(sample_rate: u32, channels: u8, samples: &[i16]) -> Vec<u8> {
    const BLOCK: usize = 4096;
    let ch = usize::from(channels);
    let frames = samples.len() / ch;
    assert!(frames.div_ceil(BLOCK) < 128, "frame numbers are written as one byte");
    let block = BLOCK.min(frames.max(16)) as u64;
    let mut out = b"fLaC".to_vec();
    let mut info = Bits::default();
    info.put(1, 1); // last metadata block
    info.put(0, 7); // STREAMINFO
    info.put(34, 24);
    info.put(block, 16);
    info.put(block, 16);
    info.put(0, 24);
    info.put(0, 24);
    info.put(u64::from(sample_rate), 20);
    info.put(u64::from(channels) - 1, 3);
    info.put(15, 5);
    info.put(frames as u64, 36);
    info.put(0, 64);
    info.put(0, 64); // no MD5
    out.extend(info.bytes);
    for (number, chunk) in samples.chunks(BLOCK * ch).enumerate() {
        let size = chunk.len() / ch;
        let mut frame = Bits::default();
        frame.put(0b11_1111_1111_1110, 14);
        frame.put(0, 2);
        frame.put(0b0111, 4); // block size in 16 bits at the end of the header
        frame.put(0, 4); // sample rate from STREAMINFO
        frame.put(u64::from(channels) - 1, 4);
        frame.put(0b100, 3); // 16 bits per sample
        frame.put(0, 1);
        frame.put(number as u64, 8);
        frame.put(size as u64 - 1, 16);
        let crc8 = frame.bytes.iter().fold(0_u8, |crc, b| {
            (0..8).fold(crc ^ b, |c, _| if c & 0x80 != 0 { (c << 1) ^ 0x07 } else { c << 1 })
        });
        frame.put(u64::from(crc8), 8);
        for c in 0..ch {
            frame.put(0b0000_0010, 8); // verbatim, no wasted bits
            for i in 0..size {
                frame.put(u64::from(chunk[i * ch + c] as u16), 16);
            }
        }
        let crc16 = frame.bytes.iter().fold(0_u16, |crc, b| {
            (0..8).fold(crc ^ (u16::from(*b) << 8), |c, _| {
                if c & 0x8000 != 0 { (c << 1) ^ 0x8005 } else { c << 1 }
            })
        });
        frame.put(u64::from(crc16), 16);
        out.extend(frame.bytes);
    }
    out
}

#[derive(Default)]
struct Bits {
    bytes: Vec<u8>,
    used: u32,
}

impl Bits {
    /// Appends the low `n` bits of `value`, most significant first (`n` is a multiple of 8 at byte ends).
    fn put(&mut self, value: u64, n: u32) {
        for i in (0..n).rev() {
            if self.used & 7 == 0 {
                self.bytes.push(0);
            }
            let bit = ((value >> i) & 1) as u8;
            if let Some(last) = self.bytes.last_mut() {
                *last |= bit << (7 - self.used % 8);
            }
            self.used += 1;
        }
    }
}
