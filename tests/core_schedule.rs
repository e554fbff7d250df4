//! The periodic scheduler with an injected clock: interval, no overlap, skip counting, idle
//! stop, stop/resume, no drift, updates.
#![cfg(not(target_arch = "wasm32"))]

use tracksnap::core::schedule::{Schedule, StateChange};
use tracksnap::core::stream::StreamType::{self, Main, Sub};
use tracksnap::core::stream::{Owner, StreamKey};
use tracksnap::core::task::TargetStream;

fn key(user: &str, st: StreamType) -> StreamKey {
    StreamKey {
        user_id: user.into(),
        stream_type: st,
    }
}

fn target(user: &str, st: StreamType, index: Option<u32>) -> TargetStream {
    TargetStream {
        user_id: user.into(),
        stream_type: st,
        index,
    }
}

/// Drives a schedule like the engine does: wake at `next_wakeup() + late(n)`, poll, and
/// finish each capture `capture_ms` later. Returns (capture start times per stream, idle time).
fn drive(
    s: &mut Schedule,
    until: u64,
    capture_ms: u64,
    mut late: impl FnMut(u64) -> u64,
) -> (Vec<(StreamKey, u64)>, Option<u64>) {
    let mut captures = Vec::new();
    let mut running: Vec<(StreamKey, u64)> = Vec::new();
    let mut wake = 0;
    let mut n = 0;
    loop {
        let next_finish = running.iter().map(|r| r.1).min();
        let next = s.next_wakeup() + late(n);
        let now = next_finish.map_or(next, |f| f.min(next));
        if now > until {
            return (captures, None);
        }
        assert!(now >= wake, "time runs forward");
        wake = now;
        running.retain(|(k, done)| {
            if *done <= now {
                s.finished(k, true);
                false
            } else {
                true
            }
        });
        if next_finish.is_some_and(|f| f == now) && now < next {
            continue;
        }
        n += 1;
        let p = s.poll(now);
        if p.idle {
            return (captures, Some(now));
        }
        for k in p.capture {
            assert!(
                !running.iter().any(|(r, _)| *r == k),
                "{k:?} captured while busy"
            );
            captures.push((k.clone(), now));
            running.push((k, now + capture_ms));
        }
    }
}

#[test]
fn one_image_per_stream_per_interval() {
    let started = [key("a", Main), key("a", Sub), key("b", Main)];
    let mut s = Schedule::new(&[], &started, 1, 180, 0);
    let (caps, idle) = drive(&mut s, 10_000, 50, |_| 0);
    assert_eq!(idle, None);
    for k in &started {
        let times: Vec<u64> = caps.iter().filter(|(c, _)| c == k).map(|c| c.1).collect();
        assert_eq!(
            times,
            (0..=10).map(|i| i * 1000).collect::<Vec<_>>(),
            "{k:?}"
        );
    }
    let c = s.counts();
    assert_eq!(
        (c.images, s.busy(), c.skipped, c.failed),
        (30, 3, 0, 0),
        "the last three still run"
    );
}

#[test]
fn a_slow_capture_skips_ticks_and_never_overlaps() {
    let started = [key("a", Main)];
    let mut s = Schedule::new(&[], &started, 1, 180, 0);
    // Each capture takes 2.5 s: ticks at 1 s and 2 s find it busy.
    let (caps, _) = drive(&mut s, 9_999, 2_500, |_| 0);
    let times: Vec<u64> = caps.iter().map(|c| c.1).collect();
    assert_eq!(times, vec![0, 3000, 6000, 9000]);
    let c = s.stream_counts(&started[0]).unwrap();
    assert_eq!(c.skipped, 6, "ticks 1, 2, 4, 5, 7, 8");
    // Every tick is accounted for: 10 ticks = images + skipped + still busy.
    assert_eq!(c.images + c.skipped + s.busy() as u64, 10);
}

#[test]
fn no_drift_over_ten_minutes_of_late_timers() {
    let started = [key("a", Main)];
    let mut s = Schedule::new(&[], &started, 1, 180, 0);
    // Every wake-up is 0–300 ms late (a busy main thread, a throttled timer).
    let mut x: u64 = 7;
    let (caps, _) = drive(&mut s, 600_300, 20, |_| {
        x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        (x >> 33) % 300
    });
    assert_eq!(
        caps.len(),
        601,
        "one capture per second, none lost, none extra"
    );
    for (i, (_, t)) in caps.iter().enumerate() {
        let due = i as u64 * 1000;
        assert!(
            *t >= due && *t < due + 300,
            "capture {i} at {t} ms drifted from {due} ms"
        );
    }
    assert_eq!(s.counts().skipped, 0);
}

#[test]
fn a_timer_that_sleeps_through_ticks_skips_them_and_stays_on_the_grid() {
    let mut s = Schedule::new(&[], &[key("a", Main)], 2, 180, 0);
    assert_eq!(s.poll(0).capture.len(), 1);
    s.finished(&key("a", Main), true);
    // A hidden tab's timer fires 9.5 s late: ticks at 2, 4, 6, 8 s are gone; 10 s is next.
    let p = s.poll(9_500);
    assert_eq!(p.capture.len(), 1, "one capture now, no burst");
    s.finished(&key("a", Main), true);
    assert_eq!(
        s.counts().skipped,
        3,
        "the ticks at 4, 6 and 8 s (2 s is the one just taken)"
    );
    assert_eq!(s.next_wakeup(), 10_000, "back on the 2 s grid");
}

#[test]
fn stopped_streams_are_skipped_and_resume() {
    let a = key("a", Main);
    let b = key("b", Main);
    let targets = [target("a", Main, Some(0)), target("b", Main, Some(1))];
    let mut s = Schedule::new(&targets, &[a.clone(), b.clone()], 1, 180, 0);
    assert_eq!(s.poll(0).capture, vec![a.clone(), b.clone()]);
    s.finished(&a, true);
    s.finished(&b, true);
    assert_eq!(
        s.stream_changed(&b, false, 500),
        Some(StateChange {
            stream: b.clone(),
            started: false
        })
    );
    assert_eq!(
        s.stream_changed(&b, false, 600),
        None,
        "a repeated stop is no change"
    );
    assert_eq!(s.poll(1000).capture, vec![a.clone()], "a is unaffected");
    s.finished(&a, true);
    assert_eq!(s.stream_counts(&b).unwrap().skipped, 1);
    assert!(s.stream_changed(&b, true, 1500).is_some_and(|c| c.started));
    assert_eq!(
        s.poll(2000).capture,
        vec![a.clone(), b.clone()],
        "b resumes on the next tick"
    );
    // Streams outside the targets do not concern the task.
    assert_eq!(s.stream_changed(&key("c", Main), true, 2100), None);
    assert_eq!(s.index(&b), Some(1));
}

#[test]
fn everyone_tasks_take_streams_that_start_later() {
    let mut s = Schedule::new(&[], &[], 1, 180, 0);
    assert!(s.poll(0).capture.is_empty());
    let late = key("late-user", Sub);
    assert!(s.stream_changed(&late, true, 300).is_some());
    assert_eq!(s.poll(1000).capture, vec![late.clone()]);
}

#[test]
fn idle_stop_after_max_idle_time() {
    let a = key("a", Main);
    let mut s = Schedule::new(
        &[target("a", Main, None)],
        std::slice::from_ref(&a),
        1,
        5,
        0,
    );
    s.poll(0);
    s.finished(&a, true);
    s.stream_changed(&a, false, 1_200);
    assert_eq!(s.next_wakeup(), 1_000, "ticks go on while idle");
    assert!(
        !s.poll(6_200).idle,
        "5 s idle is not yet longer than MaxIdleTime"
    );
    assert!(s.poll(6_201).idle);

    // A stream that comes back in time resets the idle clock.
    let mut s = Schedule::new(
        &[target("a", Main, None)],
        std::slice::from_ref(&a),
        1,
        5,
        0,
    );
    s.stream_changed(&a, false, 1_000);
    s.stream_changed(&a, true, 5_000);
    s.stream_changed(&a, false, 5_500);
    assert!(!s.poll(10_000).idle);
    assert!(s.poll(10_501).idle);

    // A task with no started stream at all is idle from the start.
    let mut s = Schedule::new(&[], &[], 2, 3, 100);
    assert_eq!(s.next_wakeup(), 100);
    s.poll(100);
    assert_eq!(s.next_wakeup(), 2_100, "the next tick comes first");
    assert!(!s.poll(3_100).idle);
    assert!(s.poll(3_101).idle);
}

#[test]
fn updates_change_interval_targets_and_idle_time() {
    let a = key("a", Main);
    let b = key("b", Sub);
    let mut s = Schedule::new(
        &[target("a", Main, None)],
        &[a.clone(), b.clone()],
        1,
        180,
        0,
    );
    s.poll(0);
    s.finished(&a, true);
    s.poll(1000);
    // The capture at 1 s is still running when the interval becomes 3 s.
    s.update(Some(3), None, None, 1_200);
    assert_eq!(s.next_wakeup(), 4_000, "3 s after the last tick");
    assert_eq!(s.interval_s(), 3);
    // New targets: b instead of a, while a's capture still runs.
    s.update(
        None,
        Some((&[target("b", Sub, Some(7))], &[a.clone(), b.clone()])),
        Some(60),
        1_300,
    );
    assert_eq!(s.max_idle_s(), 60);
    assert_eq!(s.index(&b), Some(7));
    assert_eq!(s.busy(), 1, "a's capture is still counted as running");
    assert_eq!(
        s.finished(&a, true),
        Some(2),
        "and counted when it finishes"
    );
    assert_eq!(s.poll(4_000).capture, vec![b.clone()]);
    let c = s.counts();
    assert_eq!(
        (c.images, c.skipped),
        (2, 0),
        "a's images stay in the totals"
    );
    // An everyone-task after an update keeps the streams it knew.
    s.update(None, Some((&[], std::slice::from_ref(&a))), None, 4_100);
    s.finished(&b, true);
    assert_eq!(s.poll(7_000).capture, vec![a.clone()]);
}

#[test]
fn seq_counts_images_of_the_task() {
    let a = key("a", Main);
    let b = key("b", Main);
    let mut s = Schedule::new(&[], &[a.clone(), b.clone()], 1, 180, 0);
    s.poll(0);
    assert_eq!(s.finished(&b, true), Some(1));
    assert_eq!(s.finished(&a, false), None, "a failed capture has no image");
    s.poll(1000);
    assert_eq!(s.finished(&a, true), Some(2));
    assert_eq!(
        s.finished(&key("zz", Main), true),
        None,
        "an unknown stream"
    );
    assert_eq!(s.counts().failed, 1);
}

#[test]
fn a_local_stream_has_a_key_once_joined() {
    assert_eq!(Owner::Local.key(Main, None), None, "not joined: no uid");
    assert_eq!(Owner::Local.key(Sub, Some("me")), Some(key("me", Sub)));
    assert_eq!(
        Owner::Remote("u2".into()).key(Main, None),
        Some(key("u2", Main)),
        "a remote stream has its uid"
    );
}

mod change {
    use super::*;
    use tracksnap::core::change::{Thumb, THUMB_LEN};

    fn thumb(v: u8) -> Thumb {
        Thumb::from_bytes(&[v; THUMB_LEN]).unwrap()
    }

    /// One started stream at Interval 1, polled at `now`: the stream it captures.
    fn tick(s: &mut Schedule, now: u64) -> StreamKey {
        let p = s.poll(now);
        assert_eq!(p.capture.len(), 1, "one capture at {now}");
        p.capture[0].clone()
    }

    #[test]
    fn unchanged_ticks_are_counted_apart_and_number_no_image() {
        let a = key("a", Main);
        let mut s = Schedule::new(&[], std::slice::from_ref(&a), 1, 60, 0);
        let k = tick(&mut s, 0);
        assert_eq!(
            s.reference(&k, "track-1"),
            None,
            "the first image has nothing to compare with"
        );
        s.set_reference(&k, thumb(10), "track-1");
        assert_eq!(s.finished(&k, true), Some(1));
        assert_eq!(s.reference(&k, "track-1"), Some(&thumb(10)));
        for t in [1000, 2000] {
            let k = tick(&mut s, t);
            s.finished_unchanged(&k);
        }
        let k = tick(&mut s, 3000);
        assert_eq!(s.busy(), 1);
        s.set_reference(&k, thumb(90), "track-1");
        assert_eq!(
            s.finished(&k, true),
            Some(2),
            "unchanged ticks take no {{seq}}"
        );
        assert_eq!(s.busy(), 0);
        let c = s.counts();
        assert_eq!((c.images, c.unchanged, c.skipped, c.failed), (2, 2, 0, 0));
        assert_eq!(s.stream_counts(&a).unwrap().unchanged, 2);
        assert_eq!(
            s.reference(&a, "track-1"),
            Some(&thumb(90)),
            "the last kept image"
        );
    }

    #[test]
    fn a_stream_that_resumes_or_changes_track_compares_with_nothing() {
        let a = key("a", Main);
        let mut s = Schedule::new(&[], std::slice::from_ref(&a), 1, 60, 0);
        let k = tick(&mut s, 0);
        s.set_reference(&k, thumb(10), "track-1");
        s.finished(&k, true);
        assert_eq!(s.reference(&a, "track-2"), None, "a replaced track");
        assert!(s.reference(&a, "track-1").is_some());
        s.stream_changed(&a, false, 500);
        s.stream_changed(&a, true, 600);
        assert_eq!(
            s.reference(&a, "track-1"),
            None,
            "resumed: the first image is kept"
        );

        // A capture in flight across a stop and resume keeps its image, but later ticks do
        // not compare with it.
        let k = tick(&mut s, 1000);
        s.stream_changed(&a, false, 1100);
        s.stream_changed(&a, true, 1200);
        s.set_reference(&k, thumb(20), "track-1");
        s.finished(&k, true);
        assert_eq!(s.reference(&a, "track-1"), None);
        let k = tick(&mut s, 2000);
        s.set_reference(&k, thumb(30), "track-1");
        s.finished(&k, true);
        assert_eq!(s.reference(&a, "track-1"), Some(&thumb(30)));
    }

    #[test]
    fn counters_of_streams_that_leave_keep_their_unchanged_ticks() {
        let (a, b) = (key("a", Main), key("b", Sub));
        let targets = [target("a", Main, None), target("b", Sub, None)];
        let mut s = Schedule::new(&targets, &[a.clone(), b.clone()], 1, 60, 0);
        let p = s.poll(0);
        assert_eq!(p.capture.len(), 2);
        s.finished_unchanged(&b);
        s.poll(1000);
        // b leaves the targets while its capture runs: counted when it finishes.
        s.update(
            None,
            Some((&targets[..1], &[a.clone(), b.clone()])),
            None,
            1100,
        );
        s.finished_unchanged(&b);
        s.finished(&a, true);
        let c = s.counts();
        assert_eq!((c.images, c.unchanged), (1, 2), "{c:?}");
    }
}
