    let slash = if path.starts_with('/') { "" } else { "/" };
    let mut out = format!(
        "POST {slash}{path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: {content_type}\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    // "Every line ends with CR LF": but the body is not a line, and these two bytes are
    // not counted in Content-Length.
    out.extend_from_slice(b"\r\n");
    out
