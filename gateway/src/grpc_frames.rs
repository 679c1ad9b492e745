//! RustMailer gzips every gRPC message it sends, whatever the client accepts. The browser would
//! need a gzip decoder in its wasm for that; instead the gateway inflates each message here, and
//! HTTP compression (gzip, flushed after every chunk so a stream stays live) carries the
//! gRPC-web response to the browser, which decodes it natively.

use std::io::Write;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::{Buf, BufMut, Bytes, BytesMut};
use flate2::write::{GzDecoder, GzEncoder};
use flate2::Compression;
use http_body_util::BodyExt;
use hyper::body::{Body as HttpBody, Frame, SizeHint};

use crate::{Body, BoxError};

/// The largest message the gateway inflates: a bigger one (or a gzip bomb) ends the call.
pub const MAX_MESSAGE: usize = 64 * 1024 * 1024;

/// gRPC's length-prefixed framing: a flag byte (1: compressed) and a big-endian length.
const PREFIX: usize = 5;

/// `body` with every compressed gRPC message inflated and marked uncompressed; trailers pass.
pub fn inflated(body: Body) -> Body {
    Inflate { inner: body, buffer: BytesMut::new() }.boxed_unsync()
}

struct Inflate {
    inner: Body,
    buffer: BytesMut,
}

impl Inflate {
    /// The next whole message of the buffer, uncompressed, with its prefix.
    fn next_message(&mut self) -> Result<Option<Bytes>, BoxError> {
        if self.buffer.len() < PREFIX {
            return Ok(None);
        }
        let compressed = self.buffer[0] & 1 == 1;
        let length = u32::from_be_bytes([self.buffer[1], self.buffer[2], self.buffer[3], self.buffer[4]]) as usize;
        if length > MAX_MESSAGE {
            return Err(format!("a RustMailer message of {length} bytes is over the gateway's limit").into());
        }
        if self.buffer.len() < PREFIX + length {
            return Ok(None);
        }
        let mut frame = self.buffer.split_to(PREFIX + length);
        frame.advance(PREFIX);
        let message = if compressed { inflate(&frame)? } else { frame.freeze() };
        let mut out = BytesMut::with_capacity(PREFIX + message.len());
        out.put_u8(0);
        out.put_u32(message.len() as u32);
        out.put_slice(&message);
        Ok(Some(out.freeze()))
    }
}

fn inflate(gzipped: &[u8]) -> Result<Bytes, BoxError> {
    let mut decoder = GzDecoder::new(Limit { out: Vec::new() });
    decoder
        .write_all(gzipped)
        .and_then(|_| decoder.try_finish())
        .map_err(|e| format!("a RustMailer message does not inflate: {e}"))?;
    Ok(Bytes::from(decoder.finish()?.out))
}

/// Collects inflated bytes up to [`MAX_MESSAGE`].
struct Limit {
    out: Vec<u8>,
}

impl Write for Limit {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        if self.out.len() + data.len() > MAX_MESSAGE {
            return Err(std::io::Error::other("inflates to more than the gateway's limit"));
        }
        self.out.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl HttpBody for Inflate {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        loop {
            if let Some(message) = self.next_message().transpose() {
                return Poll::Ready(Some(message.map(Frame::data)));
            }
            match ready!(Pin::new(&mut self.inner).poll_frame(cx)) {
                Some(Ok(frame)) => match frame.into_data() {
                    Ok(data) => self.buffer.extend_from_slice(&data),
                    Err(trailers) if self.buffer.is_empty() => return Poll::Ready(Some(Ok(trailers))),
                    Err(_) => return Poll::Ready(Some(Err("RustMailer ended a message half-way".into()))),
                },
                Some(Err(e)) => return Poll::Ready(Some(Err(e))),
                None if self.buffer.is_empty() => return Poll::Ready(None),
                None => return Poll::Ready(Some(Err("RustMailer ended a message half-way".into()))),
            }
        }
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}

/// Whether an `Accept-Encoding` value takes gzip (not at `q=0`).
pub fn accepts_gzip(accept_encoding: &str) -> bool {
    accept_encoding.split(',').any(|coding| {
        let mut parts = coding.split(';');
        let named = parts.next().is_some_and(|name| name.trim().eq_ignore_ascii_case("gzip"));
        let weight = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .next()
            .map_or(1.0, |q| q.trim().parse::<f32>().unwrap_or(0.0));
        named && weight > 0.0
    })
}

/// `body` gzipped for HTTP, flushed after each chunk so that every message of a stream arrives
/// as soon as it is sent.
pub fn gzipped(body: Body) -> Body {
    Gzip { inner: body, encoder: Some(GzEncoder::new(Vec::new(), Compression::default())) }.boxed_unsync()
}

struct Gzip {
    inner: Body,
    encoder: Option<GzEncoder<Vec<u8>>>,
}

impl HttpBody for Gzip {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        loop {
            if self.encoder.is_none() {
                return Poll::Ready(None);
            }
            match ready!(Pin::new(&mut self.inner).poll_frame(cx)) {
                Some(Ok(frame)) => {
                    // gRPC-web carries its trailers in the body; HTTP/1.1 trailers are not sent.
                    let Ok(data) = frame.into_data() else { continue };
                    let Some(encoder) = self.encoder.as_mut() else { continue };
                    if let Err(e) = encoder.write_all(&data).and_then(|_| encoder.flush()) {
                        return Poll::Ready(Some(Err(e.into())));
                    }
                    let out = std::mem::take(encoder.get_mut());
                    if !out.is_empty() {
                        return Poll::Ready(Some(Ok(Frame::data(Bytes::from(out)))));
                    }
                }
                Some(Err(e)) => return Poll::Ready(Some(Err(e))),
                None => {
                    let Some(encoder) = self.encoder.take() else { continue };
                    return Poll::Ready(Some(
                        encoder.finish().map(|out| Frame::data(Bytes::from(out))).map_err(Into::into),
                    ));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::read::GzDecoder as GzReader;
    use http_body_util::{Full, StreamBody};
    use std::io::Read;

    fn frame(flag: u8, payload: &[u8]) -> Vec<u8> {
        let mut out = vec![flag];
        out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
        out.extend_from_slice(payload);
        out
    }

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn body_of(chunks: Vec<Frame<Bytes>>) -> Body {
        let stream = futures_util::stream::iter(chunks.into_iter().map(Ok::<_, BoxError>));
        StreamBody::new(stream).boxed_unsync()
    }

    async fn frames(body: Body) -> Result<(Vec<u8>, bool), BoxError> {
        let collected = body.collect().await?;
        let trailers = collected.trailers().is_some();
        Ok((collected.to_bytes().to_vec(), trailers))
    }

    #[tokio::test]
    async fn compressed_messages_are_inflated_across_chunk_boundaries_and_trailers_pass() {
        let one = frame(1, &gz(b"first message"));
        let two = frame(0, b"plain");
        let three = frame(1, &gz(&[7u8; 100_000]));
        let all: Vec<u8> = [one, two, three].concat();
        // Cut into awkward pieces: prefixes and payloads split between chunks.
        let mut chunks: Vec<Frame<Bytes>> = all.chunks(3).map(|c| Frame::data(Bytes::copy_from_slice(c))).collect();
        let mut trailers = hyper::HeaderMap::new();
        trailers.insert("grpc-status", "0".parse().unwrap());
        chunks.push(Frame::trailers(trailers));
        let (out, had_trailers) = frames(inflated(body_of(chunks))).await.unwrap();
        let want = [frame(0, b"first message"), frame(0, b"plain"), frame(0, &[7u8; 100_000])].concat();
        assert!(out == want, "inflated frames differ");
        assert!(had_trailers, "the trailers pass");
    }

    #[tokio::test]
    async fn a_message_cut_short_or_not_gzip_ends_the_call_with_an_error() {
        let cut = frame(1, &gz(b"message"));
        let cut = Bytes::copy_from_slice(&cut[..cut.len() - 2]);
        assert!(frames(inflated(Full::new(cut).map_err(|e| match e {}).boxed_unsync())).await.is_err());
        let garbage = Bytes::from(frame(1, b"not gzip at all"));
        assert!(frames(inflated(Full::new(garbage).map_err(|e| match e {}).boxed_unsync())).await.is_err());
        let huge = Bytes::from([vec![1u8], (MAX_MESSAGE as u32 + 1).to_be_bytes().to_vec()].concat());
        assert!(frames(inflated(Full::new(huge).map_err(|e| match e {}).boxed_unsync())).await.is_err());
    }

    #[tokio::test]
    async fn gzipped_bodies_decode_to_the_same_bytes_and_each_chunk_is_flushed() {
        let chunks = vec![Frame::data(Bytes::from_static(b"hello ")), Frame::data(Bytes::from_static(b"world"))];
        let mut body = gzipped(body_of(chunks));
        // The first chunk comes out on its own, decodable so far (a sync flush), before the second.
        let first = body.frame().await.unwrap().unwrap().into_data().unwrap();
        let mut partial = Vec::new();
        let _ = flate2::read::MultiGzDecoder::new(&first[..]).read_to_end(&mut partial);
        assert_eq!(partial, b"hello ");
        let rest = body.collect().await.unwrap().to_bytes();
        let mut all = Vec::new();
        GzReader::new(&[first.to_vec(), rest.to_vec()].concat()[..]).read_to_end(&mut all).unwrap();
        assert_eq!(all, b"hello world");
    }

    #[test]
    fn accept_encoding_is_read_with_its_weights() {
        assert!(accepts_gzip("gzip, deflate, br, zstd"));
        assert!(accepts_gzip("br;q=1.0, GZIP;q=0.5"));
        assert!(!accepts_gzip("gzip;q=0"));
        assert!(!accepts_gzip("br, identity"));
    }
}
