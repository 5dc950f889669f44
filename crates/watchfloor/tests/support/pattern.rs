//! The regular-expression subset that JSON Schema `pattern`s in Suricata's
//! schema need (see schema.rs): anchors, `.`, classes, `\d\w\s`, quantifiers.
//! Groups and alternation are refused, not mis-matched.

/// The regex subset JSON Schema `pattern`s in Suricata's schema need, with
/// ECMA-262 search semantics (unanchored unless `^`/`$` are written).
#[derive(Debug, Clone)]
pub struct Regex {
    toks: Vec<Tok>,
}

#[derive(Debug, Clone)]
enum Tok {
    Start,
    End,
    Atom { atom: Atom, min: usize, max: usize },
}

#[derive(Debug, Clone)]
enum Atom {
    Any,
    Lit(char),
    Class { neg: bool, items: Vec<Item> },
}

#[derive(Debug, Clone)]
enum Item {
    Range(char, char),
    Shorthand(char),
}

fn shorthand(kind: char, c: char) -> bool {
    match kind {
        'd' => c.is_ascii_digit(),
        'D' => !c.is_ascii_digit(),
        'w' => c.is_ascii_alphanumeric() || c == '_',
        'W' => !(c.is_ascii_alphanumeric() || c == '_'),
        's' => c.is_whitespace(),
        'S' => !c.is_whitespace(),
        _ => false,
    }
}

/// The character an escape `\c` stands for, or `None` for a shorthand class.
fn escaped(c: char) -> Result<Option<char>, String> {
    Ok(Some(match c {
        'd' | 'D' | 'w' | 'W' | 's' | 'S' => return Ok(None),
        'n' => '\n',
        't' => '\t',
        'r' => '\r',
        c if !c.is_ascii_alphanumeric() => c,
        c => return Err(format!("unsupported escape \\{c}")),
    }))
}

impl Regex {
    pub fn new(p: &str) -> Result<Regex, String> {
        let cs: Vec<char> = p.chars().collect();
        let mut toks = Vec::new();
        let mut i = 0;
        while i < cs.len() {
            let atom = match cs[i] {
                '^' => {
                    toks.push(Tok::Start);
                    i += 1;
                    continue;
                }
                '$' => {
                    toks.push(Tok::End);
                    i += 1;
                    continue;
                }
                '.' => Atom::Any,
                '\\' => {
                    i += 1;
                    let c = *cs.get(i).ok_or("pattern ends in a backslash")?;
                    match escaped(c)? {
                        Some(l) => Atom::Lit(l),
                        None => Atom::Class {
                            neg: false,
                            items: vec![Item::Shorthand(c)],
                        },
                    }
                }
                '[' => {
                    let (atom, next) = parse_class(&cs, i + 1)?;
                    i = next - 1;
                    atom
                }
                c @ ('(' | ')' | '|' | '*' | '+' | '?' | '{' | '}' | ']') => {
                    return Err(format!("unsupported regex syntax {c:?} in /{p}/"))
                }
                c => Atom::Lit(c),
            };
            i += 1;
            let (min, max, next) = parse_quantifier(&cs, i)?;
            i = next;
            toks.push(Tok::Atom { atom, min, max });
        }
        Ok(Regex { toks })
    }

    pub fn is_match(&self, text: &str) -> bool {
        let cs: Vec<char> = text.chars().collect();
        (0..=cs.len()).any(|start| match_at(&self.toks, &cs, start))
    }
}

fn parse_class(cs: &[char], mut i: usize) -> Result<(Atom, usize), String> {
    let neg = cs.get(i) == Some(&'^');
    if neg {
        i += 1;
    }
    let mut items = Vec::new();
    let mut first = true;
    loop {
        let c = *cs.get(i).ok_or("unterminated character class")?;
        if c == ']' && !first {
            return Ok((Atom::Class { neg, items }, i + 1));
        }
        first = false;
        let lo = if c == '\\' {
            i += 1;
            let e = *cs.get(i).ok_or("unterminated character class")?;
            match escaped(e)? {
                Some(l) => l,
                None => {
                    items.push(Item::Shorthand(e));
                    i += 1;
                    continue;
                }
            }
        } else {
            c
        };
        i += 1;
        if cs.get(i) == Some(&'-') && cs.get(i + 1).is_some_and(|&n| n != ']') {
            let mut hi = cs[i + 1];
            i += 2;
            if hi == '\\' {
                hi = escaped(*cs.get(i).ok_or("unterminated character class")?)?
                    .ok_or("a class shorthand cannot end a range")?;
                i += 1;
            }
            if hi < lo {
                return Err(format!("bad range {lo}-{hi}"));
            }
            items.push(Item::Range(lo, hi));
        } else {
            items.push(Item::Range(lo, lo));
        }
    }
}

fn parse_quantifier(cs: &[char], i: usize) -> Result<(usize, usize, usize), String> {
    let (min, max, mut next) = match cs.get(i) {
        Some('*') => (0, usize::MAX, i + 1),
        Some('+') => (1, usize::MAX, i + 1),
        Some('?') => (0, 1, i + 1),
        Some('{') => {
            let close = cs[i..]
                .iter()
                .position(|&c| c == '}')
                .ok_or("unterminated {n,m}")?
                + i;
            let body: String = cs[i + 1..close].iter().collect();
            let num = |s: &str| {
                s.trim()
                    .parse::<usize>()
                    .map_err(|_| format!("bad {{{body}}}"))
            };
            let (min, max) = match body.split_once(',') {
                None => (num(&body)?, num(&body)?),
                Some((a, "")) => (num(a)?, usize::MAX),
                Some((a, b)) => (num(a)?, num(b)?),
            };
            (min, max, close + 1)
        }
        _ => return Ok((1, 1, i)),
    };
    // A lazy quantifier matches the same strings when only a yes/no is asked.
    if cs.get(next) == Some(&'?') {
        next += 1;
    }
    Ok((min, max, next))
}

fn atom_matches(a: &Atom, c: char) -> bool {
    match a {
        Atom::Any => c != '\n',
        Atom::Lit(l) => *l == c,
        Atom::Class { neg, items } => {
            let hit = items.iter().any(|it| match it {
                Item::Range(lo, hi) => (*lo..=*hi).contains(&c),
                Item::Shorthand(k) => shorthand(*k, c),
            });
            hit != *neg
        }
    }
}

fn match_at(toks: &[Tok], cs: &[char], pos: usize) -> bool {
    let Some((tok, rest)) = toks.split_first() else {
        return true;
    };
    match tok {
        Tok::Start => pos == 0 && match_at(rest, cs, pos),
        Tok::End => pos == cs.len() && match_at(rest, cs, pos),
        Tok::Atom { atom, min, max } => {
            let mut n = 0;
            while n < *max && pos + n < cs.len() && atom_matches(atom, cs[pos + n]) {
                n += 1;
            }
            (*min..=n).rev().any(|k| match_at(rest, cs, pos + k))
        }
    }
}
