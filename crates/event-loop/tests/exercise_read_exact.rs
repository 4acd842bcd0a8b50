//! Graded tests for exercise `event-loop/read-exact`. Each test runs a small blocking
//! server thread on 127.0.0.1 (port 0) that sends its bytes in pieces.

mod common;
use common::within;

use std::io::Write;
use std::net::{SocketAddr, TcpListener};
use std::time::Duration;

use event_loop::exercises::read_exact::read_exact;
use event_loop::step5_executor::{TcpStream, block_on};

/// Accepts one connection and sends `pieces` with a pause between them, then closes.
fn server(pieces: Vec<Vec<u8>>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        if let Ok((mut stream, _)) = listener.accept() {
            for piece in pieces {
                if stream.write_all(&piece).is_err() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(30));
            }
        }
    });
    addr
}

#[test]
fn bytes_sent_in_pieces_fill_the_buffer() {
    let addr = server(vec![
        b"Wik".to_vec(),
        b"i".to_vec(),
        b"pedia and more".to_vec(),
    ]);
    let got = within(10, "read_exact", move || {
        block_on(async move {
            let mut stream = TcpStream::connect(addr).await.unwrap();
            let mut buf = [0u8; 9];
            read_exact(&mut stream, &mut buf).await.unwrap();
            let mut rest = [0u8; 5];
            read_exact(&mut stream, &mut rest).await.unwrap();
            (buf, rest)
        })
        .unwrap()
    });
    assert_eq!(&got.0, b"Wikipedia");
    assert_eq!(&got.1, b" and ");
}

#[test]
fn an_early_end_is_unexpected_eof() {
    let addr = server(vec![b"short".to_vec()]);
    let err = within(10, "read_exact", move || {
        block_on(async move {
            let mut stream = TcpStream::connect(addr).await.unwrap();
            let mut buf = [0u8; 100];
            read_exact(&mut stream, &mut buf).await.unwrap_err()
        })
        .unwrap()
    });
    assert_eq!(err.kind(), std::io::ErrorKind::UnexpectedEof, "{err}");
    assert!(
        err.to_string().contains('5'),
        "say how many bytes came: {err}"
    );
}

#[test]
fn a_large_buffer_fills_across_many_reads() {
    let data: Vec<u8> = (0..(1 << 20)).map(|i| (i % 251) as u8).collect();
    let addr = server(vec![data.clone()]);
    let got = within(20, "read_exact of 1 MiB", move || {
        block_on(async move {
            let mut stream = TcpStream::connect(addr).await.unwrap();
            let mut buf = vec![0u8; 1 << 20];
            read_exact(&mut stream, &mut buf).await.unwrap();
            buf
        })
        .unwrap()
    });
    assert!(got == data, "the bytes differ");
}

#[test]
fn an_empty_buffer_needs_no_bytes() {
    let addr = server(vec![]);
    within(10, "read_exact of nothing", move || {
        block_on(async move {
            let mut stream = TcpStream::connect(addr).await.unwrap();
            read_exact(&mut stream, &mut []).await.unwrap();
        })
        .unwrap()
    });
}
