//! Outbound plain data frames without copying the payload: the headers of
//! a run of frames are built on the stack and go out with the caller's
//! bytes in one vectored write (header, payload, header, payload, ...).
//! A write the socket cuts short inside a frame leaves that frame's unsent
//! rest to be queued, so a frame is always finished before anything else
//! (a Pong, our Close) is sent.

use std::io::IoSlice;

use bytes::BytesMut;

use super::frame::{Opcode, ServerHeader};

/// Frames per vectored write: with 64 KiB messages, up to 2 MiB per system
/// call in 64 slices (Linux takes up to 1024).
pub const FRAMES_PER_WRITE: usize = 32;

/// Slices per vectored write: a header and a payload piece per frame.
pub const SLICES_PER_WRITE: usize = 2 * FRAMES_PER_WRITE;

/// The start of a payload cut into binary messages of one frame each.
#[derive(Debug)]
pub struct FrameRun<'a> {
    /// The bytes the frames carry: the start of the caller's payload.
    payload: &'a [u8],
    /// Payload bytes per frame; the last frame may carry fewer.
    piece: usize,
    /// One header per frame, the first `frames` in use.
    headers: [ServerHeader; FRAMES_PER_WRITE],
    frames: usize,
}

impl<'a> FrameRun<'a> {
    /// Frames of at most `piece` bytes (at least 1) for the start of
    /// `payload`: at most [`FRAMES_PER_WRITE`] of them, so a run may carry
    /// only part of a long payload.
    pub fn new(payload: &'a [u8], piece: usize) -> Self {
        let piece = piece.max(1);
        let frames = payload.len().div_ceil(piece).min(FRAMES_PER_WRITE);
        let payload = &payload[..payload.len().min(frames * piece)];
        let mut headers = [ServerHeader::new(Opcode::Binary, false, 0); FRAMES_PER_WRITE];
        for (header, chunk) in headers.iter_mut().zip(payload.chunks(piece)) {
            *header = ServerHeader::new(Opcode::Binary, false, chunk.len());
        }
        Self {
            payload,
            piece,
            headers,
            frames,
        }
    }

    /// Each frame's header and payload piece.
    fn frames(&self) -> impl Iterator<Item = (&[u8], &'a [u8])> {
        self.headers[..self.frames]
            .iter()
            .map(ServerHeader::as_bytes)
            .zip(self.payload.chunks(self.piece))
    }

    /// Fill `out` with the slices to write, in order; returns how many.
    pub fn slices<'s>(&'s self, out: &mut [IoSlice<'s>; SLICES_PER_WRITE]) -> usize {
        for (pair, (header, piece)) in out.chunks_exact_mut(2).zip(self.frames()) {
            pair[0] = IoSlice::new(header);
            pair[1] = IoSlice::new(piece);
        }
        2 * self.frames
    }

    /// After a write of `written` bytes of [`Self::slices`]: the payload
    /// bytes taken, counting a frame cut short whole, since the unsent rest
    /// of that frame is appended to `rest` to be sent before anything else.
    pub fn settle(&self, mut written: usize, rest: &mut BytesMut) -> usize {
        let mut taken = 0;
        for (header, piece) in self.frames() {
            if written == 0 {
                break;
            }
            taken += piece.len();
            let frame = header.len() + piece.len();
            if written >= frame {
                written -= frame;
                continue;
            }
            if written < header.len() {
                rest.extend_from_slice(&header[written..]);
                rest.extend_from_slice(piece);
            } else {
                rest.extend_from_slice(&piece[written - header.len()..]);
            }
            break;
        }
        taken
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bytes `run` writes, joined.
    fn wire(run: &FrameRun<'_>) -> Vec<u8> {
        let mut slices = [IoSlice::new(&[]); SLICES_PER_WRITE];
        let n = run.slices(&mut slices);
        slices[..n].iter().flat_map(|s| s.to_vec()).collect()
    }

    #[test]
    fn a_payload_becomes_frames_of_at_most_one_piece() {
        let payload: Vec<u8> = (0..=255).collect();
        let run = FrameRun::new(&payload, 100);
        let mut expect = vec![0x82, 100];
        expect.extend_from_slice(&payload[..100]);
        expect.extend_from_slice(&[0x82, 100]);
        expect.extend_from_slice(&payload[100..200]);
        expect.extend_from_slice(&[0x82, 56]);
        expect.extend_from_slice(&payload[200..]);
        assert_eq!(wire(&run), expect);
        // 64 KiB pieces take the 16-bit length form (RFC 6455 section 5.2).
        let big = vec![7; 70_000];
        let bytes = wire(&FrameRun::new(&big, 65_535));
        assert_eq!(bytes[..4], [0x82, 126, 0xFF, 0xFF]);
        assert_eq!(bytes[4 + 65_535..4 + 65_535 + 4], [0x82, 126, 0x11, 0x71]);
    }

    #[test]
    fn a_run_takes_at_most_its_frame_count() {
        let payload = vec![1; 10 * FRAMES_PER_WRITE + 5];
        let run = FrameRun::new(&payload, 10);
        let whole = wire(&run).len();
        assert_eq!(whole, FRAMES_PER_WRITE * 12);
        assert_eq!(
            run.settle(whole, &mut BytesMut::new()),
            10 * FRAMES_PER_WRITE
        );
    }

    /// Cut anywhere, the bytes written and then the rest queued are the
    /// whole frames up to the cut frame's end, and the payload taken is
    /// exactly what those frames carry.
    #[test]
    fn a_write_cut_anywhere_leaves_the_rest_of_its_frame() {
        let payload: Vec<u8> = (0..1000u32).map(|i| (i * 7) as u8).collect();
        let run = FrameRun::new(&payload, 300);
        let bytes = wire(&run);
        // Where each frame ends on the wire, and the payload it ends at:
        // three of 300 bytes behind 4-byte headers, then 100 behind 2.
        let ends = [(304, 300), (608, 600), (912, 900), (1014, 1000)];
        for written in 1..=bytes.len() {
            let mut rest = BytesMut::new();
            let taken = run.settle(written, &mut rest);
            let (end, carried) = *ends.iter().find(|(end, _)| written <= *end).expect("cut");
            assert_eq!(taken, carried, "cut at {written}");
            assert_eq!(
                [&bytes[..written], &rest[..]].concat(),
                bytes[..end],
                "cut at {written}"
            );
        }
    }
}
