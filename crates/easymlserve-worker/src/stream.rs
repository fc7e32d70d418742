//! Frames on the worker socket once the worker is ready: the same 4-byte big-endian length and JSON
//! as [`codec`](crate::codec), over a `tokio::net::UnixStream`, so a request waits for its answer on
//! the runtime (no thread, no timed read, no socket option per read). Reads are cancel-safe: what
//! arrived of a frame stays in the buffer when the read is dropped for a cancel or a deadline.

use bytes::{Buf, BytesMut};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;

use crate::codec::{CodecError, Connection, MAX_FRAME, WRITE_TIMEOUT, encode};

/// The running end of a worker connection.
#[derive(Debug)]
pub struct AsyncConnection {
    stream: UnixStream,
    buffer: BytesMut,
}

impl AsyncConnection {
    /// Takes over a blocking connection (and the bytes it read ahead). Needs a runtime context.
    pub fn from_connection(conn: Connection) -> Result<Self, CodecError> {
        let (stream, read_ahead) = conn.into_parts();
        stream.set_nonblocking(true)?;
        let stream = UnixStream::from_std(stream)?;
        Ok(Self {
            stream,
            buffer: BytesMut::from(&read_ahead[..]),
        })
    }

    /// Writes one message as a frame. A worker that reads nothing of it for 30 s (`WRITE_TIMEOUT`; wedged,
    /// stopped) gives a `TimedOut` error, so its caller reports it broken instead of waiting forever.
    pub async fn send<T: Serialize>(&mut self, message: &T) -> Result<(), CodecError> {
        let frame = encode(message)?;
        match tokio::time::timeout(WRITE_TIMEOUT, self.stream.write_all(&frame)).await {
            Ok(written) => Ok(written?),
            Err(_) => Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!("the worker read none of a frame for {}s", WRITE_TIMEOUT.as_secs()),
            )
            .into()),
        }
    }

    /// Reads the next message. Cancel-safe.
    pub async fn recv<T: DeserializeOwned>(&mut self) -> Result<T, CodecError> {
        loop {
            if let Some(len) = self.frame_len()? {
                if self.buffer.len() >= 4 + len {
                    self.buffer.advance(4);
                    let frame = self.buffer.split_to(len);
                    return Ok(serde_json::from_slice(&frame)?);
                }
                self.buffer.reserve(4 + len - self.buffer.len());
            } else {
                self.buffer.reserve(64 * 1024);
            }
            if self.stream.read_buf(&mut self.buffer).await? == 0 {
                return Err(if self.buffer.is_empty() {
                    CodecError::Closed
                } else {
                    CodecError::Truncated {
                        got: self.buffer.len(),
                        expected: self.frame_len().ok().flatten().map_or(4, |len| len + 4),
                    }
                });
            }
        }
    }

    /// The announced length of the frame at the front of the buffer, once its prefix is there.
    fn frame_len(&self) -> Result<Option<usize>, CodecError> {
        let Some(prefix) = self.buffer.get(..4) else {
            return Ok(None);
        };
        let mut bytes = [0_u8; 4];
        bytes.copy_from_slice(prefix);
        let len = usize::try_from(u32::from_be_bytes(bytes)).map_err(|_| CodecError::TooLarge(usize::MAX))?;
        if len > MAX_FRAME {
            return Err(CodecError::TooLarge(len));
        }
        Ok(Some(len))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::io::{Read, Write};
    use std::time::Duration;

    use serde_json::{Value, json};

    use super::*;

    fn pair() -> (AsyncConnection, std::os::unix::net::UnixStream) {
        let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
        (
            AsyncConnection::from_connection(Connection::new(a).unwrap()).unwrap(),
            b,
        )
    }

    #[tokio::test]
    async fn a_frame_in_pieces_survives_a_dropped_read() {
        let (mut conn, mut peer) = pair();
        let body = br#"{"type":"pong"}"#;
        let mut frame = (body.len() as u32).to_be_bytes().to_vec();
        frame.extend_from_slice(body);
        peer.write_all(&frame[..6]).unwrap();
        let early = tokio::time::timeout(Duration::from_millis(30), conn.recv::<Value>()).await;
        assert!(early.is_err(), "half a frame is not a message");
        peer.write_all(&frame[6..]).unwrap();
        peer.write_all(&frame).unwrap();
        assert_eq!(conn.recv::<Value>().await.unwrap(), json!({"type": "pong"}));
        assert_eq!(conn.recv::<Value>().await.unwrap(), json!({"type": "pong"}));
        conn.send(&json!({"type": "ping"})).await.unwrap();
        let mut sent = vec![0; 4 + 15];
        peer.read_exact(&mut sent).unwrap();
        assert_eq!(&sent[4..], br#"{"type":"ping"}"#);
        drop(peer);
        assert!(matches!(conn.recv::<Value>().await, Err(CodecError::Closed)));
    }

    #[tokio::test]
    async fn a_truncated_or_oversized_frame_is_an_error() {
        let (mut conn, mut peer) = pair();
        peer.write_all(&10_u32.to_be_bytes()).unwrap();
        peer.write_all(b"{\"a\"").unwrap();
        drop(peer);
        let err = conn.recv::<Value>().await.unwrap_err();
        assert!(matches!(err, CodecError::Truncated { got: 8, expected: 14 }), "{err:?}");

        let (mut conn, mut peer) = pair();
        peer.write_all(&(MAX_FRAME as u32 + 1).to_be_bytes()).unwrap();
        let err = conn.recv::<Value>().await.unwrap_err();
        assert!(matches!(err, CodecError::TooLarge(n) if n == MAX_FRAME + 1), "{err:?}");
    }
}
