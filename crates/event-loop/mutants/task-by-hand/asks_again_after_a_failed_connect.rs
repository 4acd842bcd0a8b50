        match cx.connected(socket) {
            Ok(true) => {
                self.begin_round(socket, 1);
                Flow::Continue
            }
            // Not connected (yet, or it failed): wait for the socket and ask again.
            Ok(false) | Err(_) => Flow::Wait(Step::writable(socket)),
        }
