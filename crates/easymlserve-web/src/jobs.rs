//! The page's jobs: the prepared request of each job the GUI submitted, kept until its answer arrives so
//! `process_response` can render it, with who submitted it (a digest of the API key headers). Bounded:
//! the newest [`JobBook::CAPACITY`] jobs are kept.

use std::collections::VecDeque;
use std::hash::{BuildHasher, Hash, Hasher, RandomState};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use axum::http::{HeaderMap, header};
use easymlserve_ui::Prepared;

use crate::error::UiApiError;
use crate::runner::SubmitAnswer;

/// Who submitted a job: a digest of the key headers, salted per process, never the key itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Owner(u64);

/// A job the page submitted.
pub struct PageJob {
    /// Who submitted it.
    owner: Owner,
    /// When the form arrived.
    pub submitted: Instant,
    /// The prepared request until the answer is shown, then what was shown.
    shown: tokio::sync::Mutex<Shown>,
}

/// What became of a job's answer.
pub enum Shown {
    /// Waiting for the service's answer; `process_response` needs the prepared request.
    Waiting(Prepared),
    /// The answer was rendered once; later streams of the same job get the same.
    Done(Result<SubmitAnswer, UiApiError>),
}

impl PageJob {
    /// Its answer: the one already rendered, or the one `render` makes now from the prepared request.
    pub async fn show(
        &self,
        render: impl FnOnce(Prepared) -> Result<SubmitAnswer, UiApiError>,
    ) -> Result<SubmitAnswer, UiApiError> {
        let mut shown = self.shown.lock().await;
        let placeholder = Shown::Done(Err(UiApiError::presentation_lost()));
        let answer = match std::mem::replace(&mut *shown, placeholder) {
            Shown::Waiting(prepared) => render(prepared),
            Shown::Done(answer) => answer,
        };
        *shown = Shown::Done(answer.clone());
        answer
    }
}

/// The jobs the page submitted, newest last.
pub struct JobBook {
    jobs: Mutex<VecDeque<(String, Arc<PageJob>)>>,
    salt: RandomState,
}

impl Default for JobBook {
    fn default() -> Self {
        Self {
            jobs: Mutex::new(VecDeque::new()),
            salt: RandomState::new(),
        }
    }
}

impl JobBook {
    /// How many jobs are kept; the oldest goes first.
    pub const CAPACITY: usize = 256;

    /// Who sends `headers`.
    pub fn owner(&self, headers: &HeaderMap) -> Owner {
        let mut hasher = self.salt.build_hasher();
        for name in [header::AUTHORIZATION.as_str(), "x-api-key"] {
            // An empty header is no key, as the page sends none when the key field is empty.
            let key = headers.get(name).map(|v| v.as_bytes()).filter(|v| !v.is_empty());
            key.hash(&mut hasher);
        }
        Owner(hasher.finish())
    }

    /// Keeps the prepared request of job `id`.
    pub fn insert(&self, id: String, owner: Owner, prepared: Prepared) {
        let job = Arc::new(PageJob {
            owner,
            submitted: Instant::now(),
            shown: tokio::sync::Mutex::new(Shown::Waiting(prepared)),
        });
        let mut jobs = self.jobs.lock().unwrap_or_else(PoisonError::into_inner);
        jobs.retain(|(known, _)| *known != id);
        while jobs.len() >= Self::CAPACITY {
            jobs.pop_front();
        }
        jobs.push_back((id, job));
    }

    /// Job `id`, when `owner` submitted it.
    pub fn get(&self, id: &str, owner: Owner) -> Result<Arc<PageJob>, UiApiError> {
        let jobs = self.jobs.lock().unwrap_or_else(PoisonError::into_inner);
        let (_, job) = jobs
            .iter()
            .find(|(known, _)| known == id)
            .ok_or_else(|| UiApiError::no_job(id))?;
        if job.owner != owner {
            return Err(UiApiError::not_owner());
        }
        Ok(Arc::clone(job))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use axum::http::HeaderValue;
    use easymlserve_ui::{DynUi, Input, InputValues, Output, OutputValues, Ui, UiError};

    use super::*;

    struct Plain;

    impl Ui for Plain {
        type Request = serde_json::Value;
        type Response = serde_json::Value;
        fn inputs(&self) -> Vec<Input> {
            Vec::new()
        }
        fn outputs(&self) -> Vec<Output> {
            Vec::new()
        }
        fn prepare_request(&self, _: &InputValues) -> Result<Self::Request, UiError> {
            Ok(serde_json::json!({}))
        }
        fn process_response(&self, _: &Self::Request, _: Self::Response) -> Result<OutputValues, UiError> {
            Ok(OutputValues::new())
        }
    }

    fn prepared() -> Prepared {
        Plain.prepare(&InputValues::new()).unwrap()
    }

    fn keyed(key: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("x-api-key", HeaderValue::from_str(key).unwrap());
        headers
    }

    #[test]
    fn only_the_newest_jobs_are_kept() {
        let book = JobBook::default();
        let owner = book.owner(&HeaderMap::new());
        for i in 0..JobBook::CAPACITY + 2 {
            book.insert(format!("job-{i}"), owner, prepared());
        }
        assert_eq!(book.get("job-0", owner).err().map(|e| e.status), Some(404));
        assert_eq!(book.get("job-1", owner).err().map(|e| e.status), Some(404));
        assert!(book.get("job-2", owner).is_ok());
        assert!(book.get(&format!("job-{}", JobBook::CAPACITY + 1), owner).is_ok());
    }

    #[test]
    fn a_job_belongs_to_the_key_that_submitted_it() {
        let book = JobBook::default();
        let alice = book.owner(&keyed("alice"));
        assert_eq!(alice, book.owner(&keyed("alice")));
        book.insert("job".into(), alice, prepared());
        assert!(book.get("job", alice).is_ok());
        let bob = book.owner(&keyed("bob"));
        assert_eq!(book.get("job", bob).err().map(|e| e.status), Some(403));
        let nobody = book.owner(&HeaderMap::new());
        assert_eq!(book.get("job", nobody).err().map(|e| e.status), Some(403));
    }

    #[tokio::test]
    async fn an_answer_is_rendered_once_and_then_repeated() {
        let book = JobBook::default();
        let owner = book.owner(&HeaderMap::new());
        book.insert("job".into(), owner, prepared());
        let job = book.get("job", owner).unwrap();
        let answer = |elapsed_ms| SubmitAnswer {
            outputs: Vec::new(),
            elapsed_ms,
        };
        let first = job.show(|_| Ok(answer(7))).await.unwrap();
        let again = job.show(|_| Ok(answer(9))).await.unwrap();
        assert_eq!((first.elapsed_ms, again.elapsed_ms), (7, 7));
    }
}
