//! What a *stream* is: a user's main or sub video.

/// NERTC's stream types: the main stream (camera) and the sub stream (screen share or a
/// second camera). JavaScript passes `"main"`/`"sub"` or NERTC's numbers 0/1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StreamType {
    Main = 0,
    Sub = 1,
}

impl StreamType {
    pub const BOTH: [StreamType; 2] = [StreamType::Main, StreamType::Sub];

    /// The name used in results and events.
    pub fn as_str(self) -> &'static str {
        match self {
            StreamType::Main => "main",
            StreamType::Sub => "sub",
        }
    }

    /// NERTC's number for the type (also the cloud APIs' `StreamType`).
    pub fn number(self) -> u8 {
        self as u8
    }

    /// This type's entry in a `[main, sub]` pair.
    pub(crate) fn slot<T>(self, pair: &[T; 2]) -> &T {
        let [main, sub] = pair;
        match self {
            StreamType::Main => main,
            StreamType::Sub => sub,
        }
    }

    /// This type's entry in a `[main, sub]` pair, to change.
    pub(crate) fn slot_mut<T>(self, pair: &mut [T; 2]) -> &mut T {
        let [main, sub] = pair;
        match self {
            StreamType::Main => main,
            StreamType::Sub => sub,
        }
    }
}

/// Whose stream: the local user's or a remote user's.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Owner {
    Local,
    Remote(String),
}

impl Owner {
    /// The key of this owner's `stream_type` stream: the local user's streams are named by the
    /// uid it joined with, so they have none before it joins.
    pub fn key(&self, stream_type: StreamType, local_uid: Option<&str>) -> Option<StreamKey> {
        let user_id = match self {
            Owner::Local => local_uid?.to_string(),
            Owner::Remote(uid) => uid.clone(),
        };
        Some(StreamKey {
            user_id,
            stream_type,
        })
    }
}

/// A stream as the periodic tasks name it (`TargetStreams`): the user and main/sub.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StreamKey {
    pub user_id: String,
    pub stream_type: StreamType,
}
