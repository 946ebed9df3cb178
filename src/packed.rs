//! Lists of strings kept front-coded, for what a render keeps of every file and object of the
//! fleet until its end: the writer's record of what it wrote, and each cluster's cache record.
//!
//! An output path shares most of its bytes with the path before it in order
//! (`prod/dc1/c1/app/` and the kind and name of the object), and an object's identity with the
//! one before it (`apps/Deployment/app/`). A render keeps them for every file and object of the
//! fleet until its end: as `String`s they would be most of what grows with the fleet;
//! front-coded, they take the bytes that differ.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// A list of strings, each with a number, in the order they were pushed: each string is kept
/// as the length of the prefix it shares with the one before and the rest of it. Read it in
/// order with a [`Cursor`]; there is no access by index.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Packed {
    /// The rest of each string, one after another.
    text: String,
    /// For each string: the length of the shared prefix, of the rest, and its number, as
    /// LEB128 varints.
    meta: Vec<u8>,
    len: usize,
}

impl Packed {
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Reads the list from its first string.
    pub(crate) fn cursor(&self) -> Cursor<'_> {
        Cursor {
            packed: self,
            text_at: 0,
            meta_at: 0,
            index: 0,
            current: String::new(),
        }
    }

    /// Calls `f` with each string and its number, in order.
    pub(crate) fn for_each(&self, mut f: impl FnMut(&str, u64)) {
        let mut cursor = self.cursor();
        while let Some((s, n)) = cursor.next() {
            f(s, n);
        }
    }

    /// The strings, in order.
    pub(crate) fn strings(&self) -> Vec<String> {
        let mut out = Vec::with_capacity(self.len);
        self.for_each(|s, _| out.push(s.to_string()));
        out
    }
}

/// Builds a [`Packed`].
#[derive(Default)]
pub(crate) struct Packer {
    packed: Packed,
    last: String,
}

impl Packer {
    pub(crate) fn push(&mut self, s: &str, number: u64) {
        let mut shared = self
            .last
            .bytes()
            .zip(s.bytes())
            .take_while(|(a, b)| a == b)
            .count();
        // The rest starts on a character: a cursor then joins strings, not bytes.
        while !s.is_char_boundary(shared) {
            shared -= 1;
        }
        let rest = &s[shared..];
        let p = &mut self.packed;
        varint(&mut p.meta, shared as u64);
        varint(&mut p.meta, rest.len() as u64);
        varint(&mut p.meta, number);
        p.text.push_str(rest);
        p.len += 1;
        self.last.clear();
        self.last.push_str(s);
    }

    /// The list, in no more memory than it needs.
    pub(crate) fn finish(self) -> Packed {
        let mut packed = self.packed;
        packed.text.shrink_to_fit();
        packed.meta.shrink_to_fit();
        packed
    }
}

impl<'a> FromIterator<(&'a str, u64)> for Packed {
    fn from_iter<I: IntoIterator<Item = (&'a str, u64)>>(iter: I) -> Packed {
        let mut packer = Packer::default();
        for (s, n) in iter {
            packer.push(s, n);
        }
        packer.finish()
    }
}

fn varint(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn read_varint(bytes: &[u8], at: &mut usize) -> Option<u64> {
    let mut n = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *bytes.get(*at)?;
        *at += 1;
        n |= u64::from(b & 0x7f) << shift;
        if b < 0x80 {
            return Some(n);
        }
    }
    None
}

/// Reads a [`Packed`] in order. Each string is put together in the cursor's own buffer, so it
/// lives until the next call.
pub(crate) struct Cursor<'a> {
    packed: &'a Packed,
    text_at: usize,
    meta_at: usize,
    /// The index of the next string.
    index: usize,
    current: String,
}

impl Cursor<'_> {
    /// The next string and its number.
    #[allow(clippy::should_implement_trait)] // Lends from its buffer: not an `Iterator`.
    pub(crate) fn next(&mut self) -> Option<(&str, u64)> {
        let meta = &self.packed.meta;
        let shared = usize::try_from(read_varint(meta, &mut self.meta_at)?).ok()?;
        let rest = usize::try_from(read_varint(meta, &mut self.meta_at)?).ok()?;
        let number = read_varint(meta, &mut self.meta_at)?;
        let end = self.text_at.checked_add(rest)?;
        let part = self.packed.text.get(self.text_at..end)?;
        if !self.current.is_char_boundary(shared) {
            return None;
        }
        self.text_at = end;
        self.index += 1;
        self.current.truncate(shared);
        self.current.push_str(part);
        Some((&self.current, number))
    }
}

/// Reads several [`Packed`] lists, each sorted, as one sorted list: each string with its
/// number, the list it is in and its index there. Equal strings come in the order of their
/// lists. Lists whose strings follow one another without overlap, as the parts of a render
/// mostly do, cost no more than reading them.
pub(crate) struct Merge<'a> {
    cursors: Vec<Cursor<'a>>,
    /// The lists not yet begun, by their first string, the last first.
    waiting: Vec<(String, usize)>,
    /// The next string of each list begun: the string, the list, its number and index.
    heads: BinaryHeap<Reverse<(String, usize, u64, usize)>>,
    current: String,
    /// Buffers given back, for the next strings.
    spare: Vec<String>,
}

impl<'a> Merge<'a> {
    pub(crate) fn new(lists: impl IntoIterator<Item = &'a Packed>) -> Merge<'a> {
        let cursors: Vec<Cursor<'a>> = lists.into_iter().map(Packed::cursor).collect();
        // Each list's first string is read by a cursor of its own: the list's cursor starts
        // when the list is begun.
        let mut waiting: Vec<(String, usize)> = cursors
            .iter()
            .enumerate()
            .filter_map(|(i, c)| {
                let mut first = c.packed.cursor();
                first.next().map(|(s, _)| (s.to_string(), i))
            })
            .collect();
        waiting.sort_unstable_by(|a, b| b.cmp(a));
        Merge {
            cursors,
            waiting,
            heads: BinaryHeap::new(),
            current: String::new(),
            spare: Vec::new(),
        }
    }

    /// Puts the next string of list `list` among the heads.
    fn advance(&mut self, list: usize) {
        let Some(cursor) = self.cursors.get_mut(list) else {
            return;
        };
        let index = cursor.index;
        if let Some((s, n)) = cursor.next() {
            let mut buf = self.spare.pop().unwrap_or_default();
            buf.clear();
            buf.push_str(s);
            self.heads.push(Reverse((buf, list, n, index)));
        }
    }

    /// The next string: the string, its number, its list and its index in the list.
    #[allow(clippy::should_implement_trait)] // Lends from its buffer: not an `Iterator`.
    pub(crate) fn next(&mut self) -> Option<(&str, u64, usize, usize)> {
        // Begin every list whose first string may come before the smallest head.
        while let Some((first, list)) = self.waiting.last() {
            let begin = match self.heads.peek() {
                None => true,
                Some(Reverse((head, other, ..))) => (first, list) <= (head, other),
            };
            if !begin {
                break;
            }
            let list = *list;
            if let Some((first, _)) = self.waiting.pop() {
                self.spare.push(first);
            }
            self.advance(list);
        }
        let Reverse((s, list, n, index)) = self.heads.pop()?;
        let done = std::mem::replace(&mut self.current, s);
        self.spare.push(done);
        self.advance(list);
        Some((&self.current, n, list, index))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packed(strings: &[&str]) -> Packed {
        strings
            .iter()
            .enumerate()
            .map(|(i, s)| (*s, i as u64 * 1000))
            .collect()
    }

    #[test]
    fn a_packed_list_reads_back_each_string_and_number_in_order() {
        let strings = [
            "prod/dc1/c1/app/deployment-a.yaml",
            "prod/dc1/c1/app/deployment-b.yaml",
            "prod/dc1/c1/app/service-a.yaml",
            "prod/dc1/c2/db/configmap-é.yaml",
            "prod/dc1/c2/db/configmap-ê.yaml",
            "",
            "prod",
            "prod/argocd/apps/c1-app.yaml",
        ];
        let list = packed(&strings);
        assert_eq!(list.len, strings.len());
        let mut back = Vec::new();
        list.for_each(|s, n| back.push((s.to_string(), n)));
        let expected: Vec<(String, u64)> = strings
            .iter()
            .enumerate()
            .map(|(i, s)| (s.to_string(), i as u64 * 1000))
            .collect();
        assert_eq!(back, expected);
        // The shared prefixes are not kept twice.
        assert_eq!(
            packed(&strings[..3]).text,
            "prod/dc1/c1/app/deployment-a.yamlb.yamlservice-a.yaml"
        );
        assert_eq!(list, packed(&strings), "the same strings pack the same");
    }

    #[test]
    fn a_merge_reads_sorted_lists_as_one_sorted_list_with_equal_strings_in_list_order() {
        let a = packed(&["a/1", "a/2", "c/1"]);
        let b = packed(&["b/1", "b/2"]);
        let c = packed(&[]);
        let d = packed(&["a/2", "c/0", "d"]);
        let mut merge = Merge::new([&a, &b, &c, &d]);
        let mut out = Vec::new();
        while let Some((s, n, list, index)) = merge.next() {
            out.push((s.to_string(), n, list, index));
        }
        let expected = [
            ("a/1", 0, 0, 0),
            ("a/2", 1000, 0, 1),
            ("a/2", 0, 3, 0),
            ("b/1", 0, 1, 0),
            ("b/2", 1000, 1, 1),
            ("c/0", 1000, 3, 1),
            ("c/1", 2000, 0, 2),
            ("d", 2000, 3, 2),
        ];
        let expected: Vec<(String, u64, usize, usize)> = expected
            .iter()
            .map(|(s, n, l, i)| (s.to_string(), *n, *l, *i))
            .collect();
        assert_eq!(out, expected);
    }
}
