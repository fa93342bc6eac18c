//! Warm instances: a plugin instance kept after an event call to serve the next
//! events of the same grant, instead of a fresh one per call.
//!
//! An instance waits on the shelf under its grant's [`WarmKey`]. Every built grant
//! has its own key, and a tenant's grants are built anew on any change of the
//! tenant, the plugin's version, its settings, its grant or its secrets, so an
//! instance never meets another tenant's event nor outlives a change; dropping the
//! grant takes its instances off the shelf. An instance goes back on the shelf only
//! after a call that went well; it is dropped after its last allowed call (a number
//! drawn in a configured range, so that no guest can count on it), after an idle
//! time, and when the shelf is full (the least recently used goes first; a tenant
//! may hold only so many). Its guest may keep globals between calls, never
//! anything of the host: each call starts from a clean call state (`host.rs`).
//!
//! Linear memory of all instances, running or waiting, counts against one
//! process-wide [`MemoryBudget`](super::budget::MemoryBudget); waiting instances have a smaller share of their own.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock, Weak};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use wasmtime::Store;

use super::host::CallState;
use super::{bindings, v0_1};

/// Whether a plugin's instances are reused across a tenant's events.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Isolation {
    /// Reused across the events of one tenant's grant (bounded and recycled).
    #[default]
    Tenant,
    /// A fresh instance for every call.
    Event,
}

impl Isolation {
    /// The stricter of two.
    pub fn max(self, other: Isolation) -> Isolation {
        if self == Isolation::Event || other == Isolation::Event {
            Isolation::Event
        } else {
            Isolation::Tenant
        }
    }
}

/// Identifies one built grant's warm instances. A copy of a grant, changed or
/// not, is another grant: cloning a key makes a new one.
#[derive(Debug)]
pub struct WarmKey {
    id: u64,
    /// The shelf holding its instances, once one was put there.
    shelf: OnceLock<Weak<Mutex<Shelf<Warm>>>>,
}

impl Default for WarmKey {
    fn default() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        Self {
            id: NEXT.fetch_add(1, Ordering::Relaxed),
            shelf: OnceLock::new(),
        }
    }
}

impl Clone for WarmKey {
    fn clone(&self) -> Self {
        Self::default()
    }
}

impl Drop for WarmKey {
    fn drop(&mut self) {
        let Some(shelf) = self.shelf.get().and_then(Weak::upgrade) else {
            return;
        };
        // Dropped outside the lock: dropping a store frees its instance's slot.
        let retired = shelf.lock().retire(self.id);
        drop(retired);
    }
}

/// How warm instances are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WarmSettings {
    /// Instances waiting at once, all tenants together.
    pub max_instances: usize,
    /// Instances waiting at once for one tenant.
    pub max_per_tenant: usize,
    /// An instance not called for this long is dropped.
    pub idle: Duration,
    /// Calls an instance serves, drawn in this range when it is created.
    pub reuse_calls: (u32, u32),
    /// An instance whose linear memory grew by more than this since it was created
    /// is dropped after the call.
    pub max_growth_bytes: usize,
    /// Linear memory of all instances, running or waiting.
    pub memory_budget_bytes: usize,
    /// The part of it one tenant's instances may hold together.
    pub tenant_memory_bytes: usize,
    /// Linear memory the waiting instances may hold together.
    pub max_idle_memory_bytes: usize,
}

impl Default for WarmSettings {
    fn default() -> Self {
        Self {
            max_instances: 1024,
            max_per_tenant: 8,
            idle: Duration::from_secs(30),
            reuse_calls: (100, 200),
            max_growth_bytes: 8 << 20,
            memory_budget_bytes: 2 << 30,
            tenant_memory_bytes: 1 << 30,
            max_idle_memory_bytes: 128 << 20,
        }
    }
}

impl WarmSettings {
    /// Calls a new instance serves: uniform in `reuse_calls`.
    pub(crate) fn draw_calls(&self) -> u32 {
        let (low, high) = self.reuse_calls;
        let (low, high) = (low.min(high), low.max(high));
        let span = high.saturating_sub(low).saturating_add(1);
        let random = getrandom::u32().unwrap_or(0);
        low.saturating_add(random.checked_rem(span).unwrap_or(0))
    }
}

/// An instantiated plugin of one of the contract versions.
pub(super) enum Instantiated {
    V0_1(v0_1::PluginV0_1),
    V0_2(bindings::Plugin),
}

/// A live instance and its store, between calls.
pub(super) struct Warm {
    pub(super) store: Store<CallState>,
    pub(super) instance: Instantiated,
}

/// An item on the shelf.
struct Idle<T> {
    stamp: u64,
    since: Instant,
    tenant: Arc<str>,
    memory: usize,
    item: T,
}

/// Items waiting, by key, with their order of last use; the bookkeeping of
/// [`WarmPool`], apart from what it keeps.
pub(crate) struct Shelf<T> {
    by_key: HashMap<u64, Vec<Idle<T>>>,
    /// Stamp of each waiting item's last use → its key.
    by_age: BTreeMap<u64, u64>,
    per_tenant: HashMap<Arc<str>, Held>,
    count: usize,
    memory: usize,
    stamp: u64,
    /// Items retired or expired and not yet dropped ([`Leaving`]).
    leaving: Arc<AtomicUsize>,
}

impl<T> Default for Shelf<T> {
    fn default() -> Self {
        Self {
            by_key: HashMap::new(),
            by_age: BTreeMap::new(),
            per_tenant: HashMap::new(),
            count: 0,
            memory: 0,
            stamp: 0,
            leaving: Arc::default(),
        }
    }
}

/// Items taken off the shelf to be dropped outside its lock. Until they are, they
/// keep their places on it: an instance holds its pool slot until its store is
/// dropped, and the pool has a slot for every call and every waiting instance,
/// no more, so a new instance kept meanwhile would leave a call without one.
pub(crate) struct Leaving<T> {
    items: Vec<T>,
    count: Arc<AtomicUsize>,
}

impl<T> Leaving<T> {
    fn new(items: Vec<T>, count: &Arc<AtomicUsize>) -> Self {
        count.fetch_add(items.len(), Ordering::Relaxed);
        Self {
            items,
            count: count.clone(),
        }
    }

    pub(crate) fn items(&self) -> &[T] {
        &self.items
    }
}

impl<T> Drop for Leaving<T> {
    fn drop(&mut self) {
        /// Gives the places back even if dropping an item panics.
        struct GiveBack<'a>(&'a AtomicUsize, usize);
        impl Drop for GiveBack<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(self.1, Ordering::Relaxed);
            }
        }
        let _give_back = GiveBack(&self.count, self.items.len());
        self.items.clear();
    }
}

/// What one tenant's waiting items hold.
#[derive(Debug, Clone, Copy, Default)]
struct Held {
    items: usize,
    memory: usize,
}

/// How many items a shelf holds, and how much memory.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Room {
    pub(crate) items: usize,
    pub(crate) per_tenant: usize,
    pub(crate) memory: usize,
}

impl<T> Shelf<T> {
    /// Takes `idle` off the counts (it is already out of `by_key`).
    fn forget(&mut self, idle: &Idle<T>) {
        self.by_age.remove(&idle.stamp);
        self.count = self.count.saturating_sub(1);
        self.memory = self.memory.saturating_sub(idle.memory);
        if let Some(held) = self.per_tenant.get_mut(&idle.tenant) {
            held.items = held.items.saturating_sub(1);
            held.memory = held.memory.saturating_sub(idle.memory);
            if held.items == 0 {
                self.per_tenant.remove(&idle.tenant);
            }
        }
    }

    /// The most recently put item of `key`, unless it waited since before `cutoff`;
    /// with those found stale on the way.
    fn take(&mut self, key: u64, cutoff: Option<Instant>) -> (Option<T>, Vec<T>) {
        let mut stale = Vec::new();
        loop {
            let Some(stack) = self.by_key.get_mut(&key) else {
                return (None, stale);
            };
            let popped = stack.pop();
            if stack.is_empty() {
                self.by_key.remove(&key);
            }
            let Some(idle) = popped else {
                return (None, stale);
            };
            self.forget(&idle);
            if cutoff.is_some_and(|cutoff| idle.since < cutoff) {
                stale.push(idle.item);
                continue;
            }
            return (Some(idle.item), stale);
        }
    }

    /// Puts `item` of `tenant` under `key`, making room by removing the least
    /// recently used; gives back what it removed, or `item` itself when its tenant
    /// holds its share already or it alone is larger than the room.
    ///
    /// A tenant that would then hold more of the shelf's memory than any other
    /// makes room from its own items, oldest first, and with none left to give,
    /// `item` is not kept: under pressure the largest holder gives way, so that
    /// one tenant's large instances cannot push every other tenant's off.
    fn put(&mut self, key: u64, tenant: &str, memory: usize, item: T, room: Room) -> Vec<T> {
        let room = Room {
            items: room
                .items
                .saturating_sub(self.leaving.load(Ordering::Relaxed)),
            ..room
        };
        let held = self.per_tenant.get(tenant).copied().unwrap_or_default();
        if room.items == 0 || memory > room.memory || held.items >= room.per_tenant {
            return vec![item];
        }
        let over = |count: usize, total: usize| {
            count >= room.items || total.saturating_add(memory) > room.memory
        };
        // Who gives way is decided once, before anything goes: no other tenant's
        // item goes for a new one that is then not kept.
        let largest_other = self
            .per_tenant
            .iter()
            .filter(|(name, _)| name.as_ref() != tenant)
            .map(|(_, other)| other.memory)
            .max()
            .unwrap_or(0);
        let gives_way = held.memory.saturating_add(memory) > largest_other;
        if gives_way
            && over(
                self.count.saturating_sub(held.items),
                self.memory.saturating_sub(held.memory),
            )
        {
            return vec![item];
        }
        let mut evicted = Vec::new();
        while over(self.count, self.memory) {
            let victim = if gives_way {
                self.evict_oldest_of(tenant)
            } else {
                self.evict_oldest()
            };
            match victim {
                Some(old) => evicted.push(old),
                None => break,
            }
        }
        let tenant: Arc<str> = match self.per_tenant.get_key_value(tenant) {
            Some((name, _)) => name.clone(),
            None => Arc::from(tenant),
        };
        self.stamp = self.stamp.saturating_add(1);
        let stamp = self.stamp;
        self.by_age.insert(stamp, key);
        let held = self.per_tenant.entry(tenant.clone()).or_default();
        held.items = held.items.saturating_add(1);
        held.memory = held.memory.saturating_add(memory);
        self.count = self.count.saturating_add(1);
        self.memory = self.memory.saturating_add(memory);
        self.by_key.entry(key).or_default().push(Idle {
            stamp,
            since: Instant::now(),
            tenant,
            memory,
            item,
        });
        evicted
    }

    /// `items`, taken off the shelf, holding their places until dropped.
    fn leaving(&self, items: Vec<T>) -> Leaving<T> {
        Leaving::new(items, &self.leaving)
    }

    /// Removes every item of `key`.
    fn retire(&mut self, key: u64) -> Leaving<T> {
        let retired = self.by_key.remove(&key).unwrap_or_default();
        for idle in &retired {
            self.forget(idle);
        }
        self.leaving(retired.into_iter().map(|idle| idle.item).collect())
    }

    /// Removes the least recently used item.
    fn evict_oldest(&mut self) -> Option<T> {
        let (&stamp, &key) = self.by_age.iter().next()?;
        self.remove(stamp, key)
    }

    /// Removes `tenant`'s least recently used item.
    fn evict_oldest_of(&mut self, tenant: &str) -> Option<T> {
        let (stamp, key) = self.by_age.iter().find_map(|(&stamp, &key)| {
            // A key's items are all of one tenant (a key is one tenant's grant).
            let first = self.by_key.get(&key)?.first()?;
            (first.tenant.as_ref() == tenant).then_some((stamp, key))
        })?;
        self.remove(stamp, key)
    }

    /// Removes the item of `key` last used at `stamp`.
    fn remove(&mut self, stamp: u64, key: u64) -> Option<T> {
        let stack = self.by_key.get_mut(&key)?;
        let at = stack.iter().position(|idle| idle.stamp == stamp)?;
        let idle = stack.remove(at);
        if stack.is_empty() {
            self.by_key.remove(&key);
        }
        self.forget(&idle);
        Some(idle.item)
    }

    /// Removes the items that waited since before `cutoff`.
    fn expire(&mut self, cutoff: Instant) -> Leaving<T> {
        let mut expired = Vec::new();
        while let Some((&stamp, &key)) = self.by_age.iter().next() {
            let old = self
                .by_key
                .get(&key)
                .and_then(|stack| stack.iter().find(|idle| idle.stamp == stamp))
                .is_some_and(|idle| idle.since < cutoff);
            if !old {
                break;
            }
            expired.extend(self.evict_oldest());
        }
        self.leaving(expired)
    }
}

/// The shelf of warm instances and its rules. What it removes is dropped outside
/// its lock: dropping a store frees its instance's slot.
pub(crate) struct WarmPool {
    shelf: Arc<Mutex<Shelf<Warm>>>,
    pub(crate) settings: WarmSettings,
}

impl WarmPool {
    pub(crate) fn new(settings: WarmSettings) -> Self {
        Self {
            shelf: Arc::default(),
            settings,
        }
    }

    /// The most recently used instance of `key`, if one waits and is not past its
    /// idle time.
    pub(super) fn take(&self, key: &WarmKey) -> Option<Warm> {
        let cutoff = Instant::now().checked_sub(self.settings.idle);
        let (found, stale) = {
            let mut shelf = self.shelf.lock();
            let (found, stale) = shelf.take(key.id, cutoff);
            (found, shelf.leaving(stale))
        };
        drop(stale);
        found
    }

    /// Puts `warm`, just used by `tenant` under `key`, on the shelf.
    pub(super) fn put(&self, key: &WarmKey, tenant: &str, warm: Warm) {
        let shelf = key.shelf.get_or_init(|| Arc::downgrade(&self.shelf));
        // A key keeps to the pool it was first used with (one runtime per process,
        // but tests and tools build several).
        if !std::ptr::eq(shelf.as_ptr(), Arc::as_ptr(&self.shelf)) {
            return;
        }
        let room = Room {
            items: self.settings.max_instances,
            per_tenant: self.settings.max_per_tenant,
            memory: self
                .settings
                .max_idle_memory_bytes
                .min(self.settings.memory_budget_bytes),
        };
        let memory = warm.store.data().memory_bytes();
        let evicted = {
            let mut shelf = self.shelf.lock();
            let evicted = shelf.put(key.id, tenant, memory, warm, room);
            shelf.leaving(evicted)
        };
        drop(evicted);
    }

    /// Takes out the instances idle for longer than the idle time, for the
    /// caller to drop.
    pub(crate) fn sweep(&self) -> Option<Leaving<Warm>> {
        let cutoff = Instant::now().checked_sub(self.settings.idle)?;
        Some(self.shelf.lock().expire(cutoff))
    }

    /// Instances waiting and the linear memory they hold.
    pub(crate) fn waiting(&self) -> (usize, usize) {
        let shelf = self.shelf.lock();
        (shelf.count, shelf.memory)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROOM: Room = Room {
        items: 3,
        per_tenant: 2,
        memory: 100,
    };

    fn shelf() -> Shelf<&'static str> {
        Shelf::default()
    }

    #[test]
    fn a_key_gets_back_its_own_latest_item_only() {
        let mut shelf = shelf();
        assert!(shelf.put(1, "a", 10, "a-old", ROOM).is_empty());
        assert!(shelf.put(1, "a", 10, "a-new", ROOM).is_empty());
        assert!(shelf.put(2, "b", 10, "b", ROOM).is_empty());
        assert_eq!(shelf.take(1, None).0, Some("a-new"));
        assert_eq!(shelf.take(1, None).0, Some("a-old"));
        assert_eq!(shelf.take(1, None).0, None);
        assert_eq!(shelf.take(3, None).0, None);
        assert_eq!((shelf.count, shelf.memory), (1, 10));
    }

    #[test]
    fn a_tenant_holds_no_more_than_its_share() {
        let mut shelf = shelf();
        shelf.put(1, "a", 1, "a1", ROOM);
        shelf.put(2, "a", 1, "a2", ROOM);
        assert_eq!(shelf.put(1, "a", 1, "a3", ROOM), ["a3"]);
        assert!(shelf.put(3, "b", 1, "b1", ROOM).is_empty());
    }

    #[test]
    fn a_full_shelf_drops_the_least_recently_used() {
        let mut shelf = shelf();
        shelf.put(1, "a", 1, "a", ROOM);
        shelf.put(2, "b", 1, "b", ROOM);
        shelf.put(3, "c", 1, "c", ROOM);
        assert_eq!(shelf.put(4, "d", 1, "d", ROOM), ["a"]);
        // Memory counts too: 30 more bytes of c, no more than another tenant
        // holds, push out the oldest.
        let mut shelf = self::shelf();
        shelf.put(1, "a", 40, "a", ROOM);
        shelf.put(2, "b", 40, "b", ROOM);
        assert_eq!(shelf.put(3, "c", 30, "c", ROOM), ["a"]);
        assert_eq!((shelf.count, shelf.memory), (2, 70));
        // What is larger than the room is not kept at all.
        assert_eq!(shelf.put(6, "f", 101, "f", ROOM), ["f"]);
    }

    /// Under pressure the tenant holding the most memory gives way: its own
    /// oldest items go, or its new one is not kept; the others' stay.
    #[test]
    fn a_tenant_with_large_instances_cannot_push_the_others_off() {
        let room = Room {
            items: 10,
            per_tenant: 8,
            memory: 100,
        };
        let mut shelf = shelf();
        shelf.put(1, "b", 10, "b", room);
        shelf.put(2, "a", 50, "a1", room);
        assert_eq!(shelf.put(3, "a", 50, "a2", room), ["a1"]);
        assert_eq!(shelf.take(1, None).0, Some("b"), "b's instance stays");
        shelf.put(1, "b", 10, "b", room);
        // A newcomer as large as the room's rest is not kept at the others' cost.
        assert_eq!(shelf.put(4, "c", 91, "c", room), ["c"]);
        assert_eq!((shelf.count, shelf.memory), (2, 60));
        // One that is not the largest holder makes room from the oldest; what it
        // takes is never taken for nothing (decided before anything goes).
        let mut three = Shelf::default();
        three.put(1, "a", 30, "a1", room);
        three.put(2, "a", 30, "a2", room);
        three.put(3, "b", 35, "b", room);
        assert_eq!(three.put(4, "c", 50, "c", room), ["a1", "a2"]);
        assert_eq!(three.take(4, None).0, Some("c"));
        // Alone, a tenant makes room from its own.
        let mut alone = Shelf::default();
        alone.put(1, "a", 60, "a1", room);
        assert_eq!(alone.put(1, "a", 60, "a2", room), ["a1"]);
    }

    /// What is retired or expired keeps its place until it is dropped: its pool
    /// slot is not free before.
    #[test]
    fn items_on_their_way_out_keep_their_places_until_dropped() {
        let room = Room {
            items: 2,
            per_tenant: 2,
            memory: 100,
        };
        let mut shelf = shelf();
        shelf.put(1, "a", 5, "a", room);
        shelf.put(2, "b", 5, "b", room);
        let retired = shelf.retire(1);
        // One waits, one is leaving: the shelf is full, and the least recently
        // used goes for a new one.
        assert_eq!(shelf.put(3, "c", 5, "c", room), ["b"]);
        drop(retired);
        assert_eq!(shelf.put(4, "d", 5, "d", room), Vec::<&str>::new());
        let later = Instant::now() + Duration::from_secs(60);
        let expired = shelf.expire(later);
        assert_eq!(expired.items(), ["c", "d"]);
        assert_eq!(shelf.put(5, "e", 5, "e", room), ["e"]);
        drop(expired);
        assert_eq!(shelf.put(5, "e", 5, "e", room), Vec::<&str>::new());
    }

    #[test]
    fn retiring_a_key_and_idle_time_remove_its_items() {
        let mut shelf = shelf();
        shelf.put(1, "a", 5, "a", ROOM);
        shelf.put(2, "b", 5, "b", ROOM);
        assert_eq!(shelf.retire(1).items(), ["a"]);
        assert_eq!((shelf.count, shelf.memory), (1, 5));
        let later = Instant::now() + Duration::from_secs(60);
        assert_eq!(shelf.take(2, Some(later)), (None, vec!["b"]));
        shelf.put(3, "c", 5, "c", ROOM);
        assert_eq!(shelf.expire(later).items(), ["c"]);
        assert_eq!((shelf.count, shelf.memory), (0, 0));
        assert!(shelf.per_tenant.is_empty() && shelf.by_age.is_empty());
    }

    #[test]
    fn reuse_counts_are_drawn_in_the_range() {
        let settings = WarmSettings {
            reuse_calls: (5, 7),
            ..WarmSettings::default()
        };
        let drawn: std::collections::BTreeSet<u32> =
            (0..200).map(|_| settings.draw_calls()).collect();
        assert_eq!(drawn.into_iter().collect::<Vec<_>>(), [5, 6, 7]);
    }
}
