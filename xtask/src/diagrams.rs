//! `diagrams`: the book's pictures, drawn from small text sources.
//!
//! Some mechanisms are easier to see than to read: two page tables pointing at the same
//! pages, a connection moving from one queue to another, a waker travelling from a
//! future to the reactor and back. The book shows those as SVG pictures. An SVG drawn by
//! hand in an editor cannot be reviewed line by line and drifts from the text unseen, so
//! each picture is a short source, `docs/src/diagrams/NAME.txt`, rendered by this module
//! into `NAME.svg` beside it. `cargo xtask diagrams` renders them all; `docs-check` fails
//! when an `.svg` differs from what its source renders to now.
//!
//! The format has one statement per line; `#` starts a comment line:
//!
//! ```text
//! size 640 300                                   # the drawing area, in pixels
//! title "Fork shares the pages"                  # the SVG's <title> (required)
//! caption "A write faults and copies one page"   # a line under the drawing (repeatable)
//! box parent 20 20 160 60 "parent\npage table" blue
//! box page 300 20 120 40 "page 7" dashed
//! arrow parent page "read-only"                  # box to box, clipped at their edges
//! arrow parent.s page.w@0.25 via 100,150 dashed  # sides, a point along one, a bend
//! line 20,200 620,200 dashed                     # like arrow, without a head
//! text 320 240 "one address space" center bold
//! ```
//!
//! - `box ID X Y W H "LABEL" [STYLE...]`: a rectangle, its label centred in it. Styles:
//!   a fill (`white` by default, `grey`, `blue`, `green`, `yellow`, `red`, `purple`),
//!   `dashed` (its border), `round` (its corners), `top` (the label at the top, for a box
//!   that holds others), `bold`, `small` (13 px labels instead of 15 px).
//! - `arrow FROM TO [OPTION...]` and `line FROM TO [OPTION...]`: an end is a box (`ID`,
//!   the line clipped at its border), a side of one (`ID.n`, `.s`, `.e`, `.w`, with
//!   `@F` for a point at fraction F along it, from the left or the top), or a point
//!   `X,Y`. Options: `"LABEL"`, `via X,Y` (a bend, repeatable), `dashed`, `both` (a head
//!   at each end), `swap` (the label on the other side), `at X,Y` (the label there), a
//!   colour (`red`, `blue`, `green`, `grey`), `small`.
//! - `text X Y "TEXT" [left|center|right] [bold] [italic] [small] [COLOUR]`: Y is the
//!   baseline of the first line.
//!
//! In labels and texts, `\n` starts a new line and `\"` is a quote. Boxes are drawn in
//! the order given (a box that holds others comes first), then lines and arrows, then
//! texts. Rendering refuses what would be cut off or spill: a label wider than its box,
//! text or a box outside the drawing, an unknown box id. It estimates text widths
//! generously (0.6 em a character), so what passes fits in any common sans-serif font.
//!
//! The SVG is deterministic (same source, same bytes), self-contained (no fonts, images
//! or styles from elsewhere), and drawn dark on an opaque light card, so it reads the
//! same in mdBook's light and dark themes.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Where the sources and their pictures live, relative to the book's `src/`.
pub const DIAGRAMS_DIR: &str = "diagrams";

/// Font sizes in pixels: the book's text is about 16 px, and nothing is under 13.
const FONT: f64 = 15.0;
const SMALL_FONT: f64 = 13.0;
const CAPTION_FONT: f64 = 14.0;
/// Line height, as a multiple of the font size.
const LEADING: f64 = 1.3;
/// A generous estimate of a character's width, as a multiple of the font size.
const CHAR_WIDTH: f64 = 0.6;
const BOLD_CHAR_WIDTH: f64 = 0.66;
/// Room kept between a box's border and its label.
const PADDING: f64 = 6.0;

const CARD: &str = "#ffffff";
const CARD_BORDER: &str = "#d0d7de";
const INK: &str = "#1f2328";
const FONT_FAMILY: &str = "DejaVu Sans, Verdana, Arial, Helvetica, sans-serif";

/// A source that cannot be drawn: where, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DiagramError {
    /// A line that says something wrong, or something that would not fit.
    #[error("{file}:{line}: {problem}")]
    Line {
        file: String,
        line: usize,
        problem: String,
    },
    /// Something the whole source lacks.
    #[error("{file}: {problem}")]
    Source { file: String, problem: String },
}

/// Renders one source to SVG. `file` names the source in errors.
pub fn render(file: &str, source: &str) -> Result<String, DiagramError> {
    let diagram = parse(source).map_err(|e| e.located(file))?;
    diagram.check_fit().map_err(|e| e.located(file))?;
    Ok(diagram.to_svg())
}

/// The diagram sources (`*.txt`) in `dir`, sorted by name; none when `dir` is missing.
pub fn sources(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut found = Vec::new();
    for entry in entries {
        let path = entry?.path();
        if path.is_file() && path.extension().is_some_and(|e| e == "txt") {
            found.push(path);
        }
    }
    found.sort();
    Ok(found)
}

/// `cargo xtask diagrams`: renders every source of the book, writing only the pictures
/// that changed, and says what it did with each.
pub fn main() -> ExitCode {
    let root = crate::workspace::root();
    let dir = root.join("docs/src").join(DIAGRAMS_DIR);
    let shown = |p: &Path| p.strip_prefix(&root).unwrap_or(p).display().to_string();
    let sources = match sources(&dir) {
        Ok(sources) => sources,
        Err(e) => {
            eprintln!("error: cannot list {}: {e}", shown(&dir));
            return ExitCode::FAILURE;
        }
    };
    let mut failed = 0;
    for source in &sources {
        match render_file(source, &shown(source)) {
            Ok((svg, written)) => {
                let what = if written { "wrote" } else { "unchanged" };
                println!("{what:>9} {}", shown(&svg));
            }
            Err(message) => {
                println!("{message}");
                failed += 1;
            }
        }
    }
    println!("diagrams: {} source(s), {failed} failed", sources.len());
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Renders `source` into the `.svg` beside it; `true` when the file was (re)written.
fn render_file(source: &Path, shown: &str) -> Result<(PathBuf, bool), String> {
    let text = fs::read_to_string(source).map_err(|e| format!("{shown}: cannot read: {e}"))?;
    let svg = render(shown, &text).map_err(|e| e.to_string())?;
    let target = source.with_extension("svg");
    if fs::read_to_string(&target).is_ok_and(|old| old == svg) {
        return Ok((target, false));
    }
    fs::write(&target, svg).map_err(|e| format!("{}: cannot write: {e}", target.display()))?;
    Ok((target, true))
}

/// A problem found before the file's name is known: a line number (0 for the whole
/// source) and what is wrong.
#[derive(Debug)]
struct Unlocated {
    line: usize,
    problem: String,
}

impl Unlocated {
    fn located(self, file: &str) -> DiagramError {
        let file = file.to_string();
        match self.line {
            0 => DiagramError::Source {
                file,
                problem: self.problem,
            },
            line => DiagramError::Line {
                file,
                line,
                problem: self.problem,
            },
        }
    }
}

fn at(line: usize, problem: impl Into<String>) -> Unlocated {
    Unlocated {
        line,
        problem: problem.into(),
    }
}

/// A parsed source.
#[derive(Debug)]
struct Diagram {
    width: f64,
    height: f64,
    title: String,
    /// Each line under the drawing, with the line of the source that says it.
    caption: Vec<(usize, String)>,
    boxes: Vec<Rect>,
    paths: Vec<PathItem>,
    texts: Vec<TextItem>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Point {
    x: f64,
    y: f64,
}

#[derive(Debug)]
struct Rect {
    line: usize,
    id: String,
    x: f64,
    y: f64,
    w: f64,
    h: f64,
    label: Vec<String>,
    fill: &'static str,
    dashed: bool,
    round: bool,
    top: bool,
    bold: bool,
    size: f64,
}

impl Rect {
    fn centre(&self) -> Point {
        Point {
            x: self.x + self.w / 2.0,
            y: self.y + self.h / 2.0,
        }
    }

    /// Where the line from the centre towards `to` leaves the box.
    fn border_towards(&self, to: Point) -> Point {
        let c = self.centre();
        let (dx, dy) = (to.x - c.x, to.y - c.y);
        let tx = if dx == 0.0 {
            f64::INFINITY
        } else {
            self.w / 2.0 / dx.abs()
        };
        let ty = if dy == 0.0 {
            f64::INFINITY
        } else {
            self.h / 2.0 / dy.abs()
        };
        let t = tx.min(ty).min(1.0);
        Point {
            x: c.x + dx * t,
            y: c.y + dy * t,
        }
    }

    /// A point on one side, at `fraction` along it (from the left or the top).
    fn side(&self, side: Side, fraction: f64) -> Point {
        match side {
            Side::North => Point {
                x: self.x + self.w * fraction,
                y: self.y,
            },
            Side::South => Point {
                x: self.x + self.w * fraction,
                y: self.y + self.h,
            },
            Side::West => Point {
                x: self.x,
                y: self.y + self.h * fraction,
            },
            Side::East => Point {
                x: self.x + self.w,
                y: self.y + self.h * fraction,
            },
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Side {
    North,
    South,
    East,
    West,
}

/// One end of a line, as written: resolved once every box is known.
#[derive(Debug, Clone, PartialEq)]
enum End {
    Point(Point),
    Box {
        id: String,
        side: Option<(Side, f64)>,
    },
}

#[derive(Debug)]
struct PathItem {
    line: usize,
    from: End,
    to: End,
    via: Vec<Point>,
    label: Vec<String>,
    label_at: Option<Point>,
    swap: bool,
    dashed: bool,
    head_end: bool,
    head_start: bool,
    colour: &'static str,
    size: f64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Anchor {
    Start,
    Middle,
    End,
}

impl Anchor {
    fn svg(self) -> &'static str {
        match self {
            Anchor::Start => "start",
            Anchor::Middle => "middle",
            Anchor::End => "end",
        }
    }

    /// The left edge of a text this wide, anchored at `x`.
    fn left(self, x: f64, width: f64) -> f64 {
        match self {
            Anchor::Start => x,
            Anchor::Middle => x - width / 2.0,
            Anchor::End => x - width,
        }
    }
}

#[derive(Debug)]
struct TextItem {
    line: usize,
    at: Point,
    lines: Vec<String>,
    anchor: Anchor,
    bold: bool,
    italic: bool,
    size: f64,
    colour: &'static str,
}

/// A word or a quoted string of a line.
#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Quoted(String),
}

/// Splits a line into words and `"quoted strings"` (with `\"`, `\\` and `\n`).
fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '"' {
            chars.next();
            let mut s = String::new();
            loop {
                match chars.next() {
                    None => return Err("a quoted string has no closing `\"`".into()),
                    Some('"') => break,
                    Some('\\') => match chars.next() {
                        Some('n') => s.push('\n'),
                        Some(c @ ('"' | '\\')) => s.push(c),
                        other => {
                            return Err(format!(
                                "unknown escape `\\{}` (use \\n, \\\" or \\\\)",
                                other.map(String::from).unwrap_or_default()
                            ));
                        }
                    },
                    Some(c) => s.push(c),
                }
            }
            tokens.push(Token::Quoted(s));
        } else {
            let mut word = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() || c == '"' {
                    break;
                }
                word.push(c);
                chars.next();
            }
            tokens.push(Token::Word(word));
        }
    }
    Ok(tokens)
}

fn number(word: &str, what: &str) -> Result<f64, String> {
    match word.parse::<f64>() {
        Ok(n) if n.is_finite() => Ok(n),
        _ => Err(format!("{what} must be a number, not `{word}`")),
    }
}

/// `X,Y`
fn point(word: &str) -> Result<Point, String> {
    let (x, y) = word
        .split_once(',')
        .ok_or_else(|| format!("`{word}` is not a point: write it X,Y"))?;
    Ok(Point {
        x: number(x, "a point's X")?,
        y: number(y, "a point's Y")?,
    })
}

/// `ID`, `ID.SIDE`, `ID.SIDE@F` or `X,Y`.
fn end(word: &str) -> Result<End, String> {
    if word.starts_with(|c: char| c.is_ascii_digit() || c == '-') {
        return point(word).map(End::Point);
    }
    let Some((id, side)) = word.split_once('.') else {
        return Ok(End::Box {
            id: word.to_string(),
            side: None,
        });
    };
    let (side, fraction) = match side.split_once('@') {
        Some((side, f)) => (side, number(f, "the fraction after `@`")?),
        None => (side, 0.5),
    };
    if !(0.0..=1.0).contains(&fraction) {
        return Err(format!("`{word}`: the fraction after `@` lies from 0 to 1"));
    }
    let side = match side {
        "n" => Side::North,
        "s" => Side::South,
        "e" => Side::East,
        "w" => Side::West,
        other => return Err(format!("`{other}` is not a side: use n, s, e or w")),
    };
    Ok(End::Box {
        id: id.to_string(),
        side: Some((side, fraction)),
    })
}

fn fill(word: &str) -> Option<&'static str> {
    Some(match word {
        "white" => "#ffffff",
        "grey" => "#eef1f4",
        "blue" => "#dbeafe",
        "green" => "#dcfce7",
        "yellow" => "#fef3c7",
        "red" => "#fee2e2",
        "purple" => "#ede9fe",
        _ => return None,
    })
}

/// Ink colours: all dark enough to read on the light card.
fn colour(word: &str) -> Option<&'static str> {
    Some(match word {
        "red" => "#b91c1c",
        "blue" => "#1d4ed8",
        "green" => "#15803d",
        "grey" => "#57606a",
        _ => return None,
    })
}

fn lines_of(text: &str) -> Vec<String> {
    text.split('\n').map(str::to_string).collect()
}

fn parse(source: &str) -> Result<Diagram, Unlocated> {
    let mut diagram = Diagram {
        width: 0.0,
        height: 0.0,
        title: String::new(),
        caption: Vec::new(),
        boxes: Vec::new(),
        paths: Vec::new(),
        texts: Vec::new(),
    };
    let mut sized = false;
    for (i, text) in source.lines().enumerate() {
        let line = i + 1;
        let trimmed = text.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let tokens = tokenize(trimmed).map_err(|p| at(line, p))?;
        let Some(Token::Word(keyword)) = tokens.first() else {
            return Err(at(
                line,
                "a line starts with a keyword: size, title, caption, box, arrow, line or text",
            ));
        };
        let args = &tokens[1..];
        let result = match keyword.as_str() {
            "size" => parse_size(args).map(|(w, h)| {
                diagram.width = w;
                diagram.height = h;
                sized = true;
            }),
            "title" => one_string(args, "title").map(|t| diagram.title = t),
            "caption" => one_string(args, "caption").map(|t| {
                diagram
                    .caption
                    .extend(lines_of(&t).into_iter().map(|l| (line, l)))
            }),
            "box" => parse_box(line, args).and_then(|b| {
                if diagram.boxes.iter().any(|o| o.id == b.id) {
                    Err(format!("a box named `{}` exists already", b.id))
                } else {
                    diagram.boxes.push(b);
                    Ok(())
                }
            }),
            "arrow" => parse_path(line, args, true).map(|p| diagram.paths.push(p)),
            "line" => parse_path(line, args, false).map(|p| diagram.paths.push(p)),
            "text" => parse_text(line, args).map(|t| diagram.texts.push(t)),
            other => Err(format!(
                "unknown keyword `{other}`: use size, title, caption, box, arrow, line or text"
            )),
        };
        result.map_err(|p| at(line, p))?;
    }
    if !sized {
        return Err(at(0, "no `size W H` line: the drawing needs a size"));
    }
    if diagram.title.trim().is_empty() {
        return Err(at(
            0,
            "no `title \"...\"` line: the picture needs a title for screen readers",
        ));
    }
    Ok(diagram)
}

fn words(args: &[Token]) -> impl Iterator<Item = Result<&str, String>> {
    args.iter().map(|t| match t {
        Token::Word(w) => Ok(w.as_str()),
        Token::Quoted(q) => Err(format!("unexpected string \"{q}\"")),
    })
}

fn parse_size(args: &[Token]) -> Result<(f64, f64), String> {
    let words: Vec<&str> = words(args).collect::<Result<_, _>>()?;
    let [w, h] = words[..] else {
        return Err("write `size WIDTH HEIGHT`".into());
    };
    let (w, h) = (number(w, "the width")?, number(h, "the height")?);
    if !(50.0..=2000.0).contains(&w) || !(30.0..=2000.0).contains(&h) {
        return Err("the size lies from 50x30 to 2000x2000".into());
    }
    Ok((w, h))
}

fn one_string(args: &[Token], what: &str) -> Result<String, String> {
    match args {
        [Token::Quoted(s)] => Ok(s.clone()),
        _ => Err(format!("write `{what} \"...\"`: one quoted string")),
    }
}

fn parse_box(line: usize, args: &[Token]) -> Result<Rect, String> {
    let usage = "write `box ID X Y W H \"LABEL\" [STYLE...]`";
    let (Some(Token::Word(id)), Some(numbers), Some(Token::Quoted(label))) =
        (args.first(), args.get(1..5), args.get(5))
    else {
        return Err(usage.into());
    };
    if id.contains(['.', ',']) || id.starts_with(|c: char| c.is_ascii_digit() || c == '-') {
        return Err(format!(
            "`{id}` cannot name a box: a name starts with a letter and has no `.` or `,`"
        ));
    }
    let numbers: Vec<&str> = words(numbers)
        .collect::<Result<_, _>>()
        .map_err(|_| usage)?;
    let mut rect = Rect {
        line,
        id: id.clone(),
        x: number(numbers[0], "X")?,
        y: number(numbers[1], "Y")?,
        w: number(numbers[2], "the width")?,
        h: number(numbers[3], "the height")?,
        label: lines_of(label),
        fill: "#ffffff",
        dashed: false,
        round: false,
        top: false,
        bold: false,
        size: FONT,
    };
    if rect.w <= 0.0 || rect.h <= 0.0 {
        return Err("a box's width and height must be above 0".into());
    }
    for word in words(&args[6..]) {
        match word? {
            "dashed" => rect.dashed = true,
            "round" => rect.round = true,
            "top" => rect.top = true,
            "bold" => rect.bold = true,
            "small" => rect.size = SMALL_FONT,
            other => {
                rect.fill = fill(other).ok_or_else(|| {
                    format!(
                        "unknown box style `{other}`: use white, grey, blue, green, yellow, \
                         red, purple, dashed, round, top, bold or small"
                    )
                })?
            }
        }
    }
    Ok(rect)
}

fn parse_path(line: usize, args: &[Token], arrow: bool) -> Result<PathItem, String> {
    let keyword = if arrow { "arrow" } else { "line" };
    let (Some(Token::Word(from)), Some(Token::Word(to))) = (args.first(), args.get(1)) else {
        return Err(format!("write `{keyword} FROM TO [OPTION...]`"));
    };
    let mut path = PathItem {
        line,
        from: end(from)?,
        to: end(to)?,
        via: Vec::new(),
        label: Vec::new(),
        label_at: None,
        swap: false,
        dashed: false,
        head_end: arrow,
        head_start: false,
        colour: INK,
        size: FONT,
    };
    let mut rest = args[2..].iter();
    while let Some(token) = rest.next() {
        let word = match token {
            Token::Quoted(label) if path.label.is_empty() => {
                path.label = lines_of(label);
                continue;
            }
            Token::Quoted(_) => return Err("only one label per line or arrow".into()),
            Token::Word(word) => word.as_str(),
        };
        let mut next_point = |what: &str| match rest.next() {
            Some(Token::Word(w)) => point(w),
            _ => Err(format!("`{what}` is followed by a point X,Y")),
        };
        match word {
            "via" => path.via.push(next_point("via")?),
            "at" => path.label_at = Some(next_point("at")?),
            "dashed" => path.dashed = true,
            "swap" => path.swap = true,
            "small" => path.size = SMALL_FONT,
            "both" if arrow => path.head_start = true,
            other => {
                path.colour = colour(other).ok_or_else(|| {
                    format!(
                        "unknown option `{other}`: use \"LABEL\", via X,Y, at X,Y, dashed, \
                         swap, small{}, red, blue, green or grey",
                        if arrow { ", both" } else { "" }
                    )
                })?
            }
        }
    }
    Ok(path)
}

fn parse_text(line: usize, args: &[Token]) -> Result<TextItem, String> {
    let usage = "write `text X Y \"TEXT\" [OPTION...]`";
    let (Some(Token::Word(x)), Some(Token::Word(y)), Some(Token::Quoted(text))) =
        (args.first(), args.get(1), args.get(2))
    else {
        return Err(usage.into());
    };
    let mut item = TextItem {
        line,
        at: Point {
            x: number(x, "X")?,
            y: number(y, "Y")?,
        },
        lines: lines_of(text),
        anchor: Anchor::Start,
        bold: false,
        italic: false,
        size: FONT,
        colour: INK,
    };
    for word in words(&args[3..]) {
        match word? {
            "left" => item.anchor = Anchor::Start,
            "center" => item.anchor = Anchor::Middle,
            "right" => item.anchor = Anchor::End,
            "bold" => item.bold = true,
            "italic" => item.italic = true,
            "small" => item.size = SMALL_FONT,
            other => {
                item.colour = colour(other).ok_or_else(|| {
                    format!(
                        "unknown option `{other}`: use left, center, right, bold, italic, \
                         small, red, blue, green or grey"
                    )
                })?
            }
        }
    }
    Ok(item)
}

/// The estimated width of the widest line.
fn text_width(lines: &[String], size: f64, bold: bool) -> f64 {
    let per_char = if bold { BOLD_CHAR_WIDTH } else { CHAR_WIDTH };
    lines
        .iter()
        .map(|l| l.chars().count() as f64 * size * per_char)
        .fold(0.0, f64::max)
}

/// The baseline of the first of `n` lines centred on `y`.
fn first_baseline_centred(y: f64, n: usize, size: f64) -> f64 {
    // A line's ink sits about 0.35 em above its baseline's centre.
    y - (n as f64 - 1.0) * size * LEADING / 2.0 + size * 0.35
}

/// A path with its ends resolved to points.
struct Resolved<'a> {
    item: &'a PathItem,
    points: Vec<Point>,
}

/// Where a path's label goes: its anchor point, and how it is anchored.
struct LabelPlace {
    at: Point,
    anchor: Anchor,
    /// The baseline of the first line.
    baseline: f64,
}

impl Diagram {
    fn find(&self, id: &str, line: usize) -> Result<&Rect, Unlocated> {
        self.boxes.iter().find(|b| b.id == id).ok_or_else(|| {
            let known: Vec<&str> = self.boxes.iter().map(|b| b.id.as_str()).collect();
            let known = if known.is_empty() {
                "there are none yet".to_string()
            } else {
                format!("the boxes are: {}", known.join(", "))
            };
            at(line, format!("no box named `{id}` ({known})"))
        })
    }

    /// The point an end stands for, seen from `towards` (for a box without a side).
    fn end_point(&self, end: &End, towards: Point, line: usize) -> Result<Point, Unlocated> {
        Ok(match end {
            End::Point(p) => *p,
            End::Box { id, side: None } => self.find(id, line)?.border_towards(towards),
            End::Box {
                id,
                side: Some((side, f)),
            } => self.find(id, line)?.side(*side, *f),
        })
    }

    /// The point an end aims at before clipping: a box's centre, or the point itself.
    fn aim(&self, end: &End, line: usize) -> Result<Point, Unlocated> {
        Ok(match end {
            End::Point(p) => *p,
            End::Box { id, side: None } => self.find(id, line)?.centre(),
            End::Box {
                id,
                side: Some((side, f)),
            } => self.find(id, line)?.side(*side, *f),
        })
    }

    fn resolve<'a>(&self, item: &'a PathItem) -> Result<Resolved<'a>, Unlocated> {
        // Each end is clipped towards its neighbour: the first or last bend, or the
        // other end.
        let from_aim = self.aim(&item.from, item.line)?;
        let to_aim = self.aim(&item.to, item.line)?;
        let first_aim = item.via.first().copied().unwrap_or(to_aim);
        let last_aim = item.via.last().copied().unwrap_or(from_aim);
        let mut points = vec![self.end_point(&item.from, first_aim, item.line)?];
        points.extend(&item.via);
        points.push(self.end_point(&item.to, last_aim, item.line)?);
        if points.windows(2).any(|w| w[0] == w[1]) {
            return Err(at(
                item.line,
                "two points of this line are the same: it has no direction",
            ));
        }
        Ok(Resolved { item, points })
    }

    fn resolved(&self) -> Result<Vec<Resolved<'_>>, Unlocated> {
        self.paths.iter().map(|p| self.resolve(p)).collect()
    }

    /// The full height: the drawing and the caption under it.
    fn full_height(&self) -> f64 {
        if self.caption.is_empty() {
            self.height
        } else {
            self.height + 8.0 + self.caption.len() as f64 * CAPTION_FONT * LEADING
        }
    }

    /// Refuses what would be cut off or spill out of its box.
    fn check_fit(&self) -> Result<(), Unlocated> {
        let inside = |left: f64, top: f64, right: f64, bottom: f64| {
            left >= 0.0 && top >= 0.0 && right <= self.width && bottom <= self.height
        };
        for b in &self.boxes {
            if !inside(b.x, b.y, b.x + b.w, b.y + b.h) {
                return Err(at(
                    b.line,
                    format!(
                        "box `{}` reaches outside the drawing ({}x{})",
                        b.id, self.width, self.height
                    ),
                ));
            }
            let width = text_width(&b.label, b.size, b.bold);
            let height = b.label.len() as f64 * b.size * LEADING;
            if width > b.w - 2.0 * PADDING || height > b.h - 4.0 {
                return Err(at(
                    b.line,
                    format!(
                        "the label of box `{}` needs about {}x{} px, and the box has {}x{} \
                         (less {PADDING} px padding each side): widen the box or split the \
                         label with \\n",
                        b.id,
                        num(width + 2.0 * PADDING),
                        num(height + 4.0),
                        num(b.w),
                        num(b.h)
                    ),
                ));
            }
        }
        for t in &self.texts {
            let width = text_width(&t.lines, t.size, t.bold);
            let left = t.anchor.left(t.at.x, width);
            let top = t.at.y - t.size;
            let bottom = t.at.y + (t.lines.len() as f64 - 1.0) * t.size * LEADING + t.size * 0.3;
            if !inside(left, top, left + width, bottom) {
                return Err(at(
                    t.line,
                    "this text reaches outside the drawing (at an estimated 0.6 em a \
                     character): move it, anchor it otherwise, or split it with \\n",
                ));
            }
        }
        for path in self.resolved()? {
            for p in &path.points {
                if !inside(p.x, p.y, p.x, p.y) {
                    return Err(at(path.item.line, "this line reaches outside the drawing"));
                }
            }
            if let Some(place) = label_place(&path) {
                let item = path.item;
                let width = text_width(&item.label, item.size, false);
                let left = place.anchor.left(place.at.x, width);
                let top = place.baseline - item.size;
                let bottom = place.baseline
                    + (item.label.len() as f64 - 1.0) * item.size * LEADING
                    + item.size * 0.3;
                if !inside(left, top, left + width, bottom) {
                    return Err(at(
                        item.line,
                        "this label reaches outside the drawing: `swap` it to the other \
                         side, or place it with `at X,Y`",
                    ));
                }
            }
        }
        for (line, text) in &self.caption {
            if text_width(std::slice::from_ref(text), CAPTION_FONT, false) > self.width - 24.0 {
                return Err(at(
                    *line,
                    "this caption is wider than the drawing: split it with \\n, or in two",
                ));
            }
        }
        Ok(())
    }

    fn to_svg(&self) -> String {
        let paths = self
            .resolved()
            .expect("check_fit resolved every path before");
        let (w, h) = (self.width, self.full_height());
        let mut svg = String::new();
        let _ = writeln!(
            svg,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img">"#,
            w = num(w),
            h = num(h)
        );
        let _ = writeln!(svg, "<title>{}</title>", crate::xml::xml_text(&self.title));
        let _ = writeln!(
            svg,
            r#"<rect x="0.5" y="0.5" width="{}" height="{}" rx="8" fill="{CARD}" stroke="{CARD_BORDER}"/>"#,
            num(w - 1.0),
            num(h - 1.0)
        );
        let _ = writeln!(
            svg,
            r#"<g font-family="{FONT_FAMILY}" font-size="{}" fill="{INK}">"#,
            num(FONT)
        );
        for b in &self.boxes {
            draw_box(&mut svg, b);
        }
        for path in &paths {
            draw_path(&mut svg, path);
        }
        for path in &paths {
            if let Some(place) = label_place(path) {
                let item = path.item;
                label_backing(&mut svg, &item.label, &place, item.size);
                let attrs = format!(
                    r#"text-anchor="{}" fill="{}"{}"#,
                    place.anchor.svg(),
                    item.colour,
                    size_attr(item.size)
                );
                draw_lines(
                    &mut svg,
                    &item.label,
                    place.at.x,
                    place.baseline,
                    item.size,
                    &attrs,
                );
            }
        }
        for t in &self.texts {
            let mut attrs = format!(r#"text-anchor="{}""#, t.anchor.svg());
            if t.colour != INK {
                let _ = write!(attrs, r#" fill="{}""#, t.colour);
            }
            attrs.push_str(&size_attr(t.size));
            if t.bold {
                attrs.push_str(r#" font-weight="bold""#);
            }
            if t.italic {
                attrs.push_str(r#" font-style="italic""#);
            }
            draw_lines(&mut svg, &t.lines, t.at.x, t.at.y, t.size, &attrs);
        }
        let mut baseline = self.height + 4.0 + CAPTION_FONT;
        for (_, line) in &self.caption {
            let _ = writeln!(
                svg,
                r#"<text x="{}" y="{}" text-anchor="middle" font-size="{}" font-style="italic">{}</text>"#,
                num(w / 2.0),
                num(baseline),
                num(CAPTION_FONT),
                crate::xml::xml_text(line)
            );
            baseline += CAPTION_FONT * LEADING;
        }
        svg.push_str("</g>\n</svg>\n");
        svg
    }
}

/// Where a path's label goes: at `at X,Y` if given; otherwise beside the middle of its
/// middle segment, above a level one and right of an upright one (`swap`: the other side).
fn label_place(path: &Resolved<'_>) -> Option<LabelPlace> {
    let item = path.item;
    if item.label.is_empty() {
        return None;
    }
    let n = item.label.len();
    let line_height = item.size * LEADING;
    if let Some(at) = item.label_at {
        return Some(LabelPlace {
            at,
            anchor: Anchor::Middle,
            baseline: first_baseline_centred(at.y, n, item.size),
        });
    }
    let segment = (path.points.len() - 2) / 2;
    let (a, b) = (path.points[segment], path.points[segment + 1]);
    let mid = Point {
        x: (a.x + b.x) / 2.0,
        y: (a.y + b.y) / 2.0,
    };
    let level = (b.x - a.x).abs() >= (b.y - a.y).abs();
    Some(if level {
        // A sloping line rises under half the label's width: keep clear of that too.
        let half_width = text_width(&item.label, item.size, false) / 2.0;
        let rise = ((b.y - a.y) / (b.x - a.x)).abs() * half_width;
        let baseline = if item.swap {
            mid.y + 6.0 + rise + item.size * 0.8
        } else {
            mid.y - 7.0 - rise - (n as f64 - 1.0) * line_height
        };
        LabelPlace {
            at: mid,
            anchor: Anchor::Middle,
            baseline,
        }
    } else {
        let (x, anchor) = if item.swap {
            (mid.x - 7.0, Anchor::End)
        } else {
            (mid.x + 7.0, Anchor::Start)
        };
        LabelPlace {
            at: Point { x, y: mid.y },
            anchor,
            baseline: first_baseline_centred(mid.y, n, item.size),
        }
    })
}

/// A card-coloured band behind each line of a label, so that a line it lies across
/// (a lifeline, a bend of another arrow) does not show between its words. The band is
/// as wide as an average sans-serif line, narrower than the estimate the fit check uses,
/// so it seldom hides more than the label needs.
fn label_backing(svg: &mut String, lines: &[String], place: &LabelPlace, size: f64) {
    for (i, line) in lines.iter().enumerate() {
        if line.is_empty() {
            continue;
        }
        let width = line.chars().count() as f64 * size * 0.52;
        let baseline = place.baseline + i as f64 * size * LEADING;
        let _ = writeln!(
            svg,
            r#"<rect x="{}" y="{}" width="{}" height="{}" fill="{CARD}"/>"#,
            num(place.anchor.left(place.at.x, width) - 2.0),
            num(baseline - size * 0.85),
            num(width + 4.0),
            num(size * 1.1)
        );
    }
}

fn size_attr(size: f64) -> String {
    if size == FONT {
        String::new()
    } else {
        format!(r#" font-size="{}""#, num(size))
    }
}

fn draw_box(svg: &mut String, b: &Rect) {
    let _ = writeln!(
        svg,
        r#"<rect x="{}" y="{}" width="{}" height="{}" rx="{}" fill="{}" stroke="{INK}" stroke-width="1.4"{}/>"#,
        num(b.x),
        num(b.y),
        num(b.w),
        num(b.h),
        if b.round { 12 } else { 3 },
        b.fill,
        if b.dashed {
            r#" stroke-dasharray="6 4""#
        } else {
            ""
        }
    );
    let mut attrs = String::from(r#"text-anchor="middle""#);
    attrs.push_str(&size_attr(b.size));
    if b.bold {
        attrs.push_str(r#" font-weight="bold""#);
    }
    let first = if b.top {
        b.y + 6.0 + b.size
    } else {
        first_baseline_centred(b.y + b.h / 2.0, b.label.len(), b.size)
    };
    draw_lines(svg, &b.label, b.x + b.w / 2.0, first, b.size, &attrs);
}

/// Lines of text, the first on `baseline`, as one `<text>` each (no `<tspan>`
/// arithmetic for the reader of the SVG to redo).
fn draw_lines(svg: &mut String, lines: &[String], x: f64, baseline: f64, size: f64, attrs: &str) {
    for (i, line) in lines.iter().enumerate() {
        if line.is_empty() {
            continue;
        }
        let y = baseline + i as f64 * size * LEADING;
        let _ = writeln!(
            svg,
            r#"<text x="{}" y="{}" {attrs}>{}</text>"#,
            num(x),
            num(y),
            crate::xml::xml_text(line)
        );
    }
}

/// Arrow heads: this long, and half as wide either side.
const HEAD_LENGTH: f64 = 10.0;
const HEAD_HALF_WIDTH: f64 = 4.5;

fn draw_path(svg: &mut String, path: &Resolved<'_>) {
    let item = path.item;
    let mut points = path.points.clone();
    let last = points.len() - 1;
    // The line stops where a head begins, so its end does not poke through the tip.
    let end_head = item.head_end.then(|| head(points[last - 1], points[last]));
    let start_head = item.head_start.then(|| head(points[1], points[0]));
    if let Some((_, base)) = end_head {
        points[last] = base;
    }
    if let Some((_, base)) = start_head {
        points[0] = base;
    }
    let d: Vec<String> = points
        .iter()
        .map(|p| format!("{},{}", num(p.x), num(p.y)))
        .collect();
    let _ = writeln!(
        svg,
        r#"<polyline points="{}" fill="none" stroke="{}" stroke-width="1.6" stroke-linejoin="round"{}/>"#,
        d.join(" "),
        item.colour,
        if item.dashed {
            r#" stroke-dasharray="6 4""#
        } else {
            ""
        }
    );
    for (tip, _) in end_head.into_iter().chain(start_head) {
        let _ = writeln!(
            svg,
            r#"<polygon points="{}" fill="{}"/>"#,
            tip.join(" "),
            item.colour
        );
    }
}

/// The head of an arrow from `from` to `tip`: its three corners, and the middle of its
/// base, where the line should stop.
fn head(from: Point, tip: Point) -> ([String; 3], Point) {
    let (dx, dy) = (tip.x - from.x, tip.y - from.y);
    let length = (dx * dx + dy * dy).sqrt();
    let (ux, uy) = (dx / length, dy / length);
    let base = Point {
        x: tip.x - ux * HEAD_LENGTH,
        y: tip.y - uy * HEAD_LENGTH,
    };
    let corner = |sign: f64| {
        format!(
            "{},{}",
            num(base.x - uy * HEAD_HALF_WIDTH * sign),
            num(base.y + ux * HEAD_HALF_WIDTH * sign)
        )
    };
    (
        [
            format!("{},{}", num(tip.x), num(tip.y)),
            corner(1.0),
            corner(-1.0),
        ],
        base,
    )
}

/// A coordinate, rounded to a tenth of a pixel: the same every time, and short.
fn num(v: f64) -> String {
    let tenths = (v * 10.0).round() as i64;
    if tenths % 10 == 0 {
        format!("{}", tenths / 10)
    } else {
        let sign = if tenths < 0 { "-" } else { "" };
        let t = tenths.abs();
        format!("{sign}{}.{}", t / 10, t % 10)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: &str = r#"
# a comment
size 300 120
title "Two boxes & an arrow"
caption "The caption"
box a 10 10 100 48 "left" blue
box b 190 10 100 48 "right\nside" dashed round
arrow a b "calls"
line a.s b.s via 60,100 via 240,100 dashed grey
text 150 90 "<here>" center small
"#;

    fn error(source: &str) -> String {
        render("d.txt", source).unwrap_err().to_string()
    }

    #[test]
    fn a_source_renders_to_the_same_bytes_every_time() {
        let svg = render("d.txt", SMALL).unwrap();
        assert_eq!(svg, render("d.txt", SMALL).unwrap());
        assert!(
            svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""),
            "{svg}"
        );
        assert!(
            svg.contains(r#"role="img""#)
                && svg.contains("<title>Two boxes &amp; an arrow</title>")
        );
        assert!(svg.contains("&lt;here&gt;"), "text is escaped: {svg}");
        assert!(svg.contains(">right</text>") && svg.contains(">side</text>"));
        assert!(svg.contains(">The caption</text>"));
        // Nothing from elsewhere: no links, no images, no fonts to fetch.
        assert!(!svg.contains("href") && !svg.contains("url(") && !svg.contains("@import"));
    }

    #[test]
    fn an_arrow_between_boxes_is_clipped_at_their_borders() {
        let svg = render("d.txt", SMALL).unwrap();
        // a's right border is x=110, b's left x=190, both centred on y=34; the line
        // stops at the head's base, 10 px before b.
        assert!(svg.contains(r#"<polyline points="110,34 180,34""#), "{svg}");
        assert!(
            svg.contains(r#"<polygon points="190,34 180,38.5 180,29.5""#),
            "{svg}"
        );
        // The bent line starts and ends at the middle of each box's bottom.
        assert!(
            svg.contains(r#"points="60,58 60,100 240,100 240,58""#),
            "{svg}"
        );
    }

    #[test]
    fn errors_name_the_file_the_line_and_the_problem() {
        let m = error("size 100 100\ntitle \"t\"\nbox a 0 0 50 50 \"x\" pink\n");
        assert!(m.starts_with("d.txt:3: unknown box style `pink`"), "{m}");
        let m = error("size 100 100\ntitle \"t\"\narrow a b\n");
        assert!(m.starts_with("d.txt:3: no box named `a`"), "{m}");
        let m = error("size 100 100\ntitle \"t\n");
        assert!(
            m.starts_with("d.txt:2: a quoted string has no closing"),
            "{m}"
        );
        let m = error("size 100\n");
        assert!(m.starts_with("d.txt:1: write `size WIDTH HEIGHT`"), "{m}");
        let m = error("circle 1 2 3\n");
        assert!(m.starts_with("d.txt:1: unknown keyword `circle`"), "{m}");
        let m = error("size 100 100\n");
        assert!(m.starts_with("d.txt: no `title"), "{m}");
        let m = error("title \"t\"\n");
        assert!(m.starts_with("d.txt: no `size"), "{m}");
        let m = error("size 100 100\ntitle \"t\"\nbox a 0 0 50 50 \"x\"\nbox a 50 0 50 50 \"y\"\n");
        assert!(
            m.starts_with("d.txt:4: a box named `a` exists already"),
            "{m}"
        );
        let m = error("size 100 100\ntitle \"t\"\nbox a 0 0 50 50 \"x\"\narrow a.q 90,90\n");
        assert!(m.starts_with("d.txt:4: `q` is not a side"), "{m}");
    }

    #[test]
    fn what_would_be_cut_off_or_spill_is_refused() {
        let m = error("size 200 100\ntitle \"t\"\nbox a 0 0 60 40 \"a label far too long\"\n");
        assert!(
            m.starts_with("d.txt:3: the label of box `a` needs about"),
            "{m}"
        );
        let m = error("size 200 100\ntitle \"t\"\nbox a 150 0 60 40 \"a\"\n");
        assert!(m.starts_with("d.txt:3: box `a` reaches outside"), "{m}");
        let m = error("size 200 100\ntitle \"t\"\ntext 190 50 \"too far right\"\n");
        assert!(m.starts_with("d.txt:3: this text reaches outside"), "{m}");
        let m = error("size 200 100\ntitle \"t\"\narrow 10,5 190,5 \"above the top\"\n");
        assert!(m.starts_with("d.txt:3: this label reaches outside"), "{m}");
        // Swapped below the line, the same label fits.
        render(
            "d.txt",
            "size 200 100\ntitle \"t\"\narrow 10,5 190,5 \"above the top\" swap\n",
        )
        .unwrap();
    }

    #[test]
    fn numbers_are_written_short_and_the_same_way() {
        assert_eq!(num(12.0), "12");
        assert_eq!(num(12.04), "12");
        assert_eq!(num(12.25), "12.3");
        assert_eq!(num(-0.04), "0");
        assert_eq!(num(-3.5), "-3.5");
        assert_eq!(num(-0.5), "-0.5");
    }

    /// Every picture of the book renders from its source as it is on disk: the same
    /// check `docs-check` makes, here for `cargo test -p xtask diagrams`.
    #[test]
    fn the_books_diagrams_render_and_are_up_to_date() {
        let dir = crate::workspace::root().join("docs/src").join(DIAGRAMS_DIR);
        let sources = sources(&dir).unwrap();
        assert!(
            sources.len() >= 8,
            "{} sources in {}",
            sources.len(),
            dir.display()
        );
        for source in sources {
            let text = fs::read_to_string(&source).unwrap();
            let svg =
                render(&source.display().to_string(), &text).unwrap_or_else(|e| panic!("{e}"));
            let on_disk = fs::read_to_string(source.with_extension("svg")).unwrap_or_default();
            assert!(
                svg == on_disk,
                "{} is stale: run `cargo xtask diagrams`",
                source.display()
            );
        }
    }
}
