//! What an uploaded file is, from its bytes alone.
//!
//! The declared `Content-Type` and file name are the client's word; these functions read the
//! magic bytes and headers instead. Every read is bounds-checked: a truncated or hostile file
//! yields `None`, never a panic.

use std::fmt;

/// The media types Postbridge accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaType {
    /// `image/jpeg`
    Jpeg,
    /// `image/png`
    Png,
    /// `image/gif`
    Gif,
    /// `image/webp`
    Webp,
    /// `video/mp4`
    Mp4,
    /// `video/quicktime`
    QuickTime,
}

impl MediaType {
    /// Every accepted type.
    pub const ALL: [MediaType; 6] = [
        Self::Jpeg,
        Self::Png,
        Self::Gif,
        Self::Webp,
        Self::Mp4,
        Self::QuickTime,
    ];

    /// Bytes [`MediaType::sniff`] needs to recognise every type.
    pub const SNIFF_LEN: usize = 16;

    /// The MIME type.
    pub fn mime(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::Gif => "image/gif",
            Self::Webp => "image/webp",
            Self::Mp4 => "video/mp4",
            Self::QuickTime => "video/quicktime",
        }
    }

    /// The type a declared MIME type names (`image/jpg` is a common alias), if accepted.
    pub fn from_mime(mime: &str) -> Option<Self> {
        let essence = mime
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        match essence.as_str() {
            "image/jpg" | "image/pjpeg" => Some(Self::Jpeg),
            other => Self::ALL.into_iter().find(|t| t.mime() == other),
        }
    }

    /// Videos have their own size limit.
    pub fn is_video(self) -> bool {
        matches!(self, Self::Mp4 | Self::QuickTime)
    }

    /// Whether a client declaring `self` for a file that is `actual` told the truth. MP4 and
    /// QuickTime share one container format and are routinely labelled one for the other.
    pub fn matches(self, actual: MediaType) -> bool {
        self == actual || (self.is_video() && actual.is_video())
    }

    /// The type of a file starting with `head`; `None` for anything not accepted (text, PDF,
    /// HEIC, …) or when `head` is too short to tell.
    pub fn sniff(head: &[u8]) -> Option<Self> {
        if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
            return Some(Self::Jpeg);
        }
        if head.starts_with(b"\x89PNG\r\n\x1a\n") {
            return Some(Self::Png);
        }
        if head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a") {
            return Some(Self::Gif);
        }
        if head.len() >= 12 && &head[0..4] == b"RIFF" && &head[8..12] == b"WEBP" {
            return Some(Self::Webp);
        }
        if head.len() >= 12 && &head[4..8] == b"ftyp" {
            return match &head[8..12] {
                b"qt  " => Some(Self::QuickTime),
                // ISO base media files that are images (HEIF/AVIF), not videos.
                b"heic" | b"heix" | b"heim" | b"heis" | b"hevc" | b"hevx" | b"mif1" | b"msf1"
                | b"avif" | b"avis" => None,
                _ => Some(Self::Mp4),
            };
        }
        // Old QuickTime files start with an atom rather than `ftyp`.
        if head.len() >= 8 && matches!(&head[4..8], b"moov" | b"mdat" | b"wide") {
            return Some(Self::QuickTime);
        }
        None
    }
}

impl fmt::Display for MediaType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.mime())
    }
}

/// What the bytes of a whole file say about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Probe {
    /// The detected type.
    pub media_type: MediaType,
    /// Width in pixels, where the header says.
    pub width: Option<u32>,
    /// Height in pixels, where the header says.
    pub height: Option<u32>,
    /// Duration of a video, where its `mvhd` box says.
    pub duration_ms: Option<u32>,
}

/// Longest side of an image any target platform takes (X allows 8,192 px; Facebook and
/// Pinterest accept larger originals and downscale them); a header claiming more is a forgery
/// or a decompression bomb.
pub const MAX_IMAGE_SIDE_PX: u32 = 16_384;

/// Most pixels in an image (100 megapixels): well above any camera's photo, far below what
/// would take gigabytes to decode.
pub const MAX_IMAGE_PIXELS: u64 = 100_000_000;

/// Longest side of a video (8K: 8,192 px, the most YouTube takes; every other platform less).
pub const MAX_VIDEO_SIDE_PX: u32 = 8_192;

impl Probe {
    /// Why these dimensions are outside what any platform accepts, or `None` when they are
    /// fine (or unknown: a video may not say).
    pub fn dimensions_problem(&self) -> Option<String> {
        let (Some(width), Some(height)) = (self.width, self.height) else {
            return None;
        };
        if width == 0 || height == 0 {
            return Some(format!("{width}×{height} px has no area"));
        }
        if self.media_type.is_video() {
            return (width > MAX_VIDEO_SIDE_PX || height > MAX_VIDEO_SIDE_PX).then(|| {
                format!("{width}×{height} px: a video may be at most {MAX_VIDEO_SIDE_PX} px on each side")
            });
        }
        if width > MAX_IMAGE_SIDE_PX || height > MAX_IMAGE_SIDE_PX {
            return Some(format!(
                "{width}×{height} px: an image may be at most {MAX_IMAGE_SIDE_PX} px on each side"
            ));
        }
        (u64::from(width) * u64::from(height) > MAX_IMAGE_PIXELS).then(|| {
            format!(
                "{width}×{height} px: an image may have at most {} megapixels",
                MAX_IMAGE_PIXELS / 1_000_000
            )
        })
    }
}

/// Detects the type of `file` and reads its dimensions (and a video's duration). `None` when
/// the type is not accepted.
pub fn probe(file: &[u8]) -> Option<Probe> {
    let media_type = MediaType::sniff(file)?;
    let (dimensions, duration_ms) = match media_type {
        MediaType::Png => (png_size(file), None),
        MediaType::Gif => (gif_size(file), None),
        MediaType::Jpeg => (jpeg_size(file), None),
        MediaType::Webp => (webp_size(file), None),
        MediaType::Mp4 | MediaType::QuickTime => {
            let movie = movie_facts(file);
            (movie.dimensions, movie.duration_ms)
        }
    };
    Some(Probe {
        media_type,
        width: dimensions.map(|d| d.0),
        height: dimensions.map(|d| d.1),
        duration_ms,
    })
}

/// Largest `moov` box [`probe_file`] reads (its index of every sample; tens of megabytes only
/// for hours of video).
const MAX_MOOV_BYTES: u64 = 64 * 1024 * 1024;

/// [`probe`] of a file on disk without reading it whole: an image is read (images are small),
/// a video only as far as its top-level box headers and its `moov` box, wherever that is
/// (before the media data when "fast start", after it otherwise). `Ok(None)` when the type is
/// not accepted.
pub fn probe_file(path: &std::path::Path) -> std::io::Result<Option<Probe>> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = std::fs::File::open(path)?;
    let mut head = Vec::with_capacity(MediaType::SNIFF_LEN);
    (&mut file)
        .take(MediaType::SNIFF_LEN as u64)
        .read_to_end(&mut head)?;
    let Some(media_type) = MediaType::sniff(&head) else {
        return Ok(None);
    };
    if !media_type.is_video() {
        return Ok(probe(&std::fs::read(path)?));
    }
    let len = file.metadata()?.len();
    let mut at = 0u64;
    let mut header = [0u8; 16];
    while at.saturating_add(8) <= len {
        file.seek(SeekFrom::Start(at))?;
        file.read_exact(&mut header[..8])?;
        let (header_len, size) = match be32(&header, 0).unwrap_or(0) {
            0 => (8, len - at),
            1 => {
                file.read_exact(&mut header[8..16])?;
                (16, be64(&header, 8).unwrap_or(0))
            }
            s => (8, u64::from(s)),
        };
        if size < header_len || at.saturating_add(size) > len {
            break;
        }
        if &header[4..8] == b"moov" {
            if size > MAX_MOOV_BYTES {
                break;
            }
            let mut moov = vec![0u8; usize::try_from(size).unwrap_or(0)];
            file.seek(SeekFrom::Start(at))?;
            file.read_exact(&mut moov)?;
            let movie = movie_facts(&moov);
            return Ok(Some(Probe {
                media_type,
                width: movie.dimensions.map(|d| d.0),
                height: movie.dimensions.map(|d| d.1),
                duration_ms: movie.duration_ms,
            }));
        }
        at += size;
    }
    Ok(Some(Probe {
        media_type,
        width: None,
        height: None,
        duration_ms: None,
    }))
}

fn be16(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(2)?)?;
    Some(u32::from(u16::from_be_bytes([s[0], s[1]])))
}

fn le16(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(2)?)?;
    Some(u32::from(u16::from_le_bytes([s[0], s[1]])))
}

fn le24(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(3)?)?;
    Some(u32::from_le_bytes([s[0], s[1], s[2], 0]))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

fn be64(b: &[u8], at: usize) -> Option<u64> {
    let s = b.get(at..at.checked_add(8)?)?;
    let mut a = [0u8; 8];
    a.copy_from_slice(s);
    Some(u64::from_be_bytes(a))
}

/// Zero sizes are as good as unknown.
fn nonzero(w: u32, h: u32) -> Option<(u32, u32)> {
    (w > 0 && h > 0).then_some((w, h))
}

/// PNG: the IHDR chunk comes first, right after the signature.
fn png_size(b: &[u8]) -> Option<(u32, u32)> {
    if b.get(12..16)? != b"IHDR" {
        return None;
    }
    nonzero(be32(b, 16)?, be32(b, 20)?)
}

/// GIF: the logical screen descriptor follows the 6-byte signature.
fn gif_size(b: &[u8]) -> Option<(u32, u32)> {
    nonzero(le16(b, 6)?, le16(b, 8)?)
}

/// JPEG: walks the marker segments to the first start-of-frame (EXIF and ICC segments come
/// first and may be tens of kilobytes).
fn jpeg_size(b: &[u8]) -> Option<(u32, u32)> {
    let mut at = 2;
    loop {
        if *b.get(at)? != 0xFF {
            return None;
        }
        // Fill bytes: any number of 0xFF before the marker.
        while *b.get(at)? == 0xFF {
            at += 1;
        }
        let marker = *b.get(at)?;
        at += 1;
        match marker {
            // Standalone markers carry no length.
            0x01 | 0xD0..=0xD7 => continue,
            // Start of scan or end of image before any frame header: no size.
            0xDA | 0xD9 => return None,
            // SOF0..SOF15, except DHT (C4), JPG (C8) and DAC (CC).
            0xC0..=0xCF if !matches!(marker, 0xC4 | 0xC8 | 0xCC) => {
                // Length (2), precision (1), height (2), width (2).
                return nonzero(be16(b, at + 5)?, be16(b, at + 3)?);
            }
            _ => {
                let length = usize::try_from(be16(b, at)?).ok()?;
                if length < 2 {
                    return None;
                }
                at = at.checked_add(length)?;
            }
        }
    }
}

/// WebP: the first chunk says which of the three formats it is.
fn webp_size(b: &[u8]) -> Option<(u32, u32)> {
    match b.get(12..16)? {
        // Extended: 24-bit canvas width and height minus one.
        b"VP8X" => nonzero(le24(b, 24)? + 1, le24(b, 27)? + 1),
        // Lossless: signature 0x2F, then 14-bit width and height minus one.
        b"VP8L" => {
            if *b.get(20)? != 0x2F {
                return None;
            }
            let bits = be32(b, 21).map(u32::swap_bytes)?;
            nonzero((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
        }
        // Lossy: a 3-byte frame tag, the start code, then 14-bit width and height.
        b"VP8 " => {
            if b.get(23..26)? != [0x9D, 0x01, 0x2A] {
                return None;
            }
            nonzero(le16(b, 26)? & 0x3FFF, le16(b, 28)? & 0x3FFF)
        }
        _ => None,
    }
}

#[derive(Debug, Default)]
struct MovieFacts {
    dimensions: Option<(u32, u32)>,
    duration_ms: Option<u32>,
}

/// The boxes of `b[start..end]`: `(type, payload range)`. Stops at the first malformed box.
fn boxes(b: &[u8], start: usize, end: usize) -> Vec<([u8; 4], usize, usize)> {
    let mut found = Vec::new();
    let mut at = start;
    while at.saturating_add(8) <= end {
        let Some(size32) = be32(b, at) else { break };
        let mut kind = [0u8; 4];
        kind.copy_from_slice(&b[at + 4..at + 8]);
        let (header, size) = match size32 {
            // To the end of the enclosing box.
            0 => (8, end - at),
            // A 64-bit size follows the type.
            1 => match be64(b, at + 8).and_then(|s| usize::try_from(s).ok()) {
                Some(s) => (16, s),
                None => break,
            },
            s => match usize::try_from(s) {
                Ok(s) => (8, s),
                Err(_) => break,
            },
        };
        let Some(box_end) = at.checked_add(size) else {
            break;
        };
        if size < header || box_end > end {
            break;
        }
        found.push((kind, at + header, box_end));
        at = box_end;
    }
    found
}

/// MP4/QuickTime: duration from `moov/mvhd`, the frame size from the `tkhd` of the first
/// track that has one (audio tracks have 0×0).
fn movie_facts(b: &[u8]) -> MovieFacts {
    let mut facts = MovieFacts::default();
    let Some(&(_, moov_start, moov_end)) = boxes(b, 0, b.len())
        .iter()
        .find(|(kind, _, _)| kind == b"moov")
    else {
        return facts;
    };
    for (kind, start, end) in boxes(b, moov_start, moov_end) {
        match &kind {
            b"mvhd" => facts.duration_ms = mvhd_duration_ms(&b[start..end]),
            b"trak" if facts.dimensions.is_none() => {
                facts.dimensions = boxes(b, start, end)
                    .into_iter()
                    .find(|(kind, _, _)| kind == b"tkhd")
                    .and_then(|(_, s, e)| tkhd_size(&b[s..e]));
            }
            _ => {}
        }
    }
    facts
}

fn mvhd_duration_ms(p: &[u8]) -> Option<u32> {
    let (timescale, duration) = match *p.first()? {
        // version, flags (4), creation (4), modification (4), timescale (4), duration (4)
        0 => (be32(p, 12)?, u64::from(be32(p, 16)?)),
        // … with 64-bit times and duration
        1 => (be32(p, 20)?, be64(p, 24)?),
        _ => return None,
    };
    if timescale == 0 || duration == u64::from(u32::MAX) || duration == u64::MAX {
        return None;
    }
    u32::try_from(u128::from(duration) * 1000 / u128::from(timescale)).ok()
}

fn tkhd_size(p: &[u8]) -> Option<(u32, u32)> {
    // Width and height are 16.16 fixed point after the matrix.
    let at = match *p.first()? {
        0 => 76,
        1 => 88,
        _ => return None,
    };
    nonzero(be32(p, at)? >> 16, be32(p, at + 4)? >> 16)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal PNG header of `w`×`h`.
    fn png(w: u32, h: u32) -> Vec<u8> {
        let mut b = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        b.extend(w.to_be_bytes());
        b.extend(h.to_be_bytes());
        b.extend([8, 6, 0, 0, 0, 0, 0, 0, 0]);
        b
    }

    fn jpeg(w: u16, h: u16) -> Vec<u8> {
        let mut b = vec![0xFF, 0xD8];
        // An APP1 (EXIF) segment before the frame, with a 0xFF inside its payload.
        b.extend([0xFF, 0xE1, 0x00, 0x08, b'E', b'x', 0xFF, b'f', 0, 0]);
        // A restart marker and fill bytes, which carry no length.
        b.extend([0xFF, 0xFF, 0xD0]);
        b.extend([0xFF, 0xC2, 0x00, 0x11, 0x08]);
        b.extend(h.to_be_bytes());
        b.extend(w.to_be_bytes());
        b.extend([3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
        b.extend([0xFF, 0xDA, 0x00, 0x02, 0xFF, 0xD9]);
        b
    }

    fn mp4_box(kind: &[u8; 4], payload: &[u8]) -> Vec<u8> {
        let mut b = u32::try_from(payload.len() + 8)
            .unwrap()
            .to_be_bytes()
            .to_vec();
        b.extend(kind);
        b.extend(payload);
        b
    }

    fn mp4(brand: &[u8; 4], w: u32, h: u32, timescale: u32, duration: u32) -> Vec<u8> {
        let mut ftyp = brand.to_vec();
        ftyp.extend([0, 0, 2, 0]);
        ftyp.extend(b"isommp41");
        let mut mvhd = vec![0u8; 100];
        mvhd[12..16].copy_from_slice(&timescale.to_be_bytes());
        mvhd[16..20].copy_from_slice(&duration.to_be_bytes());
        let audio_tkhd = vec![0u8; 84];
        let mut video_tkhd = vec![0u8; 84];
        video_tkhd[76..80].copy_from_slice(&(w << 16).to_be_bytes());
        video_tkhd[80..84].copy_from_slice(&(h << 16).to_be_bytes());
        let mut moov = mp4_box(b"mvhd", &mvhd);
        moov.extend(mp4_box(b"trak", &mp4_box(b"tkhd", &audio_tkhd)));
        moov.extend(mp4_box(b"trak", &mp4_box(b"tkhd", &video_tkhd)));
        let mut file = mp4_box(b"ftyp", &ftyp);
        // Media data before the movie box, as many encoders write it.
        file.extend(mp4_box(b"mdat", &[0u8; 64]));
        file.extend(mp4_box(b"moov", &moov));
        file
    }

    #[test]
    fn png_type_and_size_come_from_the_header() {
        let p = probe(&png(640, 480)).unwrap();
        assert_eq!(p.media_type, MediaType::Png);
        assert_eq!((p.width, p.height), (Some(640), Some(480)));
    }

    #[test]
    fn gif_size_is_little_endian() {
        let mut gif = b"GIF89a".to_vec();
        gif.extend([0x2C, 0x01, 0xC8, 0x00, 0, 0, 0]);
        let p = probe(&gif).unwrap();
        assert_eq!(p.media_type, MediaType::Gif);
        assert_eq!((p.width, p.height), (Some(300), Some(200)));
    }

    #[test]
    fn jpeg_size_is_found_past_other_segments() {
        let p = probe(&jpeg(1920, 1080)).unwrap();
        assert_eq!(p.media_type, MediaType::Jpeg);
        assert_eq!((p.width, p.height), (Some(1920), Some(1080)));
        // Scan data before any frame header: the type is known, the size is not.
        let no_frame = [0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x02];
        assert_eq!(probe(&no_frame).unwrap().width, None);
    }

    #[test]
    fn webp_sizes_of_all_three_formats() {
        let riff = |chunk: &[u8; 4], body: &[u8]| {
            let mut b = b"RIFF\0\0\0\0WEBP".to_vec();
            b.extend(chunk);
            b.extend([0, 0, 0, 0]);
            b.extend(body);
            b
        };
        // VP8X: flags (4), canvas width-1 and height-1 as 24-bit little endian.
        let mut vp8x = vec![0u8; 4];
        vp8x.extend(&799u32.to_le_bytes()[..3]);
        vp8x.extend(&599u32.to_le_bytes()[..3]);
        let p = probe(&riff(b"VP8X", &vp8x)).unwrap();
        assert_eq!(p.media_type, MediaType::Webp);
        assert_eq!((p.width, p.height), (Some(800), Some(600)));
        // VP8L: 0x2F, then (width-1) | (height-1) << 14 little endian.
        let bits: u32 = 99 | (49 << 14);
        let mut vp8l = vec![0x2F];
        vp8l.extend(bits.to_le_bytes());
        let p = probe(&riff(b"VP8L", &vp8l)).unwrap();
        assert_eq!((p.width, p.height), (Some(100), Some(50)));
        // VP8: frame tag, start code, 14-bit sizes with 2 scale bits on top.
        let mut vp8 = vec![0, 0, 0, 0x9D, 0x01, 0x2A];
        vp8.extend((320u16 | 0x4000).to_le_bytes());
        vp8.extend(240u16.to_le_bytes());
        let p = probe(&riff(b"VP8 ", &vp8)).unwrap();
        assert_eq!((p.width, p.height), (Some(320), Some(240)));
    }

    #[test]
    fn mp4_size_and_duration_come_from_the_movie_box() {
        let p = probe(&mp4(b"isom", 1280, 720, 600, 9_000)).unwrap();
        assert_eq!(p.media_type, MediaType::Mp4);
        assert_eq!((p.width, p.height), (Some(1280), Some(720)));
        assert_eq!(p.duration_ms, Some(15_000));
        let mov = probe(&mp4(b"qt  ", 1080, 1920, 1000, 2_500)).unwrap();
        assert_eq!(mov.media_type, MediaType::QuickTime);
        assert_eq!((mov.width, mov.height), (Some(1080), Some(1920)));
        assert_eq!(mov.duration_ms, Some(2_500));
    }

    #[test]
    fn a_file_on_disk_probes_as_its_bytes_would_reading_only_the_movie_box() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, bytes: &[u8]| {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes).unwrap();
            path
        };
        let movie = mp4(b"isom", 1920, 1080, 600, 9000);
        // The movie box after a large media box, as most encoders write it.
        let mut big = movie[..24].to_vec();
        big.extend(mp4_box(b"mdat", &vec![0u8; 3 * 1024 * 1024]));
        big.extend(&movie[24..]);
        for (name, bytes) in [
            ("a.png", png(640, 480)),
            ("a.jpg", jpeg(800, 600)),
            ("a.mp4", movie.clone()),
            ("big.mp4", big),
        ] {
            let path = write(name, &bytes);
            assert_eq!(probe_file(&path).unwrap(), probe(&bytes), "{name}");
        }
        let Some(big) = probe_file(&dir.path().join("big.mp4")).unwrap() else {
            panic!("an mp4 is accepted");
        };
        assert_eq!(
            (big.width, big.height, big.duration_ms),
            (Some(1920), Some(1080), Some(15_000))
        );
        assert_eq!(
            probe_file(&write("a.txt", b"just some text")).unwrap(),
            None
        );
        // A movie whose boxes are cut short: its type, no facts, no panic.
        let cut = write("cut.mp4", &movie[..movie.len() - 10]);
        let cut = probe_file(&cut).unwrap().unwrap();
        assert_eq!((cut.width, cut.duration_ms), (None, None));
    }

    #[test]
    fn text_pdf_and_heic_are_not_accepted() {
        assert_eq!(MediaType::sniff(b"just some text, named photo.png"), None);
        assert_eq!(MediaType::sniff(b"%PDF-1.7\n"), None);
        assert_eq!(MediaType::sniff(b"\0\0\0\x18ftypheic\0\0\0\0"), None);
        assert_eq!(MediaType::sniff(b""), None);
        assert_eq!(probe(b"<svg xmlns='http://www.w3.org/2000/svg'/>"), None);
    }

    #[test]
    fn truncated_and_hostile_headers_never_panic() {
        let samples = [
            png(1, 1),
            jpeg(10, 10),
            mp4(b"isom", 10, 10, 1, 1),
            b"RIFF\0\0\0\0WEBPVP8X".to_vec(),
            b"GIF89a".to_vec(),
        ];
        for sample in &samples {
            for cut in 0..sample.len() {
                let _ = probe(&sample[..cut]);
            }
        }
        // A box claiming a huge size, and a JPEG segment of length 0.
        let mut huge = b"\0\0\0\x10ftypisom\0\0\0\0".to_vec();
        huge.extend(b"\xff\xff\xff\xffmoov");
        assert_eq!(probe(&huge).unwrap().duration_ms, None);
        assert_eq!(probe(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0]).unwrap().width, None);
    }

    #[test]
    fn declared_types_are_compared_by_meaning() {
        assert_eq!(MediaType::from_mime("image/JPG"), Some(MediaType::Jpeg));
        assert_eq!(
            MediaType::from_mime("image/png; charset=x"),
            Some(MediaType::Png)
        );
        assert_eq!(MediaType::from_mime("text/plain"), None);
        assert!(MediaType::Mp4.matches(MediaType::QuickTime));
        assert!(!MediaType::Png.matches(MediaType::Jpeg));
    }
}

/// Properties of the probe over arbitrary bytes (issue 16): it reads untrusted uploads, so it
/// must never panic or read out of bounds whatever the bytes claim, and it must read back the
/// dimensions a well-formed header states.
#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    /// The signatures the sniffer knows, so random tails reach every header parser.
    fn signature() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            Just(b"\x89PNG\r\n\x1a\n".to_vec()),
            Just(b"GIF89a".to_vec()),
            Just(b"GIF87a".to_vec()),
            Just(vec![0xFF, 0xD8, 0xFF]),
            Just(b"RIFF\0\0\0\0WEBPVP8 ".to_vec()),
            Just(b"RIFF\0\0\0\0WEBPVP8L".to_vec()),
            Just(b"RIFF\0\0\0\0WEBPVP8X".to_vec()),
            Just(b"\0\0\0\x18ftypisom".to_vec()),
            Just(b"\0\0\0\x18ftypqt  ".to_vec()),
            Just(b"\0\0\0\x08moov".to_vec()),
        ]
    }

    fn png_header(width: u32, height: u32) -> Vec<u8> {
        let mut b = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        b.extend(width.to_be_bytes());
        b.extend(height.to_be_bytes());
        b.extend([8, 6, 0, 0, 0, 0, 0, 0, 0]);
        b
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1024))]

        #[test]
        fn any_bytes_are_probed_without_panicking(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
            if let Some(p) = probe(&bytes) {
                let _ = p.dimensions_problem();
            }
        }

        #[test]
        fn any_tail_after_a_known_signature_is_probed_without_panicking(
            head in signature(),
            tail in proptest::collection::vec(any::<u8>(), 0..2048),
        ) {
            let mut bytes = head;
            bytes.extend(tail);
            if let Some(p) = probe(&bytes) {
                let _ = p.dimensions_problem();
            }
        }

        #[test]
        fn a_png_header_reads_back_its_dimensions(width in 1u32..=u32::MAX >> 1, height in 1u32..=u32::MAX >> 1) {
            let p = probe(&png_header(width, height)).unwrap();
            prop_assert_eq!(p.media_type, MediaType::Png);
            prop_assert_eq!((p.width, p.height), (Some(width), Some(height)));
            let fits = width <= MAX_IMAGE_SIDE_PX
                && height <= MAX_IMAGE_SIDE_PX
                && u64::from(width) * u64::from(height) <= MAX_IMAGE_PIXELS;
            prop_assert_eq!(p.dimensions_problem().is_none(), fits);
        }

        #[test]
        fn probing_a_file_agrees_with_probing_its_bytes(
            head in signature(),
            tail in proptest::collection::vec(any::<u8>(), 0..1024),
        ) {
            let mut bytes = head;
            bytes.extend(tail);
            let file = tempfile::NamedTempFile::new().unwrap();
            std::fs::write(file.path(), &bytes).unwrap();
            let from_file = probe_file(file.path()).unwrap();
            let from_bytes = probe(&bytes);
            prop_assert_eq!(from_file.map(|p| p.media_type), from_bytes.map(|p| p.media_type));
            if from_bytes.is_some_and(|p| !p.media_type.is_video()) {
                prop_assert_eq!(from_file, from_bytes);
            }
        }
    }
}
