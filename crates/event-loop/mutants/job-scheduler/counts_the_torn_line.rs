    /// The job and outcome of an outcome line; `None` for any other line.
    fn parse_outcome(line: &str) -> Option<(&str, Outcome)> {
        let (word, rest) = line.split_once(' ')?;
        let (name, rest) = rest.split_once(' ')?;
        if name.is_empty() {
            return None;
        }
        match word {
            "succeeded" => Some((
                name,
                Outcome::Succeeded {
                    attempts: rest.parse().ok()?,
                },
            )),
            "failed" => {
                let (attempts, error) = rest.split_once(' ').unwrap_or((rest, ""));
                Some((
                    name,
                    Outcome::Failed {
                        attempts: attempts.parse().ok()?,
                        last: error.to_string(),
                    },
                ))
            }
            _ => None,
        }
    }

    let mut outcomes = HashMap::new();
    // Only up to the last '\n': what follows it is a line whose writing was cut short.
    // A later line replaces what an earlier one said about the same job.
    for line in text.lines() {
        if let Some((name, outcome)) = parse_outcome(line) {
            outcomes.insert(name.to_string(), outcome);
        }
    }
    outcomes
