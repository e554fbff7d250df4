//! When a periodic task captures which stream: ticks, skips, stop/resume, idle stop.
//!
//! Time is a parameter (milliseconds on a monotonic clock), never read here. Ticks sit on a
//! fixed grid `anchor + k·interval`, so a late timer never shifts later ticks (no drift), and
//! a tick the timer missed entirely is counted as skipped, never made up later (no bursts).
//! A stream whose previous capture is still running skips the tick (no overlap, no queue).
//!
//! Each stream also keeps the thumbnail of its last kept image, which a task with a
//! ChangeThreshold compares ticks with; it is forgotten when the stream stops or resumes, so
//! the first image after that is always kept.

use super::change::Thumb;
use super::map::VecMap;

use super::stream::StreamKey;
use super::task::TargetStream;

#[derive(Debug, Clone, Default)]
struct Slot {
    started: bool,
    busy: bool,
    index: Option<u32>,
    images: u64,
    skipped: u64,
    failed: u64,
    unchanged: u64,
    /// The last kept image's thumbnail and the id of the track it came from.
    reference: Option<(Thumb, String)>,
    /// The stream stopped or resumed while its capture ran: that capture's image is no
    /// reference for the ticks after the change.
    stale: bool,
}

/// Counters of a task or of one of its streams.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Images produced.
    pub images: u64,
    /// Ticks that produced no capture: the stream was stopped or still busy, or the timer
    /// fired too late to hold the tick.
    pub skipped: u64,
    /// Captures that failed (the track ended, no frame in time, …).
    pub failed: u64,
    /// Captures not kept: the picture differed from the stream's last kept image by less than
    /// the task's ChangeThreshold. No image, so nothing to deliver or upload.
    pub unchanged: u64,
}

impl Counts {
    fn plus(self, s: &Slot) -> Counts {
        Counts {
            images: self.images + s.images,
            skipped: self.skipped + s.skipped,
            failed: self.failed + s.failed,
            unchanged: self.unchanged + s.unchanged,
        }
    }
}

/// How a capture ended.
enum Ended {
    Image,
    Failed,
    Unchanged,
}

/// What a poll decided.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Poll {
    /// Streams to capture now; each is busy until [`Schedule::finished`].
    pub capture: Vec<StreamKey>,
    /// Every target stream has been stopped for longer than MaxIdleTime.
    pub idle: bool,
}

/// A target stream that stopped or resumed while the task runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateChange {
    pub stream: StreamKey,
    pub started: bool,
}

/// The schedule of one running task.
#[derive(Debug, Clone)]
pub struct Schedule {
    interval_ms: u64,
    next_tick: u64,
    max_idle_ms: u64,
    /// Empty StreamList: every stream that starts joins the task.
    everyone: bool,
    streams: VecMap<StreamKey, Slot>,
    /// Streams dropped from the targets while their capture was still running.
    leaving: VecMap<StreamKey, Slot>,
    /// Counters of streams that are no longer targets.
    retired: Counts,
    /// Since when no target stream has been started.
    idle_since: Option<u64>,
    /// Images produced so far: the next image's `{seq}` is this + 1.
    seq: u64,
}

impl Schedule {
    /// A schedule whose first tick is `now`. `started` lists the streams that are started in
    /// the room at this moment.
    pub fn new(
        targets: &[TargetStream],
        started: &[StreamKey],
        interval_s: u32,
        max_idle_s: u32,
        now: u64,
    ) -> Schedule {
        let mut s = Schedule {
            interval_ms: u64::from(interval_s.max(1)) * 1000,
            next_tick: now,
            max_idle_ms: u64::from(max_idle_s) * 1000,
            everyone: targets.is_empty(),
            streams: VecMap::new(),
            leaving: VecMap::new(),
            retired: Counts::default(),
            idle_since: None,
            seq: 0,
        };
        s.set_targets(targets, started, now);
        s
    }

    /// When [`Schedule::poll`] has something to do next.
    pub fn next_wakeup(&self) -> u64 {
        match self.idle_since {
            Some(since) => self.next_tick.min(since + self.max_idle_ms + 1),
            None => self.next_tick,
        }
    }

    /// Runs the ticks that are due at `now`.
    pub fn poll(&mut self, now: u64) -> Poll {
        let mut out = Poll::default();
        if let Some(since) = self.idle_since {
            if now.saturating_sub(since) > self.max_idle_ms {
                out.idle = true;
                return out;
            }
        }
        if now < self.next_tick {
            return out;
        }
        // Ticks the timer slept through are skipped, not made up.
        let missed = (now - self.next_tick) / self.interval_ms;
        for (key, slot) in &mut self.streams {
            slot.skipped += missed;
            if slot.started && !slot.busy {
                slot.busy = true;
                out.capture.push(key.clone());
            } else {
                slot.skipped += 1;
            }
        }
        self.next_tick += (missed + 1) * self.interval_ms;
        out
    }

    /// A capture started by [`Schedule::poll`] ended. Returns the image's `{seq}` when it
    /// produced one.
    pub fn finished(&mut self, stream: &StreamKey, ok: bool) -> Option<u64> {
        self.end(stream, if ok { Ended::Image } else { Ended::Failed })
    }

    /// A capture started by [`Schedule::poll`] ended without an image: its picture had not
    /// changed enough (see [`super::change`]).
    pub fn finished_unchanged(&mut self, stream: &StreamKey) {
        self.end(stream, Ended::Unchanged);
    }

    fn end(&mut self, stream: &StreamKey, how: Ended) -> Option<u64> {
        let mut leaving = self.leaving.remove(stream);
        let slot = match leaving.as_mut() {
            Some(s) => s,
            None => self.streams.get_mut(stream)?,
        };
        slot.busy = false;
        slot.stale = false;
        let seq = match how {
            Ended::Image => {
                slot.images += 1;
                self.seq += 1;
                Some(self.seq)
            }
            Ended::Failed => {
                slot.failed += 1;
                None
            }
            Ended::Unchanged => {
                slot.unchanged += 1;
                None
            }
        };
        if let Some(s) = leaving {
            self.retired = self.retired.plus(&s);
        }
        seq
    }

    /// The thumbnail of the image a capture of `stream` from track `source` is about to keep
    /// (call before [`Schedule::finished`]): later ticks of that track compare with it.
    pub fn set_reference(&mut self, stream: &StreamKey, thumb: Thumb, source: &str) {
        if let Some(slot) = self.streams.get_mut(stream) {
            if !slot.stale {
                slot.reference = Some((thumb, source.to_string()));
            }
        }
    }

    /// What a tick of `stream` from track `source` compares with: its last kept image, unless
    /// the stream stopped or resumed since, or that image came from another track.
    pub fn reference(&self, stream: &StreamKey, source: &str) -> Option<&Thumb> {
        match &self.streams.get(stream)?.reference {
            Some((thumb, from)) if from == source => Some(thumb),
            _ => None,
        }
    }

    /// A stream in the room started or stopped. Returns the change when the stream is one of
    /// the task's targets (for an everyone-task, every stream is).
    pub fn stream_changed(
        &mut self,
        stream: &StreamKey,
        started: bool,
        now: u64,
    ) -> Option<StateChange> {
        if self.everyone && started && !self.streams.contains_key(stream) {
            self.streams.insert(stream.clone(), Slot::default());
        }
        let slot = self.streams.get_mut(stream)?;
        if slot.started == started {
            return None;
        }
        slot.started = started;
        slot.reference = None;
        slot.stale = slot.busy;
        self.update_idle(now);
        Some(StateChange {
            stream: stream.clone(),
            started,
        })
    }

    /// `UpdateSnapshot`: a new interval takes effect from the last tick (`now` if that is
    /// already past); new targets replace the old ones, keeping the counters of streams that
    /// stay; a new MaxIdleTime counts from when the task became idle.
    pub fn update(
        &mut self,
        interval_s: Option<u32>,
        targets: Option<(&[TargetStream], &[StreamKey])>,
        max_idle_s: Option<u32>,
        now: u64,
    ) {
        if let Some(i) = interval_s {
            let last_tick = self.next_tick.saturating_sub(self.interval_ms);
            self.interval_ms = u64::from(i.max(1)) * 1000;
            self.next_tick = (last_tick + self.interval_ms).max(now);
        }
        if let Some((targets, started)) = targets {
            self.everyone = targets.is_empty();
            self.set_targets(targets, started, now);
        }
        if let Some(m) = max_idle_s {
            self.max_idle_ms = u64::from(m) * 1000;
        }
    }

    /// Totals over every stream the task has had.
    pub fn counts(&self) -> Counts {
        self.streams
            .values()
            .chain(self.leaving.values())
            .fold(self.retired, |c, s| c.plus(s))
    }

    /// One stream's counters.
    pub fn stream_counts(&self, stream: &StreamKey) -> Option<Counts> {
        self.streams.get(stream).map(|s| Counts {
            images: s.images,
            skipped: s.skipped,
            failed: s.failed,
            unchanged: s.unchanged,
        })
    }

    /// The `Index` a target stream was given in the StreamList.
    pub fn index(&self, stream: &StreamKey) -> Option<u32> {
        self.streams.get(stream).and_then(|s| s.index)
    }

    /// Captures still running.
    pub fn busy(&self) -> usize {
        self.streams.values().filter(|s| s.busy).count() + self.leaving.len()
    }

    pub fn interval_s(&self) -> u32 {
        (self.interval_ms / 1000) as u32
    }

    pub fn max_idle_s(&self) -> u32 {
        (self.max_idle_ms / 1000) as u32
    }

    fn set_targets(&mut self, targets: &[TargetStream], started: &[StreamKey], now: u64) {
        let mut old = std::mem::take(&mut self.streams);
        old.append(&mut self.leaving);
        let wanted: VecMap<StreamKey, Option<u32>> = if targets.is_empty() {
            // Everyone: the streams it already knew, and those started now.
            old.keys()
                .chain(started)
                .map(|k| (k.clone(), None))
                .collect()
        } else {
            targets
                .iter()
                .map(|t| {
                    let key = StreamKey {
                        user_id: t.user_id.clone(),
                        stream_type: t.stream_type,
                    };
                    (key, t.index)
                })
                .collect()
        };
        for (key, index) in wanted {
            let mut slot = old.remove(&key).unwrap_or_default();
            slot.started = started.contains(&key);
            slot.index = index;
            self.streams.insert(key, slot);
        }
        for (key, slot) in old {
            if slot.busy {
                // Its capture still runs: it is counted when it finishes.
                self.leaving.insert(key, slot);
            } else {
                self.retired = self.retired.plus(&slot);
            }
        }
        self.update_idle(now);
    }

    fn update_idle(&mut self, now: u64) {
        let any_started = self.streams.values().any(|s| s.started);
        if any_started {
            self.idle_since = None;
        } else if self.idle_since.is_none() {
            self.idle_since = Some(now);
        }
    }
}
