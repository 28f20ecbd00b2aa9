//! An S3 object body, read synchronously while it downloads.
//!
//! The drift core parses on a blocking thread (it is CPU-bound); the download
//! task hands it the body's chunks through a small bounded channel, so at most
//! [`CHUNKS_IN_FLIGHT`] chunks are held at once, whatever the object's size.

use std::io::{self, BufRead, Read};

use bytes::Bytes;
use tokio::sync::mpsc;

/// Chunks buffered between the download and the parser.
pub const CHUNKS_IN_FLIGHT: usize = 4;

/// The parser's end: a [`BufRead`] over chunks as they arrive.
pub struct ChunkReader {
    chunks: mpsc::Receiver<io::Result<Bytes>>,
    current: Bytes,
}

/// The download's end.
pub type ChunkSender = mpsc::Sender<io::Result<Bytes>>;

pub fn channel() -> (ChunkSender, ChunkReader) {
    let (tx, rx) = mpsc::channel(CHUNKS_IN_FLIGHT);
    (
        tx,
        ChunkReader {
            chunks: rx,
            current: Bytes::new(),
        },
    )
}

impl BufRead for ChunkReader {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        while self.current.is_empty() {
            // Called on a blocking thread (spawn_blocking), never on the runtime.
            match self.chunks.blocking_recv() {
                Some(Ok(chunk)) => self.current = chunk,
                Some(Err(e)) => return Err(e),
                None => break,
            }
        }
        Ok(&self.current)
    }

    fn consume(&mut self, amount: usize) {
        let _ = self.current.split_to(amount.min(self.current.len()));
    }
}

impl Read for ChunkReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(out.len());
        out[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn lines_split_across_chunks_are_read_whole() {
        let (tx, mut reader) = channel();
        let parser = tokio::task::spawn_blocking(move || {
            let mut lines = Vec::new();
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap() > 0 {
                lines.push(std::mem::take(&mut line));
            }
            lines
        });
        for part in ["first li", "ne\nsecond", " line\n", "", "third"] {
            tx.send(Ok(Bytes::from(part))).await.unwrap();
        }
        drop(tx);
        assert_eq!(
            parser.await.unwrap(),
            ["first line\n", "second line\n", "third"]
        );
    }

    #[tokio::test]
    async fn a_download_error_reaches_the_parser() {
        let (tx, mut reader) = channel();
        tx.send(Ok(Bytes::from("partial"))).await.unwrap();
        tx.send(Err(io::Error::other("reset"))).await.unwrap();
        drop(tx);
        let result = tokio::task::spawn_blocking(move || {
            let mut all = String::new();
            reader.read_to_string(&mut all)
        })
        .await
        .unwrap();
        assert_eq!(result.unwrap_err().to_string(), "reset");
    }
}
