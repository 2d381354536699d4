//! Background indexing jobs: at most one runs per server; clients follow it
//! by id, by polling `get_project_status` or through progress
//! notifications, and may cancel it. The last few jobs stay on record with
//! who started them, so a watcher run never hides a client's job.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use mvs_index::{IndexReport, Progress};
use rmcp::model::{ProgressNotificationParam, ProgressToken};
use rmcp::{Peer, RoleServer};
use serde_json::{Value, json};
use tokio::sync::watch;

use crate::ToolError;

/// How many jobs [`Jobs`] keeps on record, newest first.
pub const KEPT_JOBS: usize = 5;

/// Who started a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// A client's `index_project` call.
    Client,
    /// The file watcher, after files changed.
    Watcher,
    /// The server's start, in a project with a shared index and no local
    /// one: the run that copies the shared index and indexes what differs.
    SharedIndex,
}

impl Origin {
    /// The name tools report: `client`, `watcher` or `shared_index`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Client => "client",
            Self::Watcher => "watcher",
            Self::SharedIndex => "shared_index",
        }
    }
}

/// A running or finished indexing job; clones follow the same job.
#[derive(Clone)]
pub struct Job {
    /// `index-<n>`, unique within the server.
    pub id: String,
    /// Who started it.
    pub origin: Origin,
    /// The run's progress; its sender is dropped when the job ends.
    pub progress: watch::Receiver<Progress>,
    /// `None` while running, then the run's result.
    outcome: Arc<Mutex<Option<Result<IndexReport, ToolError>>>>,
    /// The run's cancel flag (`IndexOptions::cancel`).
    cancel: Arc<AtomicBool>,
}

impl Job {
    /// Waits until the job has ended (its progress sender is gone).
    pub async fn finished(&mut self) {
        while self.progress.changed().await.is_ok() {}
    }

    /// Whether the run has not ended yet.
    pub fn is_running(&self) -> bool {
        self.outcome.lock().is_ok_and(|o| o.is_none())
    }

    /// The run's result; `None` while it runs.
    pub fn outcome(&self) -> Option<Result<IndexReport, ToolError>> {
        self.outcome.lock().ok().and_then(|o| o.clone())
    }

    /// Asks the run to stop; files committed so far stay indexed (a forced
    /// rebuild is dropped instead: the live index stays as it was).
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }

    /// The job as tools report it: `job_id`, `origin` (`client`,
    /// `watcher`, `shared_index`), `state` (`running`, `done`, `failed`), `progress`, and
    /// the `report` or `error` once it ended.
    pub fn describe(&self) -> Value {
        let (state, report, error) = match self.outcome() {
            None => ("running", None, None),
            Some(Ok(report)) => ("done", Some(report), None),
            Some(Err(error)) => ("failed", None, Some(error.to_string())),
        };
        let progress = self.progress.borrow().clone();
        json!({
            "job_id": self.id,
            "origin": self.origin.as_str(),
            "state": state,
            "summary": progress.summary(),
            "progress": progress,
            "report": report,
            "error": error,
        })
    }
}

/// The server's jobs: the last [`KEPT_JOBS`], newest first (only the newest
/// can be running; the newest client job always stays), and the next job
/// number.
pub struct Jobs {
    recent: Mutex<VecDeque<Job>>,
    next_id: AtomicU64,
}

impl Default for Jobs {
    fn default() -> Self {
        Self {
            recent: Mutex::new(VecDeque::with_capacity(KEPT_JOBS + 1)),
            next_id: AtomicU64::new(1),
        }
    }
}

impl Jobs {
    /// The running job, or a new one started by `origin` running `work` in
    /// the background. `work` gets the progress sender and runs with
    /// `cancel` as its cancel flag. Returns the job and whether it was
    /// already running (then `work` is not called).
    pub fn start<Work, Run>(
        &self,
        origin: Origin,
        cancel: Arc<AtomicBool>,
        work: Work,
    ) -> Result<(Job, bool), ToolError>
    where
        Work: FnOnce(Arc<watch::Sender<Progress>>) -> Run,
        Run: Future<Output = Result<IndexReport, ToolError>> + Send + 'static,
    {
        let mut recent = self
            .recent
            .lock()
            .map_err(|_| ToolError::Internal("job state poisoned".into()))?;
        if let Some(job) = recent.front().filter(|job| job.is_running()) {
            return Ok((job.clone(), true));
        }
        let (progress_tx, progress_rx) = watch::channel(Progress::default());
        let progress_tx = Arc::new(progress_tx);
        let job = Job {
            id: format!("index-{}", self.next_id.fetch_add(1, Ordering::Relaxed)),
            origin,
            progress: progress_rx,
            outcome: Arc::new(Mutex::new(None)),
            cancel,
        };
        recent.push_front(job.clone());
        if recent.len() > KEPT_JOBS {
            // Drop the oldest, unless it is the newest client job: a burst
            // of watcher runs must not hide what a client started.
            let oldest = recent.len() - 1;
            let newest_client = recent.iter().position(|job| job.origin == Origin::Client);
            recent.remove(if newest_client == Some(oldest) {
                oldest - 1
            } else {
                oldest
            });
        }
        drop(recent);
        let outcome = Arc::clone(&job.outcome);
        let run = work(Arc::clone(&progress_tx));
        tokio::spawn(async move {
            let result = run.await;
            if let Err(err) = &result {
                tracing::warn!("indexing job failed: {err}");
            }
            if let Ok(mut slot) = outcome.lock() {
                *slot = Some(result);
            }
            // The last sender goes only now, so a watcher that sees the job
            // end finds its outcome set.
            drop(progress_tx);
        });
        Ok((job, false))
    }

    /// The jobs on record, newest first.
    pub fn recent(&self) -> Vec<Job> {
        self.recent
            .lock()
            .map(|recent| recent.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// The job a client most wants to see: the running one, else the newest
    /// a client started, else the newest.
    pub fn shown(&self) -> Option<Job> {
        let recent = self.recent();
        let running = recent.first().filter(|job| job.is_running());
        let client = || recent.iter().find(|job| job.origin == Origin::Client);
        running.or_else(client).or(recent.first()).cloned()
    }

    /// The running job, if any.
    pub fn running(&self) -> Option<Job> {
        self.recent
            .lock()
            .ok()
            .and_then(|recent| recent.front().filter(|job| job.is_running()).cloned())
    }
}

/// Sends `job`'s progress to `peer` as notifications for `token`, from now
/// until the job ends or the client is gone; the caller aborts it when the
/// request that carried the token is no longer in flight.
///
/// As the MCP spec requires, `progress` strictly increases over the whole
/// run: a two-phase run's second phase counts on from the first (files of
/// the keywords phase, then files of the vectors phase), and an update that
/// would not advance it is not sent. Every message names the phase and its
/// counts and what search can do now ([`Progress::summary`]).
pub fn forward_progress(job: &Job, token: ProgressToken, peer: Peer<RoleServer>) -> tokio::task::JoinHandle<()> {
    let (id, mut progress) = (job.id.clone(), job.progress.clone());
    tokio::spawn(async move {
        let mut run = RunProgress::default();
        let mut current = Some(progress.borrow_and_update().clone());
        while let Some(p) = current.take() {
            if let Some((value, total)) = run.advance(&p) {
                let phase = if p.phase.is_empty() { "starting" } else { &p.phase };
                let message = match (&p.note, p.files_total) {
                    (Some(note), _) => format!("{id} {phase}: {note}"),
                    (None, 0) => format!("{id} {phase}: looking for files to index"),
                    (None, _) => format!(
                        "{id} {phase}: {}/{} files, {}/{} chunks; {}",
                        p.files_done,
                        p.files_total,
                        p.chunks_done,
                        p.chunks_total,
                        p.summary()
                    ),
                };
                let param = ProgressNotificationParam::new(token.clone(), value)
                    .with_total(total)
                    .with_message(message);
                if peer.notify_progress(param).await.is_err() {
                    return; // the client is gone
                }
            }
            if progress.changed().await.is_ok() {
                current = Some(progress.borrow_and_update().clone());
            }
        }
    })
}

/// One run's progress as a single count over its phases.
#[derive(Debug, Default)]
struct RunProgress {
    /// The phase being counted, the files of the phases before it, and the
    /// phase's last counts.
    phase: String,
    done_before: usize,
    phase_done: usize,
    phase_total: usize,
    /// The last value sent, if any.
    sent: Option<f64>,
}

impl RunProgress {
    /// The (progress, total) to send for `p`, or `None` when it would not
    /// advance past what was sent.
    fn advance(&mut self, p: &Progress) -> Option<(f64, f64)> {
        if p.phase != self.phase {
            // A phase that counts its files again from the start (vectors
            // after keywords) counts on from the one before; the closing
            // phases repeat the last counts.
            if p.files_done < self.phase_done {
                self.done_before += self.phase_total;
            }
            self.phase = p.phase.clone();
        }
        (self.phase_done, self.phase_total) = (p.files_done, p.files_total);
        // One more step than there are files: the run's end, so that the
        // last notification ("done") still advances.
        let end = usize::from(p.phase == "done");
        let value = (self.done_before + p.files_done + end) as f64;
        let total = (self.done_before + p.files_total + 1) as f64;
        if self.sent.is_some_and(|sent| value <= sent) {
            return None;
        }
        self.sent = Some(value);
        Some((value, total.max(value)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The (progress, total) pairs sent for a run through `steps`, each
    /// (phase, files done, files total); checks they strictly increase and
    /// never pass their total.
    fn sent_for(steps: &[(&str, usize, usize)]) -> Vec<(f64, f64)> {
        let mut run = RunProgress::default();
        let sent: Vec<(f64, f64)> = steps
            .iter()
            .filter_map(|&(phase, files_done, files_total)| {
                run.advance(&Progress {
                    phase: phase.into(),
                    files_done,
                    files_total,
                    ..Progress::default()
                })
            })
            .collect();
        assert!(sent.windows(2).all(|w| w[0].0 < w[1].0), "{sent:?}");
        assert!(sent.iter().all(|(value, total)| value <= total), "{sent:?}");
        sent
    }

    #[test]
    fn progress_strictly_increases_across_phases() {
        let sent = sent_for(&[
            ("discovering", 0, 0),
            ("keywords", 0, 579),
            ("keywords", 300, 579),
            ("keywords", 300, 579),
            ("keywords", 579, 579),
            ("vectors", 0, 577),
            ("vectors", 10, 577),
            ("finishing", 577, 577),
            ("done", 577, 577),
        ]);
        assert_eq!(sent.first(), Some(&(0.0, 1.0)));
        assert_eq!(sent.iter().find(|(v, _)| *v == 589.0), Some(&(589.0, 1157.0)));
        assert_eq!(sent.last(), Some(&(1157.0, 1157.0)), "the end is the last step");
    }

    #[test]
    fn provisioning_steps_advance_before_the_run_counts_files() {
        let sent = sent_for(&[
            ("", 0, 0),
            ("provisioning", 1, 2),
            ("provisioning", 2, 3),
            ("discovering", 0, 0),
            ("indexing", 0, 10),
            ("indexing", 10, 10),
            ("done", 10, 10),
        ]);
        assert_eq!(&sent[..3], &[(0.0, 1.0), (1.0, 3.0), (2.0, 4.0)], "every step is sent");
        assert_eq!(sent.last().map(|s| s.0), sent.last().map(|s| s.1), "{sent:?}");
    }

    #[tokio::test]
    async fn one_job_at_a_time_with_its_outcome_once_it_ends() {
        let jobs = Jobs::default();
        let (release, released) = tokio::sync::oneshot::channel::<()>();
        let (mut first, running) = jobs
            .start(Origin::Client, Arc::default(), |_progress| async move {
                let _ = released.await;
                Err(ToolError::Busy {
                    pid: Some(7),
                    message: "held".into(),
                })
            })
            .unwrap();
        assert!(!running && first.is_running());
        let (again, running) = jobs
            .start(Origin::Client, Arc::default(), |_progress| async {
                Ok(IndexReport::default())
            })
            .unwrap();
        assert!(running && again.id == first.id, "a second start joins the running job");
        release.send(()).unwrap();
        first.finished().await;
        assert!(matches!(
            first.outcome(),
            Some(Err(ToolError::Busy { pid: Some(7), .. }))
        ));
        assert_eq!(first.describe()["state"], "failed");
        let (next, running) = jobs
            .start(Origin::Client, Arc::default(), |_progress| async {
                Ok(IndexReport::default())
            })
            .unwrap();
        assert!(!running && next.id != first.id);
        assert!(jobs.shown().is_some_and(|shown| shown.id == next.id));
    }

    #[tokio::test]
    async fn watcher_runs_keep_the_client_job_on_record() {
        let jobs = Jobs::default();
        let run = |origin| {
            let (mut job, _) = jobs
                .start(origin, Arc::default(), |_progress| async { Ok(IndexReport::default()) })
                .unwrap();
            async move {
                job.finished().await;
                job
            }
        };
        let client = run(Origin::Client).await;
        for _ in 0..KEPT_JOBS - 2 {
            run(Origin::Watcher).await;
        }
        let shown = jobs.shown().unwrap();
        assert_eq!((shown.id.as_str(), shown.origin), (client.id.as_str(), Origin::Client));
        assert_eq!(jobs.recent().len(), KEPT_JOBS - 1);
        assert_eq!(jobs.recent()[0].describe()["origin"], "watcher");
        for _ in 0..KEPT_JOBS {
            run(Origin::Watcher).await;
        }
        let recent = jobs.recent();
        assert_eq!(recent.len(), KEPT_JOBS, "only the last {KEPT_JOBS} stay");
        assert_eq!(recent.last().map(|job| job.id.clone()), Some(client.id.clone()));
        assert_eq!(jobs.shown().map(|job| job.id), Some(client.id));
    }

    #[tokio::test]
    async fn cancel_sets_the_runs_flag() {
        let jobs = Jobs::default();
        let flag: Arc<AtomicBool> = Arc::default();
        let watched = Arc::clone(&flag);
        let (mut job, _) = jobs
            .start(Origin::Client, Arc::clone(&flag), |_progress| async move {
                while !watched.load(Ordering::Relaxed) {
                    tokio::task::yield_now().await;
                }
                Ok(IndexReport::default())
            })
            .unwrap();
        jobs.running().expect("running").cancel();
        job.finished().await;
        assert!(jobs.running().is_none() && flag.load(Ordering::Relaxed));
        assert_eq!(job.describe()["state"], "done");
    }
}
