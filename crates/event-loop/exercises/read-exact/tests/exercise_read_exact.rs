//! Graded tests for exercise `event-loop/read-exact`. Each test runs a small blocking
//! server thread on 127.0.0.1 (port 0) that plays one peer: it sends its bytes in pieces,
//! pauses, stays silent, closes early or resets the connection.

#[path = "../../../tests/common/mod.rs"]
mod common;
use common::within;

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::time::Duration;

use event_loop::step5_executor::{Executor, TcpStream, block_on};
use event_loop_read_exact::read_exact;

/// Accepts one connection on 127.0.0.1 and hands it to `peer`, on a thread of its own.
fn serve(peer: impl FnOnce(std::net::TcpStream) + Send + 'static) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        if let Ok((stream, _)) = listener.accept() {
            peer(stream);
        }
    });
    addr
}

/// A peer that sends `pieces` with a pause between them, then closes.
fn sends_in_pieces(pieces: Vec<&'static [u8]>) -> SocketAddr {
    serve(move |mut stream| {
        for piece in pieces {
            if stream.write_all(piece).is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(30));
        }
    })
}

/// The numbers written in `text`, in order ("after 7 of 1000 bytes" gives 7 and 1000).
fn numbers_in(text: &str) -> Vec<u64> {
    text.split(|c: char| !c.is_ascii_digit())
        .filter_map(|word| word.parse().ok())
        .collect()
}

#[test]
fn bytes_sent_in_pieces_fill_the_buffer() {
    let addr = sends_in_pieces(vec![b"Wik", b"i", b"pedia and more"]);
    let got = within(10, "read_exact", move || {
        block_on(async move {
            let mut stream = TcpStream::connect(addr).await.unwrap();
            let mut word = [0u8; 9];
            read_exact(&mut stream, &mut word).await.unwrap();
            let mut middle = [0u8; 5];
            read_exact(&mut stream, &mut middle).await.unwrap();
            let mut end = [0u8; 4];
            read_exact(&mut stream, &mut end).await.unwrap();
            (word, middle, end)
        })
        .unwrap()
    });
    assert_eq!(&got.0, b"Wikipedia");
    assert_eq!(&got.1, b" and ");
    assert_eq!(&got.2, b"more");
}

#[test]
fn no_byte_past_the_buffer_is_consumed() {
    // All at once: a header and a body the reader asks for in two exact reads. What it
    // did not ask for must still be in the stream for the next reader.
    let addr = serve(|mut stream| {
        let _ = stream.write_all(b"0005hello world");
    });
    let got = within(10, "read_exact", move || {
        block_on(async move {
            let mut stream = TcpStream::connect(addr).await.unwrap();
            let mut header = [0u8; 4];
            read_exact(&mut stream, &mut header).await.unwrap();
            let mut body = [0u8; 5];
            read_exact(&mut stream, &mut body).await.unwrap();
            let mut rest = Vec::new();
            let mut chunk = [0u8; 64];
            loop {
                match stream.read(&mut chunk).await.unwrap() {
                    0 => break,
                    n => rest.extend_from_slice(&chunk[..n]),
                }
            }
            (header, body, rest)
        })
        .unwrap()
    });
    assert_eq!(&got.0, b"0005");
    assert_eq!(&got.1, b"hello");
    assert_eq!(got.2, b" world", "the bytes after the buffer were lost");
}

#[test]
fn an_early_end_is_unexpected_eof_saying_how_many_bytes_came() {
    // 7 bytes in two pieces, then the end, for a buffer of 1000: the message must say 7
    // (not 993 missing, nor the 4 of the last read).
    let addr = sends_in_pieces(vec![b"abc", b"defg"]);
    let err = within(10, "read_exact", move || {
        block_on(async move {
            let mut stream = TcpStream::connect(addr).await.unwrap();
            let mut buf = [0u8; 1000];
            read_exact(&mut stream, &mut buf).await.unwrap_err()
        })
        .unwrap()
    });
    assert_eq!(err.kind(), ErrorKind::UnexpectedEof, "{err}");
    assert!(
        numbers_in(&err.to_string()).contains(&7),
        "the error must say how many bytes came (7): {err}"
    );
}

#[test]
fn exactly_enough_bytes_then_the_end_is_success_one_more_is_not() {
    let read = |len: usize| {
        let addr = serve(|mut stream| {
            let _ = stream.write_all(b"1234567");
        });
        within(10, "read_exact", move || {
            block_on(async move {
                let mut stream = TcpStream::connect(addr).await.unwrap();
                let mut buf = vec![0u8; len];
                read_exact(&mut stream, &mut buf).await.map(|()| buf)
            })
            .unwrap()
        })
    };
    assert_eq!(
        read(7).unwrap(),
        b"1234567",
        "7 bytes came for a buffer of 7"
    );
    let err = read(8).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnexpectedEof, "{err}");
    assert!(numbers_in(&err.to_string()).contains(&7), "{err}");
}

#[test]
fn a_large_buffer_fills_across_many_reads() {
    // More than the socket buffers hold, and a size that is no power of two.
    let size = (1 << 20) + 7;
    let data: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
    let sent = data.clone();
    let addr = serve(move |mut stream| {
        let _ = stream.write_all(&sent);
    });
    let got = within(20, "read_exact of 1 MiB", move || {
        block_on(async move {
            let mut stream = TcpStream::connect(addr).await.unwrap();
            let mut buf = vec![0u8; size];
            read_exact(&mut stream, &mut buf).await.unwrap();
            buf
        })
        .unwrap()
    });
    assert!(got == data, "the bytes differ");
}

#[test]
fn an_empty_buffer_returns_at_once() {
    // The peer sends nothing and keeps the connection open until the client closes it:
    // an empty buffer needs no byte, so nothing must wait for one (nor see an end).
    let addr = serve(|mut stream| {
        let _ = stream.read(&mut [0u8; 1]);
    });
    within(10, "read_exact of nothing, from a silent peer", move || {
        block_on(async move {
            let mut stream = TcpStream::connect(addr).await.unwrap();
            read_exact(&mut stream, &mut []).await.unwrap();
        })
        .unwrap()
    });
}

#[test]
fn a_reset_connection_is_an_error_of_its_own_not_an_end() {
    // The peer waits for one byte, then resets the connection (SO_LINGER 0, then close):
    // the reader's error is ConnectionReset, as the socket said, not UnexpectedEof.
    let addr = serve(|mut stream| {
        let _ = stream.read(&mut [0u8; 1]);
        let _ = socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO));
    });
    let err = within(10, "read_exact from a peer that resets", move || {
        block_on(async move {
            let mut stream = TcpStream::connect(addr).await.unwrap();
            stream.write_all(b"?").await.unwrap();
            let mut buf = [0u8; 10];
            read_exact(&mut stream, &mut buf).await.unwrap_err()
        })
        .unwrap()
    });
    assert_eq!(err.kind(), ErrorKind::ConnectionReset, "{err}");
}

#[test]
fn while_the_peer_pauses_the_executor_sleeps() {
    let addr = serve(|mut stream| {
        let _ = stream.write_all(b"ab");
        std::thread::sleep(Duration::from_millis(400));
        let _ = stream.write_all(b"cd");
    });
    let (got, polls) = within(10, "read_exact from a slow peer", move || {
        let executor = Executor::new().unwrap();
        let got = executor
            .block_on(async move {
                let mut stream = TcpStream::connect(addr).await.unwrap();
                let mut buf = [0u8; 4];
                read_exact(&mut stream, &mut buf).await.unwrap();
                buf
            })
            .unwrap();
        (got, executor.stats().polls)
    });
    assert_eq!(&got, b"abcd");
    // Connected, two pieces: a handful of polls. A reader that looks again on a short
    // timer is polled hundreds of times during the 400 ms pause.
    assert!(
        polls <= 20,
        "the executor polled {polls} times while the peer paused: wait for the socket, \
         not on a timer"
    );
}
