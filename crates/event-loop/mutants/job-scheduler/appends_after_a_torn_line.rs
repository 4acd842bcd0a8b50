        use std::fs::OpenOptions;
        use std::io::Read;

        let failed = |source| JobError::State {
            path: path.to_path_buf(),
            source,
        };
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)
            .map_err(failed)?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(failed)?;
        let complete = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        let outcomes = read_state(&String::from_utf8_lossy(&bytes[..complete]));
        let state = StateFile {
            path: path.to_path_buf(),
            file,
        };
        Ok((state, outcomes))
