        Config {
            // No limit unless one is asked for.
            limit: usize::MAX,
            state: None,
        }
