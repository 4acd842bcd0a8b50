//! A slab: a `Vec` of slots, where a value keeps its key (its slot number) for its whole
//! life, and a freed slot is reused by the next insert.
//!
//! An event loop needs a way to get from "the kernel says *this* is ready" back to the
//! connection it is about. mio hands back a [`mio::Token`], which is just a `usize` we
//! chose when registering the socket; `poll(2)` hands back a position in the list we gave
//! it. Either way we want a number that
//!
//! - stays the same while the connection lives (a `Vec` index would shift when an earlier
//!   connection is removed, and the kernel would still report the old number);
//! - leads to the connection in O(1) (no hashing, no search: the loop does this for
//!   every event);
//! - stays small when connections come and go (a counter that only grows would need a
//!   map, not a `Vec`).
//!
//! A slab gives all three: `insert` puts the value in a free slot (the last one freed, or
//! a new one at the end) and returns the slot's number; `remove` empties the slot and
//! remembers it as free. Ten thousand connections opened and closed over and over use
//! at most as many slots as were ever open *at once*.
//!
//! The price of reusing keys, which the learner should see: a key names a *slot*, not a
//! connection. An event that was already fetched for a connection that has since been
//! removed may name a slot that a *new* connection now occupies. So a loop must treat
//! every event as a hint ("this may be ready: try it"), never as a promise, and a
//! non-blocking `read` that says `WouldBlock` is the harmless answer to a wrong hint.
//! Step 3 ([`crate::step3_mio`]) does exactly that.
//!
//! (The `slab` crate on crates.io is the production version of this idea, used by tokio;
//! this one is 100 lines so that nothing is hidden.)

/// Values of type `T`, each under a `usize` key that does not change while it is stored.
#[derive(Debug, Clone)]
pub struct Slab<T> {
    /// `Some` for an occupied slot, `None` for a free one.
    slots: Vec<Option<T>>,
    /// The free slots, the most recently freed last (reused first: its memory is the
    /// most likely to still be in the cache).
    free: Vec<usize>,
    /// Occupied slots, kept so that `len` does not have to count.
    len: usize,
}

impl<T> Default for Slab<T> {
    fn default() -> Self {
        Slab::new()
    }
}

impl<T> Slab<T> {
    /// An empty slab; it allocates on the first insert.
    pub fn new() -> Slab<T> {
        Slab {
            slots: Vec::new(),
            free: Vec::new(),
            len: 0,
        }
    }

    /// An empty slab with room for `capacity` values before it reallocates.
    pub fn with_capacity(capacity: usize) -> Slab<T> {
        Slab {
            slots: Vec::with_capacity(capacity),
            free: Vec::new(),
            len: 0,
        }
    }

    // ANCHOR: insert_remove
    /// Stores `value` and returns its key: a freed slot if there is one, else a new one.
    pub fn insert(&mut self, value: T) -> usize {
        self.len += 1;
        // A key in the free list always names an empty slot (only `remove` pushes, and
        // only after emptying the slot), so this never overwrites a value.
        if let Some(key) = self.free.pop() {
            self.slots[key] = Some(value);
            key
        } else {
            self.slots.push(Some(value));
            self.slots.len() - 1
        }
    }

    /// The value under `key`, if that slot is occupied.
    pub fn get(&self, key: usize) -> Option<&T> {
        self.slots.get(key)?.as_ref()
    }

    /// The value under `key`, mutably, if that slot is occupied.
    pub fn get_mut(&mut self, key: usize) -> Option<&mut T> {
        self.slots.get_mut(key)?.as_mut()
    }

    /// Takes the value out of `key`'s slot and frees the slot for reuse. `None` (and no
    /// change) for an empty or unknown key: removing twice is harmless.
    pub fn remove(&mut self, key: usize) -> Option<T> {
        let value = self.slots.get_mut(key)?.take()?;
        self.free.push(key);
        self.len -= 1;
        Some(value)
    }
    // ANCHOR_END: insert_remove

    /// Whether `key` holds a value.
    pub fn contains(&self, key: usize) -> bool {
        self.get(key).is_some()
    }

    /// How many values are stored.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no value is stored.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The stored values with their keys, in key order.
    pub fn iter(&self) -> impl Iterator<Item = (usize, &T)> + '_ {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(key, slot)| Some((key, slot.as_ref()?)))
    }

    /// The stored values with their keys, mutably, in key order.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (usize, &mut T)> + '_ {
        self.slots
            .iter_mut()
            .enumerate()
            .filter_map(|(key, slot)| Some((key, slot.as_mut()?)))
    }

    /// The occupied keys, in order. (To remove while walking, collect them first.)
    pub fn keys(&self) -> impl Iterator<Item = usize> + '_ {
        self.iter().map(|(key, _)| key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_stable_while_others_come_and_go() {
        let mut slab = Slab::new();
        let a = slab.insert("a");
        let b = slab.insert("b");
        let c = slab.insert("c");
        assert_eq!((a, b, c), (0, 1, 2));
        assert_eq!(slab.remove(a), Some("a"));
        // `b` and `c` did not move, unlike in a Vec after `remove(0)`.
        assert_eq!((slab.get(b), slab.get(c)), (Some(&"b"), Some(&"c")));
        assert_eq!(slab.get(a), None);
        assert_eq!(slab.len(), 2);
    }

    #[test]
    fn freed_slots_are_reused_most_recent_first() {
        let mut slab = Slab::new();
        for i in 0..5 {
            slab.insert(i);
        }
        slab.remove(1);
        slab.remove(3);
        assert_eq!(slab.insert(30), 3);
        assert_eq!(slab.insert(10), 1);
        assert_eq!(slab.insert(5), 5, "no free slot left: a new one at the end");
        assert_eq!(slab.get(3), Some(&30));
    }

    #[test]
    fn churn_uses_as_many_slots_as_were_ever_open_at_once() {
        let mut slab = Slab::new();
        let mut open = std::collections::VecDeque::new();
        for i in 0..10_000 {
            open.push_back(slab.insert(i));
            if open.len() > 8 {
                let key = open.pop_front().unwrap();
                assert!(slab.remove(key).is_some());
            }
        }
        assert_eq!(slab.len(), 8);
        assert!(
            slab.keys().all(|k| k < 9),
            "{:?}",
            slab.keys().collect::<Vec<_>>()
        );
    }

    #[test]
    fn removing_twice_or_an_unknown_key_is_harmless() {
        let mut slab = Slab::new();
        let k = slab.insert('x');
        assert_eq!(slab.remove(k), Some('x'));
        assert_eq!(slab.remove(k), None);
        assert_eq!(slab.remove(12345), None);
        assert!(slab.is_empty());
        // The double remove did not put the slot in the free list twice.
        assert_eq!(slab.insert('y'), k);
        assert_eq!(slab.insert('z'), k + 1);
    }

    #[test]
    fn get_mut_and_iteration_in_key_order() {
        let mut slab = Slab::with_capacity(4);
        for word in ["zero", "one", "two", "three"] {
            slab.insert(word.to_string());
        }
        slab.remove(2);
        slab.get_mut(1).unwrap().push('!');
        for (_, v) in slab.iter_mut() {
            v.make_ascii_uppercase();
        }
        let all: Vec<(usize, &str)> = slab.iter().map(|(k, v)| (k, v.as_str())).collect();
        assert_eq!(all, [(0, "ZERO"), (1, "ONE!"), (3, "THREE")]);
        assert_eq!(slab.keys().collect::<Vec<_>>(), [0, 1, 3]);
        assert!(slab.contains(3) && !slab.contains(2));
    }
}
