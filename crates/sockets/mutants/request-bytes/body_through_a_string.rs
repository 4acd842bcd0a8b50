    let slash = if path.starts_with('/') { "" } else { "/" };
    // The whole request as one string: bytes that are not UTF-8 are replaced on the way.
    let text = format!(
        "POST {slash}{path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: {content_type}\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{}",
        body.len(),
        String::from_utf8_lossy(body)
    );
    text.into_bytes()
