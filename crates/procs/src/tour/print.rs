//! The report, written for a person: each experiment as it ends, the claims at the end.

use super::*;

pub(super) fn print_experiment(exp: &Experiment) {
    for line in textwrap(&exp.shows, 88) {
        println!("  {line}");
    }
    let width = exp.figures.iter().map(|f| f.name.len()).max().unwrap_or(0);
    for f in &exp.figures {
        println!("    {:<width$}  {}", f.name, f.text);
    }
    for note in &exp.notes {
        println!("    {note}");
    }
    if let Some(err) = &exp.error {
        println!("  ERROR: {err}");
    }
}

pub(super) fn print_claims(report: &Report) {
    println!("\nClaims");
    for c in &report.claims {
        let mark = match c.verdict {
            Verdict::Held => "held  ",
            Verdict::Failed => "FAILED",
            Verdict::TooClose => "close ",
        };
        println!("  {mark} {}: {}", c.statement, c.decided_by);
    }
    let close = report.count(Verdict::TooClose);
    let broken = report
        .experiments
        .iter()
        .filter(|e| e.error.is_some())
        .count();
    println!(
        "\n{}/{} claims held, {} failed, {close} too close to call; {broken} experiment(s) \
         could not run; in {:.1} s",
        report.count(Verdict::Held),
        report.claims.len(),
        report.count(Verdict::Failed),
        report.seconds
    );
    if close > 0 {
        println!(
            "Too close to call: the difference was inside the spread of the rounds measured \
             in this run\n(a busy machine widens it). It is no failure; run the tour again \
             on a quieter machine."
        );
    }
}

fn textwrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.len() + 1 + word.len() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}
