//! Graded tests for exercise `event-loop/read-exact`. Each test runs a small blocking
//! server thread on 127.0.0.1 (port 0) that plays one peer: it sends its bytes in pieces,
//! pauses, stays silent, closes early or resets the connection.
//!
//! Every check names the peer and the reads it tried ([`graded::scene`]), the rule of
//! the task it checks, and what `read_exact` gave: the bytes as text, or the error's kind
//! and message. A panic in `read_exact` is reported as one, with that peer.

#[path = "../../../tests/common/mod.rs"]
mod common;

use std::io::{self, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::time::Duration;

use event_loop::step7_executor::{Executor, TcpStream};
use event_loop_read_exact::read_exact;
use graded::{Case, scene};

/// Accepts one connection on 127.0.0.1 and hands it to `peer`, on a thread of its own.
fn serve(peer: impl FnOnce(std::net::TcpStream) + Send + 'static) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("the test's peer binds 127.0.0.1");
    let addr = listener.local_addr().expect("the peer's address");
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

/// A connection to a test's peer, with an executor of its own (on this thread) to run
/// `read_exact` on. Connecting is the test's setup, apart from the learner's code.
struct Client {
    executor: Executor,
    stream: TcpStream,
}

impl Client {
    fn connect(addr: SocketAddr) -> Client {
        let executor = Executor::new().expect("the lesson's executor starts (epoll, eventfd)");
        let stream = executor
            .block_on(TcpStream::connect(addr))
            .expect("the lesson's executor runs (epoll_wait)")
            .expect("the client connects to the test's peer on 127.0.0.1");
        Client { executor, stream }
    }

    /// The learner's `read_exact` into a new buffer of `len` bytes: the buffer, or the
    /// error. A panic in it is reported with `c`.
    #[track_caller]
    fn read_exact(&mut self, c: &Case, len: usize) -> io::Result<Vec<u8>> {
        let mut buf = vec![0u8; len];
        let Client { executor, stream } = self;
        c.run(|| executor.block_on(read_exact(stream, &mut buf)))
            .expect("the lesson's executor runs (epoll_wait)")
            .map(|()| buf)
    }

    /// Sends `bytes` to the peer (the test's doing, not `read_exact`'s).
    fn send(&mut self, bytes: &[u8]) {
        let Client { executor, stream } = self;
        executor
            .block_on(stream.write_all(bytes))
            .expect("the lesson's executor runs (epoll_wait)")
            .expect("the client sends to the test's peer");
    }

    /// What is left in the stream, read by the test up to the end.
    fn rest(&mut self) -> Vec<u8> {
        let Client { executor, stream } = self;
        executor
            .block_on(async {
                let mut rest = Vec::new();
                let mut chunk = [0u8; 64];
                loop {
                    match stream.read(&mut chunk).await {
                        Ok(0) => return rest,
                        Ok(n) => rest.extend_from_slice(&chunk[..n]),
                        Err(e) => panic!("the test reads the rest of the stream: {e}"),
                    }
                }
            })
            .expect("the lesson's executor runs (epoll_wait)")
    }

    /// How many times the executor polled so far (connecting included).
    fn polls(&self) -> u64 {
        self.executor.stats().polls
    }
}

/// What `read_exact` gave, as a case shows it: the bytes of the buffer as text, or the
/// error's kind and message. A buffer of more than 20 bytes is cut there, its length
/// said; the tests compare longer buffers byte by byte.
fn as_text(got: &io::Result<Vec<u8>>) -> Result<String, String> {
    match got {
        Ok(buf) if buf.len() <= 20 => Ok(String::from_utf8_lossy(buf).into_owned()),
        Ok(buf) => Ok(format!(
            "{}... ({} bytes in all)",
            String::from_utf8_lossy(&buf[..20]),
            buf.len()
        )),
        Err(e) => Err(format!("{:?}: {e}", e.kind())),
    }
}

/// Checks that `got` is an error of `kind`, for the task's rule in `c`, and returns its
/// message.
#[track_caller]
fn error_of_kind(c: &Case, got: &io::Result<Vec<u8>>, kind: ErrorKind) -> String {
    match got {
        Err(e) if e.kind() == kind => e.to_string(),
        _ => c.fail(as_text(got)),
    }
}

/// The numbers written in `text`, in order ("after 7 of 1000 bytes" gives 7 and 1000).
fn numbers_in(text: &str) -> Vec<u64> {
    text.split(|c: char| !c.is_ascii_digit())
        .filter_map(|word| word.parse().ok())
        .collect()
}

const LOOPS: &str = "read exactly buf.len() bytes, looping over short reads";

#[test]
fn bytes_sent_in_pieces_fill_the_buffer() {
    let addr = sends_in_pieces(vec![b"Wik", b"i", b"pedia and more"]);
    let c = scene(
        "a peer that sends \"Wik\", \"i\", \"pedia and more\", 30 ms apart, then closes; \
         read_exact of 9 bytes, then 5, then 4",
        LOOPS,
    );
    let got = common::within(&c, 10, move |c| {
        let mut client = Client::connect(addr);
        [9, 5, 4].map(|len| client.read_exact(&c, len))
    });
    c.eq(
        got.iter().map(as_text).collect(),
        vec![
            Ok("Wikipedia".to_string()),
            Ok(" and ".to_string()),
            Ok("more".to_string()),
        ],
    );
}

#[test]
fn no_byte_past_the_buffer_is_consumed() {
    // All at once: a header and a body the reader asks for in two exact reads. What it
    // did not ask for must still be in the stream for the next reader.
    let addr = serve(|mut stream| {
        let _ = stream.write_all(b"0005hello world");
    });
    let c = scene(
        "a peer that sends \"0005hello world\" at once, then closes; read_exact of 4 bytes, \
         then 5, then the test reads the rest",
        LOOPS,
    );
    let (got, rest) = common::within(&c, 10, move |c| {
        let mut client = Client::connect(addr);
        let got = [4, 5].map(|len| client.read_exact(&c, len));
        (got, client.rest())
    });
    c.eq(
        got.iter().map(as_text).collect(),
        vec![Ok("0005".to_string()), Ok("hello".to_string())],
    );
    c.rule("take no byte past the buffer: the rest stays in the stream, for the next read")
        .eq(String::from_utf8_lossy(&rest), " world".into());
}

#[test]
fn an_early_end_is_unexpected_eof_saying_how_many_bytes_came() {
    // 7 bytes in two pieces, then the end, for a buffer of 1000: the message must say 7
    // (not 993 missing, nor the 4 of the last read).
    let addr = sends_in_pieces(vec![b"abc", b"defg"]);
    let c = scene(
        "a peer that sends \"abc\", then \"defg\" (7 bytes), then closes; read_exact of \
         1000 bytes",
        "an early end-of-file is UnexpectedEof",
    );
    let got = common::within(&c, 10, move |c| Client::connect(addr).read_exact(&c, 1000));
    let message = error_of_kind(&c, &got, ErrorKind::UnexpectedEof);
    c.rule("an early end-of-file is UnexpectedEof saying how many bytes came: 7 (in its message)")
        .check(numbers_in(&message).contains(&7), message);
}

#[test]
fn exactly_enough_bytes_then_the_end_is_success_one_more_is_not() {
    let read = |len: usize| {
        let addr = serve(|mut stream| {
            let _ = stream.write_all(b"1234567");
        });
        let c = scene(
            format!(
                "a peer that sends \"1234567\" (7 bytes), then closes; read_exact of {len} bytes"
            ),
            LOOPS,
        );
        let got = common::within(&c, 10, move |c| Client::connect(addr).read_exact(&c, len));
        (c, got)
    };
    let (c, got) = read(7);
    c.rule("read exactly buf.len() bytes: the end after them is no error")
        .eq(as_text(&got), Ok("1234567".to_string()));
    let (c, got) = read(8);
    let c = c.rule("an early end-of-file is UnexpectedEof saying how many bytes came: 7");
    let message = error_of_kind(&c, &got, ErrorKind::UnexpectedEof);
    c.check(numbers_in(&message).contains(&7), message);
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
    let c = scene(
        format!(
            "a peer that sends {size} bytes (1 MiB + 7; byte i is i % 251) at once, then \
             closes; read_exact of {size} bytes"
        ),
        LOOPS,
    );
    let got = common::within(&c, 20, move |c| Client::connect(addr).read_exact(&c, size));
    let buf = match got {
        Ok(buf) => buf,
        Err(_) => c.fail(as_text(&got)),
    };
    // The first byte that differs, rather than a million of them.
    if let Some(i) = (0..size).find(|&i| buf[i] != data[i]) {
        c.fail_with(&format!(
            "byte {i} of the buffer is {}, not {} (the bytes differ from there)",
            buf[i], data[i]
        ));
    }
}

#[test]
fn an_empty_buffer_returns_at_once() {
    // The peer sends nothing and keeps the connection open until the client closes it:
    // an empty buffer needs no byte, so nothing must wait for one (nor see an end).
    let addr = serve(|mut stream| {
        let _ = stream.read(&mut [0u8; 1]);
    });
    let c = scene(
        "a peer that sends nothing and keeps the connection open; read_exact of 0 bytes",
        "an empty buf reads nothing: Ok at once",
    );
    let got = common::within(&c, 10, move |c| Client::connect(addr).read_exact(&c, 0));
    c.eq(as_text(&got), Ok(String::new()));
}

#[test]
fn a_reset_connection_is_an_error_of_its_own_not_an_end() {
    // The peer waits for one byte, then resets the connection (SO_LINGER 0, then close):
    // the reader's error is ConnectionReset, as the socket said, not UnexpectedEof.
    let addr = serve(|mut stream| {
        let _ = stream.read(&mut [0u8; 1]);
        let _ = socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO));
    });
    let c = scene(
        "a peer that resets the connection (sends RST) after one byte from the client; \
         read_exact of 10 bytes",
        "any other error is returned as it is: a reset stays ConnectionReset",
    );
    let got = common::within(&c, 10, move |c| {
        let mut client = Client::connect(addr);
        client.send(b"?");
        client.read_exact(&c, 10)
    });
    error_of_kind(&c, &got, ErrorKind::ConnectionReset);
}

#[test]
fn while_the_peer_pauses_the_executor_sleeps() {
    let addr = serve(|mut stream| {
        let _ = stream.write_all(b"ab");
        std::thread::sleep(Duration::from_millis(400));
        let _ = stream.write_all(b"cd");
    });
    let c = scene(
        "a peer that sends \"ab\", pauses 400 ms, sends \"cd\", then closes; read_exact of \
         4 bytes",
        LOOPS,
    );
    let (got, polls) = common::within(&c, 10, move |c| {
        let mut client = Client::connect(addr);
        let got = client.read_exact(&c, 4);
        (got, client.polls())
    });
    c.eq(as_text(&got), Ok("abcd".to_string()));
    // Connected, two pieces: a handful of polls. A reader that looks again on a short
    // timer is polled hundreds of times during the 400 ms pause.
    if polls > 20 {
        c.rule(
            "while no byte comes, wait for the socket, not on a timer (20 polls of the \
             executor at most)",
        )
        .fail_with(&format!(
            "the executor polled {polls} times while the peer paused"
        ));
    }
}
