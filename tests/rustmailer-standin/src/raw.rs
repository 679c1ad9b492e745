//! gRPC calls answered byte for byte, for answers the generated servers cannot give: another
//! RustMailer wire (`v1_6`) and a garbled answer (a test's `garble` fault).

use std::future::Future;
use std::pin::Pin;

use bytes::{Buf, BufMut, Bytes};
use http::Request as HttpRequest;
use hyper::body::Incoming;
use prost::Message;
use tonic::body::Body;
use tonic::codec::{BufferSettings, Codec, CompressionEncoding, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::{Request, Response, Status};

/// Bytes in, bytes out: requests are read and answers written by the handlers below.
struct RawCodec;
struct RawEncoder;
struct RawDecoder;

impl Codec for RawCodec {
    type Encode = Bytes;
    type Decode = Bytes;
    type Encoder = RawEncoder;
    type Decoder = RawDecoder;
    fn encoder(&mut self) -> RawEncoder {
        RawEncoder
    }
    fn decoder(&mut self) -> RawDecoder {
        RawDecoder
    }
}

impl Encoder for RawEncoder {
    type Item = Bytes;
    type Error = Status;
    fn encode(&mut self, item: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put(item);
        Ok(())
    }
    fn buffer_settings(&self) -> BufferSettings {
        BufferSettings::default()
    }
}

impl Decoder for RawDecoder {
    type Item = Bytes;
    type Error = Status;
    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Bytes>, Status> {
        Ok(Some(src.copy_to_bytes(src.remaining())))
    }
}

pub fn decode<M: Message + Default>(bytes: &Bytes) -> Result<M, Status> {
    // What tonic's server answers for a request it cannot decode.
    M::decode(bytes.clone()).map_err(|e| Status::internal(e.to_string()))
}

pub type Handled = Pin<Box<dyn Future<Output = Result<Bytes, Status>> + Send>>;

/// Answers one gRPC call with `handler` (request bytes to answer bytes), gzip as RustMailer sends.
pub async fn serve(
    request: HttpRequest<Incoming>,
    handler: impl Fn(Bytes) -> Handled + Send + 'static,
) -> http::Response<Body> {
    let service = tower::service_fn(move |r: Request<Bytes>| {
        let answer = handler(r.into_inner());
        async move { answer.await.map(Response::new) }
    });
    let mut grpc = tonic::server::Grpc::new(RawCodec)
        .send_compressed(CompressionEncoding::Gzip)
        .accept_compressed(CompressionEncoding::Gzip);
    grpc.unary(service, request).await
}

/// A garbled answer for a test's `garble` fault: a gRPC success whose message is not protobuf (a
/// length that runs past the end), so that a client has to say it cannot read it.
pub fn garbled() -> http::Response<Body> {
    let mut response = http::Response::new(Body::new(Garbled { frames_sent: 0 }));
    response.headers_mut().insert("content-type", http::HeaderValue::from_static("application/grpc"));
    response
}

/// The garbled answer's body: one uncompressed frame, then a success trailer.
struct Garbled {
    frames_sent: u8,
}

impl hyper::body::Body for Garbled {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        this.frames_sent += 1;
        std::task::Poll::Ready(match this.frames_sent {
            1 => Some(Ok(hyper::body::Frame::data(Bytes::from_static(&[0, 0, 0, 0, 3, 0x0a, 0x7f, 0x01])))),
            2 => {
                let mut trailers = http::HeaderMap::new();
                trailers.insert("grpc-status", http::HeaderValue::from_static("0"));
                Some(Ok(hyper::body::Frame::trailers(trailers)))
            }
            _ => None,
        })
    }
}
