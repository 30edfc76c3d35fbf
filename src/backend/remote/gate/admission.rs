//! Who gets in: places counted atomically, and the addresses that keep
//! presenting wrong tokens, slowed down.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// A place in a count, taken atomically and given back when dropped, on
/// whatever path its holder ends.
pub(super) struct Slot<'a>(&'a AtomicUsize);

impl<'a> Slot<'a> {
    /// A place, if fewer than `limit` are taken.
    pub(super) fn take(count: &'a AtomicUsize, limit: usize) -> Option<Slot<'a>> {
        count
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < limit).then_some(n + 1)
            })
            .ok()
            .map(|_| Slot(count))
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Wrong tokens an address may present in a row before it waits: a person
/// mistyping a path or an old token file is not punished.
pub const FREE_STRIKES: u32 = 3;

/// The first wait, doubled at each further wrong token.
pub const FIRST_WAIT: Duration = Duration::from_secs(1);

/// The longest wait: a guesser gets one try a minute, a person who fixed
/// their token file waits at most this long.
pub const LONGEST_WAIT: Duration = Duration::from_secs(60);

/// How long an address's wrong tokens are remembered after its last one.
const MEMORY: Duration = Duration::from_secs(10 * 60);

/// Addresses remembered at most: a flood from many addresses cannot grow the
/// table without bound (the oldest entry makes room).
const MAX_ADDRESSES: usize = 4096;

/// Wrong tokens by address: after [`FREE_STRIKES`], each further one makes
/// the address wait [`FIRST_WAIT`], doubled each time up to
/// [`LONGEST_WAIT`], before its next request is read.
#[derive(Debug, Default)]
pub(super) struct Strikes(Mutex<HashMap<IpAddr, Record>>);

#[derive(Debug, Clone, Copy)]
struct Record {
    strikes: u32,
    last: Instant,
    wait_until: Option<Instant>,
}

/// What [`Strikes::strike`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Verdict {
    /// The address may try again at once.
    Free,
    /// The address waits this long: the first wait of a burst, to log.
    Starts(Duration),
    /// The address waits this long, longer than before (not logged again).
    Longer(Duration),
}

impl Strikes {
    /// How long `address` must still wait before it is heard, if at all.
    pub(super) fn waiting(&self, address: IpAddr, now: Instant) -> Option<Duration> {
        let table = self.lock();
        let until = table.get(&address)?.wait_until?;
        (until > now).then(|| until - now)
    }

    /// Notes a wrong token from `address`.
    pub(super) fn strike(&self, address: IpAddr, now: Instant) -> Verdict {
        let mut table = self.lock();
        table.retain(|_, r| now.saturating_duration_since(r.last) < MEMORY);
        if table.len() >= MAX_ADDRESSES && !table.contains_key(&address) {
            let oldest = table.iter().min_by_key(|(_, r)| r.last).map(|(a, _)| *a);
            if let Some(oldest) = oldest {
                table.remove(&oldest);
            }
        }
        let record = table.entry(address).or_insert(Record {
            strikes: 0,
            last: now,
            wait_until: None,
        });
        record.strikes += 1;
        record.last = now;
        let Some(beyond) = record.strikes.checked_sub(FREE_STRIKES + 1) else {
            return Verdict::Free;
        };
        let wait = FIRST_WAIT
            .saturating_mul(1u32 << beyond.min(16))
            .min(LONGEST_WAIT);
        record.wait_until = Some(now + wait);
        match beyond {
            0 => Verdict::Starts(wait),
            _ => Verdict::Longer(wait),
        }
    }

    /// Forgets `address`'s wrong tokens: it presented the right one.
    pub(super) fn forgive(&self, address: IpAddr) {
        self.lock().remove(&address);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, Record>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slot_is_refused_at_the_limit_and_given_back_when_dropped() {
        let count = AtomicUsize::new(0);
        let first = Slot::take(&count, 2).unwrap();
        let second = Slot::take(&count, 2).unwrap();
        assert!(Slot::take(&count, 2).is_none());
        drop(first);
        assert!(Slot::take(&count, 2).is_some());
        drop(second);
        assert_eq!(count.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn slots_taken_from_many_threads_never_pass_the_limit() {
        let count = AtomicUsize::new(0);
        let taken = AtomicUsize::new(0);
        std::thread::scope(|scope| {
            for _ in 0..12 {
                scope.spawn(|| {
                    if let Some(_slot) = Slot::take(&count, 3) {
                        taken.fetch_add(1, Ordering::SeqCst);
                        assert!(count.load(Ordering::SeqCst) <= 3);
                        std::thread::sleep(Duration::from_millis(50));
                    }
                });
            }
        });
        assert!(taken.load(Ordering::SeqCst) >= 3);
        assert_eq!(count.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn wrong_tokens_past_the_free_ones_wait_twice_as_long_each_time_up_to_the_longest() {
        let strikes = Strikes::default();
        let address: IpAddr = "192.0.2.1".parse().unwrap();
        let other: IpAddr = "192.0.2.2".parse().unwrap();
        let now = Instant::now();
        for _ in 0..FREE_STRIKES {
            assert_eq!(strikes.strike(address, now), Verdict::Free);
            assert_eq!(strikes.waiting(address, now), None);
        }
        assert_eq!(strikes.strike(address, now), Verdict::Starts(FIRST_WAIT));
        assert_eq!(strikes.waiting(address, now), Some(FIRST_WAIT));
        assert_eq!(strikes.waiting(address, now + FIRST_WAIT), None);
        assert_eq!(
            strikes.strike(address, now),
            Verdict::Longer(FIRST_WAIT * 2)
        );
        for _ in 0..20 {
            strikes.strike(address, now);
        }
        assert_eq!(strikes.waiting(address, now), Some(LONGEST_WAIT));
        // Another address is not affected; the right token forgives.
        assert_eq!(strikes.waiting(other, now), None);
        strikes.forgive(address);
        assert_eq!(strikes.waiting(address, now), None);
        assert_eq!(strikes.strike(address, now), Verdict::Free);
    }

    #[test]
    fn the_table_of_addresses_is_bounded() {
        let strikes = Strikes::default();
        let now = Instant::now();
        for i in 0..(MAX_ADDRESSES as u32 + 100) {
            strikes.strike(IpAddr::from(i.to_be_bytes()), now);
        }
        assert!(strikes.lock().len() <= MAX_ADDRESSES);
    }
}
