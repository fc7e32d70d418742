//! Frames on the worker socket: a 4-byte big-endian length, then that many bytes of JSON (one message).
//! Blocking, on a `std::os::unix::net::UnixStream` (the start-up handshake; requests use
//! [`AsyncConnection`](crate::AsyncConnection)): reads wait at most a given time and keep a partly
//! read frame for the next call, so the caller can check cancellation between reads without losing bytes.

use std::io::{ErrorKind, Read, Write};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use serde::Serialize;
use serde::de::DeserializeOwned;

/// The largest frame either side may send: 64 MiB.
pub const MAX_FRAME: usize = 64 * 1024 * 1024;

/// How long one write may block before the peer counts as stuck.
pub(crate) const WRITE_TIMEOUT: Duration = Duration::from_secs(30);

/// Why a frame could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    /// The peer closed the connection between frames.
    #[error("the connection was closed")]
    Closed,
    /// The peer closed the connection in the middle of a frame.
    #[error("the connection was closed in the middle of a frame ({got} of {expected} bytes)")]
    Truncated {
        /// Bytes of the frame (length prefix included) that arrived.
        got: usize,
        /// Bytes the frame should have had.
        expected: usize,
    },
    /// A frame announced (or would have) more than [`MAX_FRAME`] bytes.
    #[error("a frame of {0} bytes is over the limit of 64 MiB")]
    TooLarge(usize),
    /// The frame is not the JSON of a known message.
    #[error("a frame is not a valid message: {0}")]
    Json(#[from] serde_json::Error),
    /// The socket failed.
    #[error("the socket failed: {0}")]
    Io(#[from] std::io::Error),
}

/// `message` as one frame: its length, then its JSON.
pub fn encode<T: Serialize>(message: &T) -> Result<Vec<u8>, CodecError> {
    let mut frame = vec![0_u8; 4];
    serde_json::to_writer(&mut frame, message)?;
    let len = frame.len() - 4;
    if len > MAX_FRAME {
        return Err(CodecError::TooLarge(len));
    }
    let length = u32::try_from(len).map_err(|_| CodecError::TooLarge(len))?;
    frame[..4].copy_from_slice(&length.to_be_bytes());
    Ok(frame)
}

/// One end of a worker connection: writes messages, reads them back with a timeout.
#[derive(Debug)]
pub struct Connection {
    stream: UnixStream,
    buffer: Vec<u8>,
}

impl Connection {
    /// Wraps a connected stream (set to blocking mode).
    pub fn new(stream: UnixStream) -> Result<Self, CodecError> {
        stream.set_nonblocking(false)?;
        stream.set_write_timeout(Some(WRITE_TIMEOUT))?;
        Ok(Self {
            stream,
            buffer: Vec::new(),
        })
    }

    /// Writes one message as a frame.
    pub fn send<T: Serialize>(&mut self, message: &T) -> Result<(), CodecError> {
        let frame = encode(message)?;
        self.stream.write_all(&frame)?;
        Ok(())
    }

    /// A second handle on the same socket.
    pub fn try_clone_stream(&self) -> std::io::Result<UnixStream> {
        self.stream.try_clone()
    }

    /// The stream and the bytes read ahead of the next frame (to hand the connection on).
    pub fn into_parts(self) -> (UnixStream, Vec<u8>) {
        (self.stream, self.buffer)
    }

    /// Reads the next message, waiting at most `timeout`: `Ok(None)` when no whole frame arrived by
    /// then (what did arrive is kept for the next call).
    pub fn recv<T: DeserializeOwned>(&mut self, timeout: Duration) -> Result<Option<T>, CodecError> {
        match self.recv_frame(timeout)? {
            Some(frame) => Ok(Some(serde_json::from_slice(&frame)?)),
            None => Ok(None),
        }
    }

    /// Reads the next frame's JSON bytes, waiting at most `timeout`.
    pub fn recv_frame(&mut self, timeout: Duration) -> Result<Option<Vec<u8>>, CodecError> {
        let deadline = Instant::now() + timeout;
        let mut chunk = [0_u8; 64 * 1024];
        loop {
            if let Some(frame) = self.take_frame()? {
                return Ok(Some(frame));
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(None);
            }
            // A zero timeout means "block forever" to the socket: never pass one.
            self.stream.set_read_timeout(Some(left.max(Duration::from_millis(1))))?;
            match self.stream.read(&mut chunk) {
                Ok(0) => {
                    return Err(if self.buffer.is_empty() {
                        CodecError::Closed
                    } else {
                        CodecError::Truncated {
                            got: self.buffer.len(),
                            expected: self.expected_len().map_or(4, |len| len + 4),
                        }
                    });
                }
                Ok(n) => self.buffer.extend_from_slice(&chunk[..n]),
                Err(err) if matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => return Ok(None),
                Err(err) if err.kind() == ErrorKind::Interrupted => {}
                Err(err) => return Err(err.into()),
            }
        }
    }

    /// The announced length of the frame at the front of the buffer, once its prefix is there.
    fn expected_len(&self) -> Option<usize> {
        let prefix: [u8; 4] = self.buffer.get(..4)?.try_into().ok()?;
        usize::try_from(u32::from_be_bytes(prefix)).ok()
    }

    /// Removes and returns the first whole frame of the buffer, if there is one.
    fn take_frame(&mut self) -> Result<Option<Vec<u8>>, CodecError> {
        let Some(len) = self.expected_len() else {
            return Ok(None);
        };
        if len > MAX_FRAME {
            return Err(CodecError::TooLarge(len));
        }
        if self.buffer.len() < 4 + len {
            return Ok(None);
        }
        let frame = self.buffer[4..4 + len].to_vec();
        self.buffer.drain(..4 + len);
        Ok(Some(frame))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde_json::{Value, json};

    use super::*;

    fn pair() -> (Connection, UnixStream) {
        let (a, b) = UnixStream::pair().unwrap();
        (Connection::new(a).unwrap(), b)
    }

    #[test]
    fn a_message_goes_out_as_a_length_prefixed_json_frame() {
        let (mut conn, mut peer) = pair();
        conn.send(&json!({"type": "ping"})).unwrap();
        let mut bytes = vec![0; 4 + 15];
        peer.read_exact(&mut bytes).unwrap();
        assert_eq!(&bytes[..4], &15_u32.to_be_bytes());
        assert_eq!(&bytes[4..], br#"{"type":"ping"}"#);
    }

    #[test]
    fn a_frame_that_arrives_in_pieces_is_read_whole() {
        let (mut conn, mut peer) = pair();
        let body = br#"{"type":"pong"}"#;
        let mut frame = (body.len() as u32).to_be_bytes().to_vec();
        frame.extend_from_slice(body);
        peer.write_all(&frame[..2]).unwrap();
        assert!(conn.recv::<Value>(Duration::from_millis(20)).unwrap().is_none());
        peer.write_all(&frame[2..9]).unwrap();
        assert!(conn.recv::<Value>(Duration::from_millis(20)).unwrap().is_none());
        peer.write_all(&frame[9..]).unwrap();
        peer.write_all(&frame).unwrap();
        let first: Value = conn.recv(Duration::from_secs(1)).unwrap().unwrap();
        let second: Value = conn.recv(Duration::from_secs(1)).unwrap().unwrap();
        assert_eq!(first, json!({"type": "pong"}));
        assert_eq!(second, first);
    }

    #[test]
    fn end_of_stream_between_and_inside_frames() {
        let (mut conn, peer) = pair();
        drop(peer);
        assert!(matches!(
            conn.recv::<Value>(Duration::from_secs(1)),
            Err(CodecError::Closed)
        ));

        let (mut conn, mut peer) = pair();
        peer.write_all(&10_u32.to_be_bytes()).unwrap();
        peer.write_all(b"{\"a\"").unwrap();
        drop(peer);
        let err = conn.recv::<Value>(Duration::from_secs(1)).unwrap_err();
        assert!(matches!(err, CodecError::Truncated { got: 8, expected: 14 }), "{err:?}");
    }

    #[test]
    fn frames_over_64_mib_are_refused() {
        let (mut conn, mut peer) = pair();
        peer.write_all(&(MAX_FRAME as u32 + 1).to_be_bytes()).unwrap();
        let err = conn.recv::<Value>(Duration::from_secs(1)).unwrap_err();
        assert!(matches!(err, CodecError::TooLarge(n) if n == MAX_FRAME + 1), "{err:?}");

        let (mut conn, _peer) = pair();
        let huge = "x".repeat(MAX_FRAME);
        assert!(matches!(conn.send(&huge), Err(CodecError::TooLarge(_))));
    }

    #[test]
    fn a_frame_that_is_not_json_is_an_error() {
        let (mut conn, mut peer) = pair();
        peer.write_all(&3_u32.to_be_bytes()).unwrap();
        peer.write_all(b"{{{").unwrap();
        assert!(matches!(
            conn.recv::<Value>(Duration::from_secs(1)),
            Err(CodecError::Json(_))
        ));
    }
}
