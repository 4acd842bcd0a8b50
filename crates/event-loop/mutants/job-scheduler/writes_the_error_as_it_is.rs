        let line = match outcome {
            Outcome::Succeeded { attempts } => format!("succeeded {name} {attempts}\n"),
            Outcome::Failed { attempts, last } => {
                format!("failed {name} {attempts} {last}\n")
            }
            Outcome::Skipped { .. } => return Ok(()),
        };
        self.append(&line)
