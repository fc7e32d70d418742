//! The Lua scripts of [`super::RedisStore`] and the Redis keys they touch, kept apart from the store so the
//! key layout (see `redis.rs`) and the order each script expects its KEYS in are written down once.

use ::redis::{Script, ScriptInvocation};

/// The prefix of every key.
pub(super) const PREFIX: &str = "easymlserve:";
/// Every kept job, scored `+inf` while it runs and by its expiry time (ms) once over.
pub(super) const INDEX: &str = "easymlserve:jobs";
/// The bytes each kept job takes.
const SIZES: &str = "easymlserve:sizes";
/// The bytes all kept jobs take.
const BYTES: &str = "easymlserve:bytes";

/// The scripts (`redis/*.lua`, each says its KEYS and ARGV), hashed once; `invoke_async` sends EVALSHA and
/// loads a script Redis does not know (after a restart).
pub(super) struct Scripts {
    pub(super) create: Script,
    pub(super) update: Script,
    pub(super) delete: Script,
    pub(super) cancel: Script,
    pub(super) renew: Script,
    pub(super) hand_back: Script,
    pub(super) claim: Script,
}

impl Scripts {
    /// Every script, from the `.lua` files next to this one.
    pub(super) fn load() -> Self {
        Self {
            create: Script::new(include_str!("create.lua")),
            update: Script::new(include_str!("update.lua")),
            delete: Script::new(include_str!("delete.lua")),
            cancel: Script::new(include_str!("cancel.lua")),
            renew: Script::new(include_str!("renew.lua")),
            hand_back: Script::new(include_str!("handback.lua")),
            claim: Script::new(include_str!("claim.lua")),
        }
    }
}

/// The keys of one job.
pub(super) struct Keys {
    pub(super) state: String,
    pub(super) request: String,
    pub(super) events: String,
    pub(super) lease: String,
    pub(super) cancel: String,
}

impl Keys {
    pub(super) fn of(id: &str) -> Self {
        let state = format!("{PREFIX}job:{id}");
        Self {
            request: format!("{state}:request"),
            events: format!("{state}:events"),
            lease: format!("{state}:lease"),
            cancel: format!("{state}:cancel"),
            state,
        }
    }
}

/// Starts a call of `script` whose KEYS are `job` (keys of one job, in the script's order), then the index,
/// the byte count and the sizes hash, the order every script that counts bytes expects them in. The caller
/// adds what comes after (some scripts then take the request key) and the ARGV.
pub(super) fn counted<'a>(script: &'a Script, job: &[&str]) -> ScriptInvocation<'a> {
    let mut invocation = script.prepare_invoke();
    for key in job {
        invocation.key(*key);
    }
    invocation.key(INDEX).key(BYTES).key(SIZES);
    invocation
}
