//! The call-timing state machine: every reachable state × every call, against a model written
//! from the table; and every call sequence up to length 5 against a second, history-based
//! reading of the same table.
#![cfg(not(target_arch = "wasm32"))]

use std::collections::{BTreeSet, VecDeque};

use tracksnap::core::error::Code;
use tracksnap::core::stream::StreamType::{self, Main, Sub};
use tracksnap::core::timing::{LocalState, Session};

const ME: &str = "1";
const PEER: &str = "7";
const STRANGER: &str = "99";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Call {
    StartPreview(StreamType, u32),
    StopPreview(StreamType),
    Join,
    Leave,
    Enable(StreamType, Option<u32>),
    Disable(StreamType),
    StartScreen(u32),
    StopScreen,
    UserStart(StreamType, u32),
    UserStop(StreamType),
    UserStartSelf,
    UserLeave,
    TakeLocal(StreamType),
    TakeRemote(StreamType),
    TakeStranger,
}

fn calls() -> Vec<Call> {
    use Call::*;
    let mut v = vec![
        Join,
        Leave,
        StartScreen(30),
        StopScreen,
        UserLeave,
        UserStartSelf,
        TakeStranger,
    ];
    for st in [Main, Sub] {
        let base = if st == Main { 10 } else { 20 };
        v.extend([
            StartPreview(st, base + 1),
            StopPreview(st),
            Enable(st, Some(base + 2)),
            Enable(st, None),
            Disable(st),
            UserStart(st, base + 3),
            UserStop(st),
            TakeLocal(st),
            TakeRemote(st),
        ]);
    }
    v
}

/// Applies a call; a snapshot call yields the track it would capture.
fn apply(s: &mut Session<u32>, call: Call) -> (Code, Option<u32>) {
    use Call::*;
    let r = match call {
        StartPreview(st, t) => s.start_video_preview(st, t).map(|_| None),
        StopPreview(st) => s.stop_video_preview(st).map(|_| None),
        Join => s.join_channel("room".into(), ME.into()).map(|_| None),
        Leave => s.leave_channel().map(|_| None),
        Enable(st, t) => s.enable_local_video(st, true, t).map(|_| None),
        Disable(st) => s.enable_local_video(st, false, None).map(|_| None),
        StartScreen(t) => s.start_screen_capture(t).map(|_| None),
        StopScreen => s.stop_screen_capture().map(|_| None),
        UserStart(st, t) => s.user_video_start(PEER.into(), st, t).map(|_| None),
        UserStop(st) => s.user_video_stop(PEER, st).map(|_| None),
        UserStartSelf => s.user_video_start(ME.into(), Main, 5).map(|_| None),
        UserLeave => s.user_leave(PEER).map(|_| None),
        TakeLocal(st) => s.local_track(st).map(|t| Some(*t)),
        TakeRemote(st) => s.remote_track(PEER, st).map(|t| Some(*t)),
        TakeStranger => s.remote_track(STRANGER, Main).map(|t| Some(*t)),
    };
    match r {
        Ok(t) => (Code::Ok, t),
        Err(e) => {
            assert!(!e.message.is_empty(), "{call:?} failed without a message");
            (e.code, None)
        }
    }
}

/// The observable state, read through the public queries.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Model {
    joined: bool,
    local: [LocalState; 2],
    /// The track each local stream would use (remembered while off).
    remembered: [Option<u32>; 2],
    remote: [Option<u32>; 2],
}

fn observe(s: &Session<u32>) -> Model {
    // The remembered track is observable through enableLocalVideo(type, true) without a
    // track on a clone of the session.
    let remembered = [Main, Sub].map(|st| {
        let mut probe = s.clone();
        if !probe.is_joined() {
            probe.join_channel("probe".into(), ME.into()).unwrap();
        }
        probe
            .enable_local_video(st, true, None)
            .ok()
            .map(|_| *probe.local_track(st).unwrap())
    });
    let remote = [Main, Sub].map(|st| s.remote_track(PEER, st).ok().copied());
    Model {
        joined: s.is_joined(),
        local: [s.local_state(Main), s.local_state(Sub)],
        remembered,
        remote,
    }
}

/// The table, restated as a model.
fn expected(m: &Model, call: Call) -> (Code, Option<u32>, Model) {
    use Call::*;
    let mut n = m.clone();
    let i = |st: StreamType| st as usize;
    let op = Code::InvalidOperation;
    let ok = |n: Model| (Code::Ok, None, n);
    match call {
        StartPreview(st, t) if !m.joined => {
            n.local[i(st)] = LocalState::Preview;
            n.remembered[i(st)] = Some(t);
            ok(n)
        }
        StopPreview(st) if !m.joined => {
            n.local[i(st)] = LocalState::Off;
            ok(n)
        }
        StartPreview(..) | StopPreview(_) => (op, None, n),
        Join if !m.joined => {
            n.joined = true;
            n.local = [LocalState::Off; 2];
            ok(n)
        }
        Leave if m.joined => {
            n.joined = false;
            n.local = [LocalState::Off; 2];
            n.remote = [None; 2];
            ok(n)
        }
        Join | Leave => (op, None, n),
        _ if !m.joined && !matches!(call, TakeLocal(_)) => (op, None, n),
        Enable(st, t) => match t.or(m.remembered[i(st)]) {
            Some(t) => {
                n.local[i(st)] = LocalState::Published;
                n.remembered[i(st)] = Some(t);
                ok(n)
            }
            None => (Code::InvalidParam, None, n),
        },
        StartScreen(t) => {
            n.local[1] = LocalState::Published;
            n.remembered[1] = Some(t);
            ok(n)
        }
        Disable(st) => {
            n.local[i(st)] = LocalState::Off;
            ok(n)
        }
        StopScreen => {
            n.local[1] = LocalState::Off;
            ok(n)
        }
        UserStart(st, t) => {
            n.remote[i(st)] = Some(t);
            ok(n)
        }
        UserStop(st) => {
            n.remote[i(st)] = None;
            ok(n)
        }
        UserStartSelf => (Code::InvalidParam, None, n),
        UserLeave => {
            n.remote = [None; 2];
            ok(n)
        }
        TakeLocal(st) => {
            let want = if m.joined {
                LocalState::Published
            } else {
                LocalState::Preview
            };
            if m.local[i(st)] == want {
                (Code::Ok, m.remembered[i(st)], n)
            } else {
                (op, None, n)
            }
        }
        TakeRemote(st) => match m.remote[i(st)] {
            Some(t) => (Code::Ok, Some(t), n),
            None => (op, None, n),
        },
        TakeStranger => (op, None, n),
    }
}

#[test]
fn every_reachable_state_times_every_call_matches_the_table() {
    let mut seen = BTreeSet::new();
    let mut queue = VecDeque::from([Session::<u32>::new()]);
    let mut pairs = 0;
    while let Some(s) = queue.pop_front() {
        let m = observe(&s);
        if !seen.insert(m.clone()) {
            continue;
        }
        for call in calls() {
            let mut next = s.clone();
            let (code, track) = apply(&mut next, call);
            let (want_code, want_track, want_model) = expected(&m, call);
            assert_eq!(code, want_code, "code of {call:?} in {m:?}");
            assert_eq!(track, want_track, "track of {call:?} in {m:?}");
            assert_eq!(observe(&next), want_model, "state after {call:?} in {m:?}");
            if code != Code::Ok {
                assert_eq!(observe(&next), m, "a refused {call:?} changed the state");
            }
            pairs += 1;
            queue.push_back(next);
        }
    }
    // Idle and joined states with every local state, remembered track and remote stream:
    // if the machine lost a state, this count drops.
    println!("{} reachable states × {} calls", seen.len(), calls().len());
    assert!(seen.len() > 100, "only {} states reached", seen.len());
    assert_eq!(pairs, seen.len() * calls().len());
}

/// A second reading of the table, from the history of calls rather than from a state:
/// a snapshot is allowed iff the last call that could change its stream's permission,
/// since the last join or leave, granted it.
fn allowed_by_history(history: &[Call], target: Call) -> bool {
    use Call::*;
    let mut joined = false;
    let mut grant: Option<bool> = None;
    let mut remembered = [false; 2];
    for &c in history {
        match c {
            Join if !joined => {
                joined = true;
                if matches!(target, TakeLocal(_)) {
                    grant = Some(false);
                }
            }
            Leave if joined => {
                joined = false;
                grant = Some(false);
            }
            StartPreview(st, _) if !joined => {
                remembered[st as usize] = true;
                if target == TakeLocal(st) {
                    grant = Some(true);
                }
            }
            StopPreview(st) if !joined && target == TakeLocal(st) => grant = Some(false),
            Enable(st, t) if joined && (t.is_some() || remembered[st as usize]) => {
                remembered[st as usize] = true;
                if target == TakeLocal(st) {
                    grant = Some(true);
                }
            }
            Disable(st) if joined && target == TakeLocal(st) => grant = Some(false),
            StartScreen(_) if joined => {
                remembered[1] = true;
                if target == TakeLocal(Sub) {
                    grant = Some(true);
                }
            }
            StopScreen if joined && target == TakeLocal(Sub) => grant = Some(false),
            UserStart(st, _) if joined && target == TakeRemote(st) => grant = Some(true),
            UserStop(st) if joined && target == TakeRemote(st) => grant = Some(false),
            UserLeave if joined && matches!(target, TakeRemote(_)) => grant = Some(false),
            _ => {}
        }
    }
    grant == Some(true)
}

#[test]
fn every_sequence_up_to_five_calls_agrees_with_the_history_reading() {
    use Call::*;
    // A smaller alphabet keeps 5-call sequences at ~1.4 million.
    let alphabet = [
        Join,
        Leave,
        StartPreview(Main, 11),
        StopPreview(Main),
        Enable(Main, None),
        Enable(Sub, Some(22)),
        Disable(Main),
        StartScreen(30),
        StopScreen,
        UserStart(Main, 13),
        UserStop(Main),
        UserLeave,
    ];
    let targets = [TakeLocal(Main), TakeLocal(Sub), TakeRemote(Main)];
    let mut seq = Vec::new();
    let mut checked = 0u64;
    fn walk(
        s: &Session<u32>,
        seq: &mut Vec<Call>,
        alphabet: &[Call],
        targets: &[Call],
        checked: &mut u64,
    ) {
        for &t in targets {
            let (code, _) = apply(&mut s.clone(), t);
            let want = allowed_by_history(seq, t);
            assert_eq!(code == Code::Ok, want, "{t:?} after {seq:?}");
            *checked += 1;
        }
        if seq.len() == 5 {
            return;
        }
        for &c in alphabet {
            let mut next = s.clone();
            apply(&mut next, c);
            seq.push(c);
            walk(&next, seq, alphabet, targets, checked);
            seq.pop();
        }
    }
    walk(&Session::new(), &mut seq, &alphabet, &targets, &mut checked);
    println!("{checked} snapshot checks over every sequence of up to 5 calls");
    assert!(checked > 600_000);
}

#[test]
fn stream_changes_report_what_started_and_stopped() {
    use tracksnap::core::stream::Owner;
    let mut s = Session::<u32>::new();
    let c = s.start_video_preview(Main, 1).unwrap();
    assert_eq!((c.len(), c[0].started), (1, true));
    assert!(
        s.start_video_preview(Main, 2).unwrap().is_empty(),
        "a new track is no restart"
    );
    let c = s.join_channel("room".into(), ME.into()).unwrap();
    assert_eq!(
        (c.len(), c[0].owner.clone(), c[0].started),
        (1, Owner::Local, false)
    );
    s.user_video_start(PEER.into(), Main, 3).unwrap();
    s.user_video_start(PEER.into(), Sub, 4).unwrap();
    assert_eq!(s.started_streams().len(), 2);
    let c = s.user_leave(PEER).unwrap();
    assert_eq!(c.len(), 2);
    assert!(c
        .iter()
        .all(|c| !c.started && c.owner == Owner::Remote(PEER.into())));
    assert!(
        s.user_leave(PEER).unwrap().is_empty(),
        "a repeated leave changes nothing"
    );
}

#[test]
fn errors_name_the_call_to_make() {
    let mut s = Session::<u32>::new();
    let e = s.local_track(Main).unwrap_err();
    assert!(e.message.contains("startVideoPreview"), "{}", e.message);
    s.join_channel("room".into(), ME.into()).unwrap();
    let e = s.local_track(Sub).unwrap_err();
    assert!(e.message.contains("startScreenCapture"), "{}", e.message);
    let e = s.remote_track(PEER, Sub).unwrap_err();
    assert!(e.message.contains(PEER), "{}", e.message);
    let e = s.join_channel("other".into(), "2".into()).unwrap_err();
    assert!(e.message.contains("leaveChannel"), "{}", e.message);
}
