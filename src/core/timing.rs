//! The call-timing rules of NERTC's snapshot calls, as a pure state machine.
//!
//! | snapshot of            | allowed after                                         | until                                      |
//! |------------------------|-------------------------------------------------------|--------------------------------------------|
//! | local main, before join| `startVideoPreview(main)`                             | `stopVideoPreview(main)`, `joinChannel`    |
//! | local sub, before join | `startVideoPreview(sub)`                              | `stopVideoPreview(sub)`, `joinChannel`     |
//! | local main, after join | `enableLocalVideo(main, true)`                        | `enableLocalVideo(main, false)`, `leaveChannel` |
//! | local sub, after join  | `enableLocalVideo(sub, true)` or `startScreenCapture` | either stop, `leaveChannel`                |
//! | remote main of uid     | `onUserVideoStart(uid)`                               | `onUserVideoStop(uid)`, `onUserLeave(uid)`, `leaveChannel` |
//! | remote sub of uid      | `onUserSubStreamVideoStart(uid)`                      | `onUserSubStreamVideoStop(uid)`, `onUserLeave(uid)`, `leaveChannel` |
//!
//! Decisions where the SDK is silent:
//! - Joining ends a running preview: after joining, local snapshots follow `enableLocalVideo`,
//!   as in the table. The preview's track is remembered, so `enableLocalVideo(type, true)`
//!   without a track publishes it.
//! - Preview calls belong before joining; control calls for a channel (`enableLocalVideo`,
//!   screen capture, remote-user events, `leaveChannel`) belong after. Out of place they give
//!   `ERR_INVALID_OPERATION`.
//! - Stopping something that is not running, in the state where the stop belongs, succeeds
//!   (forwarded SDK events may repeat).
//! - The sub stream is one slot: `stopScreenCapture` and `enableLocalVideo(sub, false)` both end it.
//!
//! `T` is whatever the caller keeps per stream (a `MediaStreamTrack` in the browser, a number
//! in tests), so the permission and the track can never disagree.

use super::map::VecMap;

use super::error::{Error, Result};
use super::stream::{Owner, StreamType};

/// Where a local stream is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LocalState {
    Off,
    /// Started by `startVideoPreview` before joining.
    Preview,
    /// Started by `enableLocalVideo` or `startScreenCapture` after joining.
    Published,
}

#[derive(Debug, Clone)]
struct LocalSlot<T> {
    state: LocalState,
    /// The last track given for this stream; kept while the stream is off so that
    /// `enableLocalVideo(type, true)` can reuse it.
    track: Option<T>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Joined {
    channel: String,
    uid: String,
}

/// A stream that started or stopped as the result of one call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamChange {
    pub owner: Owner,
    pub stream_type: StreamType,
    pub started: bool,
}

/// The channel and every stream the engine may take a snapshot of.
#[derive(Debug, Clone)]
pub struct Session<T> {
    joined: Option<Joined>,
    local: [LocalSlot<T>; 2],
    remote: VecMap<String, [Option<T>; 2]>,
}

impl<T: Clone> Default for Session<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Clone> Session<T> {
    pub fn new() -> Self {
        Session {
            joined: None,
            local: [
                LocalSlot {
                    state: LocalState::Off,
                    track: None,
                },
                LocalSlot {
                    state: LocalState::Off,
                    track: None,
                },
            ],
            remote: VecMap::new(),
        }
    }

    // ----- queries -------------------------------------------------------------------------

    pub fn is_joined(&self) -> bool {
        self.joined.is_some()
    }

    /// The joined channel's name.
    pub fn channel(&self) -> Option<&str> {
        self.joined.as_ref().map(|j| j.channel.as_str())
    }

    /// The local user's uid while joined.
    pub fn local_uid(&self) -> Option<&str> {
        self.joined.as_ref().map(|j| j.uid.as_str())
    }

    pub fn local_state(&self, stream_type: StreamType) -> LocalState {
        stream_type.slot(&self.local).state
    }

    /// Which of a remote user's streams are started (`[main, sub]`); `None` for an unknown user.
    pub fn remote_streams(&self, uid: &str) -> Option<[bool; 2]> {
        self.remote
            .get(uid)
            .map(|s| [s[0].is_some(), s[1].is_some()])
    }

    /// Every track a snapshot may be taken of now (local and remote).
    pub fn live_tracks(&self) -> Vec<&T> {
        let local = [StreamType::Main, StreamType::Sub]
            .into_iter()
            .filter_map(|st| self.local_track(st).ok());
        let remote = self.remote.values().flatten().flatten();
        local.chain(remote).collect()
    }

    /// The track of a local stream, if a snapshot of it is allowed now.
    pub fn local_track(&self, stream_type: StreamType) -> Result<&T> {
        let slot = stream_type.slot(&self.local);
        let wanted = if self.is_joined() {
            LocalState::Published
        } else {
            LocalState::Preview
        };
        match (&slot.track, slot.state == wanted) {
            (Some(track), true) => Ok(track),
            _ if self.is_joined() => Err(Error::invalid_operation(format!(
                "the local {} stream is not started: after joining, call {} first",
                stream_type.as_str(),
                match stream_type {
                    StreamType::Main => "enableLocalVideo(\"main\", true, track)",
                    StreamType::Sub => "enableLocalVideo(\"sub\", true, track) or startScreenCapture(track)",
                }
            ))),
            _ => Err(Error::invalid_operation(format!(
                "the local {0} stream is not started: before joining, call startVideoPreview(\"{0}\", track) first",
                stream_type.as_str()
            ))),
        }
    }

    /// The track of a remote stream, if a snapshot of it is allowed now.
    pub fn remote_track(&self, uid: &str, stream_type: StreamType) -> Result<&T> {
        if !self.is_joined() {
            return Err(Error::invalid_operation(
                "remote snapshots need a joined channel: call joinChannel first",
            ));
        }
        let user = self.remote.get(uid).ok_or_else(|| {
            Error::invalid_operation(format!("remote user {uid} has no started video stream"))
        })?;
        stream_type.slot(user).as_ref().ok_or_else(|| {
            Error::invalid_operation(format!(
                "the {} stream of remote user {uid} is not started (wait for {})",
                stream_type.as_str(),
                match stream_type {
                    StreamType::Main => "onUserVideoStart",
                    StreamType::Sub => "onUserSubStreamVideoStart",
                }
            ))
        })
    }

    /// Every stream a snapshot may be taken of now, with its track.
    pub fn started_streams(&self) -> Vec<(Owner, StreamType, T)> {
        let mut out = Vec::new();
        for st in StreamType::BOTH {
            if let Ok(track) = self.local_track(st) {
                out.push((Owner::Local, st, track.clone()));
            }
        }
        for (uid, streams) in &self.remote {
            for st in StreamType::BOTH {
                if let Some(track) = st.slot(streams) {
                    out.push((Owner::Remote(uid.clone()), st, track.clone()));
                }
            }
        }
        out
    }

    // ----- calls -----------------------------------------------------------------------------

    pub fn start_video_preview(
        &mut self,
        stream_type: StreamType,
        track: T,
    ) -> Result<Vec<StreamChange>> {
        self.require_idle("startVideoPreview", "enableLocalVideo")?;
        let slot = stream_type.slot_mut(&mut self.local);
        let was_on = slot.state == LocalState::Preview;
        slot.state = LocalState::Preview;
        slot.track = Some(track);
        Ok(local_change(stream_type, true, was_on))
    }

    pub fn stop_video_preview(&mut self, stream_type: StreamType) -> Result<Vec<StreamChange>> {
        self.require_idle("stopVideoPreview", "enableLocalVideo")?;
        Ok(self.local_off(stream_type))
    }

    pub fn join_channel(&mut self, channel: String, uid: String) -> Result<Vec<StreamChange>> {
        if let Some(j) = &self.joined {
            return Err(Error::invalid_operation(format!(
                "already joined channel {} as {}: call leaveChannel first",
                j.channel, j.uid
            )));
        }
        // Joining ends the previews (their tracks are remembered for enableLocalVideo).
        let mut changes = Vec::new();
        for st in StreamType::BOTH {
            changes.extend(self.local_off(st));
        }
        self.joined = Some(Joined { channel, uid });
        Ok(changes)
    }

    pub fn leave_channel(&mut self) -> Result<Vec<StreamChange>> {
        self.require_joined("leaveChannel")?;
        let mut changes = Vec::new();
        for st in StreamType::BOTH {
            changes.extend(self.local_off(st));
        }
        for (uid, streams) in std::mem::take(&mut self.remote) {
            changes.extend(remote_stopped(&uid, &streams));
        }
        self.joined = None;
        Ok(changes)
    }

    /// `track` may be `None` when enabling: the stream's remembered track is used.
    pub fn enable_local_video(
        &mut self,
        stream_type: StreamType,
        enabled: bool,
        track: Option<T>,
    ) -> Result<Vec<StreamChange>> {
        self.require_joined("enableLocalVideo")?;
        if !enabled {
            return Ok(self.local_off(stream_type));
        }
        let slot = stream_type.slot_mut(&mut self.local);
        let track = match track.or_else(|| slot.track.clone()) {
            Some(t) => t,
            None => {
                return Err(Error::invalid_param(format!(
                    "enableLocalVideo(\"{}\", true) needs a track: none was given and none was used before",
                    stream_type.as_str()
                )))
            }
        };
        let was_on = slot.state == LocalState::Published;
        slot.state = LocalState::Published;
        slot.track = Some(track);
        Ok(local_change(stream_type, true, was_on))
    }

    pub fn start_screen_capture(&mut self, track: T) -> Result<Vec<StreamChange>> {
        self.require_joined("startScreenCapture")?;
        self.enable_local_video(StreamType::Sub, true, Some(track))
    }

    pub fn stop_screen_capture(&mut self) -> Result<Vec<StreamChange>> {
        self.require_joined("stopScreenCapture")?;
        Ok(self.local_off(StreamType::Sub))
    }

    pub fn user_video_start(
        &mut self,
        uid: String,
        stream_type: StreamType,
        track: T,
    ) -> Result<Vec<StreamChange>> {
        let event = start_event_name(stream_type);
        self.require_joined(event)?;
        if self.local_uid() == Some(uid.as_str()) {
            return Err(Error::invalid_param(format!(
                "{event}: uid {uid} is the local user's own uid"
            )));
        }
        let streams = self.remote.get_or_insert_with(uid.clone(), || [None, None]);
        let was_on = stream_type.slot_mut(streams).replace(track).is_some();
        Ok(if was_on {
            Vec::new()
        } else {
            vec![StreamChange {
                owner: Owner::Remote(uid),
                stream_type,
                started: true,
            }]
        })
    }

    pub fn user_video_stop(
        &mut self,
        uid: &str,
        stream_type: StreamType,
    ) -> Result<Vec<StreamChange>> {
        self.require_joined(match stream_type {
            StreamType::Main => "onUserVideoStop",
            StreamType::Sub => "onUserSubStreamVideoStop",
        })?;
        let Some(streams) = self.remote.get_mut(uid) else {
            return Ok(Vec::new());
        };
        let was_on = stream_type.slot_mut(streams).take().is_some();
        if streams.iter().all(Option::is_none) {
            self.remote.remove(uid);
        }
        Ok(if was_on {
            vec![StreamChange {
                owner: Owner::Remote(uid.to_string()),
                stream_type,
                started: false,
            }]
        } else {
            Vec::new()
        })
    }

    pub fn user_leave(&mut self, uid: &str) -> Result<Vec<StreamChange>> {
        self.require_joined("onUserLeave")?;
        Ok(match self.remote.remove(uid) {
            Some(streams) => remote_stopped(uid, &streams),
            None => Vec::new(),
        })
    }

    // ----- helpers ---------------------------------------------------------------------------

    fn local_off(&mut self, stream_type: StreamType) -> Vec<StreamChange> {
        let slot = stream_type.slot_mut(&mut self.local);
        let was_on = slot.state != LocalState::Off;
        slot.state = LocalState::Off;
        if was_on {
            vec![StreamChange {
                owner: Owner::Local,
                stream_type,
                started: false,
            }]
        } else {
            Vec::new()
        }
    }

    fn require_idle(&self, call: &str, instead: &str) -> Result<()> {
        match &self.joined {
            Some(j) => Err(Error::invalid_operation(format!(
                "{call} is for before joining; in channel {} use {instead}",
                j.channel
            ))),
            None => Ok(()),
        }
    }

    fn require_joined(&self, call: &str) -> Result<()> {
        if self.is_joined() {
            Ok(())
        } else {
            Err(Error::invalid_operation(format!(
                "{call} needs a joined channel: call joinChannel first"
            )))
        }
    }
}

fn start_event_name(stream_type: StreamType) -> &'static str {
    match stream_type {
        StreamType::Main => "onUserVideoStart",
        StreamType::Sub => "onUserSubStreamVideoStart",
    }
}

fn local_change(stream_type: StreamType, started: bool, was_on: bool) -> Vec<StreamChange> {
    if was_on {
        // A new track for a running stream: it never stopped.
        Vec::new()
    } else {
        vec![StreamChange {
            owner: Owner::Local,
            stream_type,
            started,
        }]
    }
}

fn remote_stopped<T>(uid: &str, streams: &[Option<T>; 2]) -> Vec<StreamChange> {
    StreamType::BOTH
        .into_iter()
        .filter(|st| st.slot(streams).is_some())
        .map(|stream_type| StreamChange {
            owner: Owner::Remote(uid.to_string()),
            stream_type,
            started: false,
        })
        .collect()
}
