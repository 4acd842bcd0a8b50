//! Step 8: out of file descriptors, the loop pauses accepting instead of spinning, and
//! takes the waiting clients once descriptors are free again.
//!
//! The test lowers this process's descriptor limit, so it lives alone in its own test
//! binary (its own process): no other test must be starved of descriptors meanwhile.

use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use event_loop::step8_server::{self, LoopServerConfig};
use nix::sys::resource::{Resource, getrlimit, setrlimit};
use procs::measure::Usage;
use socket2::{Domain, Protocol, Socket, Type};
use sockets::client::read_some;
use sockets::corpus::document;
use sockets::http::{Limits, Method, Parsed, ResponseParser};

/// The lowest descriptor number not in use: the one the next `socket` or `accept`
/// would get. The kernel gives a new descriptor the lowest free number, so opening
/// anything tells.
fn lowest_free_fd() -> u64 {
    let probe = std::fs::File::open("/dev/null").unwrap();
    probe.as_raw_fd() as u64
}

#[test]
fn out_of_descriptors_the_loop_pauses_accepting_without_spinning() {
    let (done, finished) = mpsc::channel();
    let test = std::thread::spawn(move || {
        let server = step8_server::start(LoopServerConfig::default()).unwrap();
        let addr: SocketAddr = server.addr();
        // The clients' sockets exist before the limit drops: connecting them needs no
        // new descriptor on our side, while accepting them needs one on the server's.
        let clients: Vec<Socket> = (0..4)
            .map(|_| Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP)).unwrap())
            .collect();
        let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).unwrap();
        setrlimit(Resource::RLIMIT_NOFILE, lowest_free_fd(), hard).unwrap();

        // Every failed accept falls between this instant (before the first client
        // connects) and the reading of the stats below.
        let window_start = Instant::now();
        for client in &clients {
            client
                .connect_timeout(&addr.into(), Duration::from_secs(5))
                .expect("the kernel completes the handshake; accepting is the server's part");
        }
        // A second of failing accepts: a loop that retried at once would burn a core.
        let usage = Usage::of_self().unwrap();
        std::thread::sleep(Duration::from_secs(1));
        let cpu = Usage::of_self().unwrap().since(&usage).cpu();
        let stats = server.stats();
        let window = window_start.elapsed();
        setrlimit(Resource::RLIMIT_NOFILE, soft, hard).unwrap();

        assert!(stats.accept_errors >= 1, "{stats}");
        // One attempt per pause (100 ms), not thousands: counted against the window as
        // it really lasted (a busy machine may stretch the second of sleep), with room
        // for twice the rate a pausing loop can reach.
        let most = 1 + window.as_millis() / 50;
        assert!(
            u128::from(stats.accept_errors) <= most,
            "{stats}: more than {most} attempts in {window:?}"
        );
        assert_eq!(stats.open_connections, 0, "{stats}");
        // CPU time, not wall time: a busy machine gives the process less of it, never
        // more. A spinning loop would use most of a core.
        assert!(cpu < 0.3, "{cpu:.2} s of CPU in 1 s: the loop spins");

        // Descriptors are back: the waiting clients are taken and served.
        let started = Instant::now();
        for (id, client) in clients.into_iter().enumerate() {
            let mut stream: TcpStream = client.into();
            stream
                .set_read_timeout(Some(Duration::from_secs(5)))
                .unwrap();
            write!(stream, "GET /wiki/{id} HTTP/1.1\r\nHost: t\r\n\r\n").unwrap();
            let mut parser = ResponseParser::new(Method::Get, Limits::default());
            let mut buf = [0u8; 4096];
            let response = loop {
                let n = read_some(&mut stream, &mut buf).expect("served once descriptors are back");
                assert!(n > 0, "closed");
                if let Parsed::Done { message, .. } = parser.feed(&buf[..n]).unwrap() {
                    break message;
                }
            };
            assert_eq!(response.body, document(id as u64));
        }
        // Guards against a loop that resumes accepting late (its pause is 100 ms); each
        // read above would also fail after 5 s.
        assert!(started.elapsed() < Duration::from_secs(10));
        assert_eq!(server.stop().connections, 4);
        let _ = done.send(());
    });
    match finished.recv_timeout(Duration::from_secs(30)) {
        Ok(()) => test.join().unwrap(),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            if let Err(panic) = test.join() {
                std::panic::resume_unwind(panic);
            }
        }
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("the test took more than 30 s"),
    }
}
