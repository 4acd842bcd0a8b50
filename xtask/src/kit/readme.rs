//! The student repository's `README.md`, from the template `xtask/kit/README.md`.
//!
//! The course's own README speaks to someone reading the course; the kit's speaks to a
//! student with exercises to solve, and to the instructor setting up the assignment. The
//! prose is a Markdown file kept in the repository (easy to read and edit as Markdown);
//! the parts that must match the registry (the lessons, the exercises, the points) are
//! placeholders filled from it here, so they never go stale.
//!
//! Placeholders are `{{name}}`; the template is compiled in, and a test checks that
//! every placeholder in it is known.

use crate::lessons::LESSONS;
use crate::registry::Exercise;

use super::classroom;

/// The template, compiled into xtask so the kit never depends on where xtask runs from.
const TEMPLATE: &str = include_str!("../../kit/README.md");

/// The kit's README for these exercises.
pub fn render(exercises: &[Exercise]) -> String {
    let total: u32 = exercises.iter().map(|e| e.points).sum();
    let first_id = exercises.first().map_or("<id>", |e| e.id.as_str());
    TEMPLATE
        .replace("{{lessons}}", &lessons_table(exercises))
        .replace("{{exercises}}", &exercises_table(exercises))
        .replace("{{exercise_count}}", &exercises.len().to_string())
        .replace("{{total_points}}", &total.to_string())
        .replace("{{first_id}}", first_id)
        .replace(
            "{{timeout_minutes}}",
            &classroom::STEP_TIMEOUT_MINUTES.to_string(),
        )
}

/// The lessons that have exercises, in course order, with what they are worth.
fn lessons_table(exercises: &[Exercise]) -> String {
    let mut out = String::from(
        "| # | crate | what it teaches | exercises | points |\n\
         |---|-------|-----------------|----------:|-------:|\n",
    );
    for lesson in LESSONS {
        let own: Vec<&Exercise> = exercises
            .iter()
            .filter(|e| e.lesson.name == lesson.name)
            .collect();
        if own.is_empty() {
            continue;
        }
        let points: u32 = own.iter().map(|e| e.points).sum();
        out.push_str(&format!(
            "| {} | [`{}`](crates/{}) | {} | {} | {points} |\n",
            lesson.number,
            lesson.name,
            lesson.name,
            lesson.title,
            own.len()
        ));
    }
    out.trim_end().to_string()
}

/// Every exercise: id, title, points, and the file to edit.
fn exercises_table(exercises: &[Exercise]) -> String {
    let mut out = String::from(
        "| id | exercise | points | file to edit |\n\
         |----|----------|-------:|--------------|\n",
    );
    for e in exercises {
        out.push_str(&format!(
            "| `{}` | {} | {} | [`{}`]({}) |\n",
            e.id,
            e.title.replace('|', "\\|"),
            e.points,
            e.file.display(),
            e.file.display()
        ));
    }
    out.trim_end().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_placeholder_of_the_template_is_filled() {
        let exercises = crate::registry::load(&crate::workspace::root()).unwrap();
        let text = render(&exercises);
        assert!(
            !text.contains("{{"),
            "an unknown placeholder is left:\n{text}"
        );
        assert!(text.contains(&format!("cargo xtask hint {}", exercises[0].id)));
        assert!(text.contains("cargo xtask next "));
        assert!(text.contains("| `procs/capture` |"));
        assert!(text.contains("## For instructors: GitHub Classroom setup"));
        let total: u32 = exercises.iter().map(|e| e.points).sum();
        assert!(text.contains(&format!("{total} points")));
    }
}
