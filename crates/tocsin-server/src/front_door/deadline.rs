//! A request body with a deadline: a client that trickles its body (one byte a second keeps
//! any per-read timeout happy) is cut when the whole body has not arrived in time, and the
//! request is answered 408 whatever the handler made of the error.

use axum::body::{Body, Bytes, HttpBody};
use http_body::{Frame, SizeHint};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

/// Wraps `inner`; the flag turns true when the deadline cut it.
pub fn with_deadline(inner: Body, limit: Duration) -> (Body, Arc<AtomicBool>) {
    let cut = Arc::new(AtomicBool::new(false));
    let body = DeadlineBody {
        inner,
        deadline: Box::pin(tokio::time::sleep(limit)),
        limit,
        cut: cut.clone(),
    };
    (Body::new(body), cut)
}

struct DeadlineBody {
    inner: Body,
    deadline: Pin<Box<tokio::time::Sleep>>,
    limit: Duration,
    cut: Arc<AtomicBool>,
}

impl HttpBody for DeadlineBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        if let Poll::Ready(frame) = Pin::new(&mut self.inner).poll_frame(cx) {
            return Poll::Ready(frame);
        }
        if self.deadline.as_mut().poll(cx).is_ready() {
            self.cut.store(true, Ordering::Relaxed);
            let message = format!("the body did not arrive within {:?}", self.limit);
            return Poll::Ready(Some(Err(axum::Error::new(message))));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_body_that_stalls_is_cut_at_the_deadline() {
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<Frame<Bytes>, axum::Error>>(1);
        let stream = tokio_stream_of(rx);
        let (body, cut) = with_deadline(Body::new(stream), Duration::from_millis(50));
        tx.send(Ok(Frame::data(Bytes::from_static(b"{"))))
            .await
            .unwrap();
        let read = axum::body::to_bytes(body, 1024).await;
        assert!(read.unwrap_err().to_string().contains("within 50ms"));
        assert!(cut.load(Ordering::Relaxed));
        drop(tx);
    }

    #[tokio::test]
    async fn a_body_in_time_is_untouched() {
        let (body, cut) = with_deadline(Body::from("{}"), Duration::from_secs(5));
        assert_eq!(axum::body::to_bytes(body, 1024).await.unwrap(), "{}");
        assert!(!cut.load(Ordering::Relaxed));
    }

    /// A body fed frame by frame from a channel, that never ends while the sender lives.
    fn tokio_stream_of(
        rx: tokio::sync::mpsc::Receiver<Result<Frame<Bytes>, axum::Error>>,
    ) -> impl HttpBody<Data = Bytes, Error = axum::Error> {
        struct Channel(tokio::sync::mpsc::Receiver<Result<Frame<Bytes>, axum::Error>>);
        impl HttpBody for Channel {
            type Data = Bytes;
            type Error = axum::Error;
            fn poll_frame(
                mut self: Pin<&mut Self>,
                cx: &mut Context<'_>,
            ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
                self.0.poll_recv(cx)
            }
        }
        Channel(rx)
    }
}
