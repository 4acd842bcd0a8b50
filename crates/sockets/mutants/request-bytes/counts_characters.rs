    let slash = if path.starts_with('/') { "" } else { "/" };
    // Counts characters, as if the body were text: "é" is one character but two bytes.
    let length = String::from_utf8_lossy(body).chars().count();
    let mut out = format!(
        "POST {slash}{path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: {content_type}\r\n\
         Content-Length: {length}\r\nConnection: close\r\n\r\n"
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
