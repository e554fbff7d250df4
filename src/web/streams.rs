//! The streams the engine knows (NERTC's call-timing session) and whether `destroy()` ended
//! the engine: what the engine, the snapshot runner and the periodic tasks all read.

use std::cell::{Cell, Ref, RefCell};

use web_sys::MediaStreamTrack;

use crate::core::error::Result;
use crate::core::timing::{Session, StreamChange};

pub(crate) struct Streams {
    session: RefCell<Session<MediaStreamTrack>>,
    destroyed: Cell<bool>,
}

impl Streams {
    pub(crate) fn new() -> Streams {
        Streams {
            session: RefCell::new(Session::new()),
            destroyed: Cell::new(false),
        }
    }

    /// The session, to read. Borrowed briefly: never across an await or caller code.
    pub(crate) fn session(&self) -> Ref<'_, Session<MediaStreamTrack>> {
        self.session.borrow()
    }

    /// Runs one call of the timing rules: the streams it started or stopped.
    pub(crate) fn change(
        &self,
        call: impl FnOnce(&mut Session<MediaStreamTrack>) -> Result<Vec<StreamChange>>,
    ) -> Result<Vec<StreamChange>> {
        call(&mut self.session.borrow_mut())
    }

    pub(crate) fn destroyed(&self) -> bool {
        self.destroyed.get()
    }

    /// `destroy()`: from now on nothing new starts. Whether it had happened already.
    pub(crate) fn mark_destroyed(&self) -> bool {
        self.destroyed.replace(true)
    }

    /// Forgets every stream and the channel (the page's tracks are not stopped).
    pub(crate) fn clear(&self) {
        *self.session.borrow_mut() = Session::new();
    }
}
