    // "Exactly one slash in front": strips every leading slash, then adds one back, so a
    // path that starts with "//" is not sent as given.
    let path = path.trim_start_matches('/');
    let mut out = format!(
        "POST /{path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: {content_type}\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
