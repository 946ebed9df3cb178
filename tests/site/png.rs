//! Enough of PNG to judge a screenshot: 8-bit RGB or RGBA, not interlaced, as Chromium writes
//! them. The image data is zlib (flate2, already a dependency) with one filter byte a row.

use std::collections::BTreeMap;
use std::io::Read as _;

/// The pixels of a PNG, as RGB.
pub struct Image {
    pub width: usize,
    pub height: usize,
    pub pixels: Vec<[u8; 3]>,
}

impl Image {
    pub fn decode(bytes: &[u8]) -> Result<Image, String> {
        const SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
        let mut rest = bytes
            .strip_prefix(SIGNATURE)
            .ok_or("not a PNG: no signature")?;
        let (mut width, mut height, mut channels) = (0usize, 0usize, 0usize);
        let mut data = Vec::new();
        while rest.len() >= 12 {
            let len = u32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
            let kind = &rest[4..8];
            let body = rest
                .get(8..8 + len)
                .ok_or("a PNG chunk runs past the end")?;
            match kind {
                b"IHDR" => {
                    width = u32::from_be_bytes([body[0], body[1], body[2], body[3]]) as usize;
                    height = u32::from_be_bytes([body[4], body[5], body[6], body[7]]) as usize;
                    let (depth, color, interlace) = (body[8], body[9], body[12]);
                    channels = match (depth, color, interlace) {
                        (8, 2, 0) => 3,
                        (8, 6, 0) => 4,
                        _ => {
                            return Err(format!(
                                "unsupported PNG: depth {depth}, color type {color}, interlace {interlace}"
                            ));
                        }
                    };
                }
                b"IDAT" => data.extend_from_slice(body),
                b"IEND" => break,
                _ => {}
            }
            rest = &rest[12 + len..];
        }
        let mut raw = Vec::new();
        flate2::read::ZlibDecoder::new(&data[..])
            .read_to_end(&mut raw)
            .map_err(|e| format!("PNG image data: {e}"))?;
        let stride = width * channels;
        if raw.len() != height * (stride + 1) {
            return Err(format!(
                "PNG image data has {} bytes, expected {}",
                raw.len(),
                height * (stride + 1)
            ));
        }
        let mut rows: Vec<u8> = vec![0; height * stride];
        for y in 0..height {
            let filter = raw[y * (stride + 1)];
            let line = &raw[y * (stride + 1) + 1..(y + 1) * (stride + 1)];
            for x in 0..stride {
                let a = if x >= channels {
                    rows[y * stride + x - channels]
                } else {
                    0
                };
                let b = if y > 0 { rows[(y - 1) * stride + x] } else { 0 };
                let c = if x >= channels && y > 0 {
                    rows[(y - 1) * stride + x - channels]
                } else {
                    0
                };
                let value = match filter {
                    0 => line[x],
                    1 => line[x].wrapping_add(a),
                    2 => line[x].wrapping_add(b),
                    3 => line[x].wrapping_add(((a as u16 + b as u16) / 2) as u8),
                    4 => line[x].wrapping_add(paeth(a, b, c)),
                    f => return Err(format!("PNG filter {f} on row {y}")),
                };
                rows[y * stride + x] = value;
            }
        }
        let pixels = rows
            .chunks_exact(channels)
            .map(|p| [p[0], p[1], p[2]])
            .collect();
        Ok(Image {
            width,
            height,
            pixels,
        })
    }

    /// How many distinct colours, and the share of pixels that are not the most common one
    /// (the background).
    pub fn ink(&self) -> (usize, f64) {
        let mut counts: BTreeMap<[u8; 3], usize> = BTreeMap::new();
        for p in &self.pixels {
            *counts.entry(*p).or_default() += 1;
        }
        let background = counts.values().copied().max().unwrap_or(0);
        let total = self.pixels.len().max(1);
        (counts.len(), 1.0 - background as f64 / total as f64)
    }

    /// The colour at a point.
    pub fn at(&self, x: usize, y: usize) -> [u8; 3] {
        self.pixels[y * self.width + x]
    }
}

fn paeth(a: u8, b: u8, c: u8) -> u8 {
    let p = a as i16 + b as i16 - c as i16;
    let (pa, pb, pc) = (
        (p - a as i16).abs(),
        (p - b as i16).abs(),
        (p - c as i16).abs(),
    );
    if pa <= pb && pa <= pc {
        a
    } else if pb <= pc {
        b
    } else {
        c
    }
}
