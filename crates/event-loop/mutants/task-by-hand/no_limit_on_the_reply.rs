        let n = match cx.read(socket, &mut self.buf) {
            Ok(0) => return Flow::End(Err(PingError::Closed { round: self.round })),
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                return Flow::Wait(Step::readable(socket));
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => return Flow::Continue,
            Err(e) => return Flow::End(Err(self.io_error("receiving the pong", e))),
        };
        // Kept in a field: the rest of the line may come in a later step.
        self.reply.extend_from_slice(&self.buf[..n]);
        let Some(end) = self.reply.iter().position(|&b| b == b'\n') else {
            return Flow::Continue;
        };
        let line = String::from_utf8_lossy(&self.reply[..end]).into_owned();
        if line != format!("pong {}", self.round) {
            return Flow::End(Err(PingError::WrongReply {
                round: self.round,
                got: line,
            }));
        }
        if self.round == self.rounds {
            return Flow::End(Ok(self.rounds));
        }
        self.stage = Stage::Pausing {
            socket,
            until: procs::deadline::from_now(self.pause),
        };
        Flow::Continue
