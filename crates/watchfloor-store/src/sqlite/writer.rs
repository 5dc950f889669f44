//! The one writer: SQLite allows a single writer at a time, so rather than have connections
//! queue on a lock, every write is a job sent to one thread that owns the write connection.
//!
//! Group commit: the thread takes every job already waiting (up to a budget of events), runs
//! them in one transaction, commits once, and only then answers them all. With `synchronous=FULL` one fsync then covers many sensors' batches, which is what
//! makes "acknowledged only after it is durable" affordable.

use crate::StoreError;
use rusqlite::Connection;
use rusqlite::OpenFlags;
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc as std_mpsc, Arc};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// The writer's connection and what it knows to exist in the committed database.
pub struct Writer {
    pub conn: Connection,
    /// Day buckets known to exist. Only ever a subset of the truth: entries are added after a
    /// commit, and forgotten when anything in a group fails.
    pub buckets: HashSet<i64>,
    /// Buckets created by the jobs of the current group.
    pub created: Vec<i64>,
    /// Set by the checkpointer when the WAL keeps growing (see `checkpointer`).
    pub wal_big: Arc<AtomicBool>,
}

pub trait Job: Send {
    /// How many events the job writes, for the group budget.
    fn weight(&self) -> usize;
    /// Runs inside a transaction; may run twice (see `run_group`). Returns success.
    fn run(&mut self, w: &mut Writer) -> bool;
    /// Answers the caller once the job's transaction has committed or failed.
    fn finish(self: Box<Self>, commit: &Result<(), String>);
}

/// A job's work. `FnMut` because a job that succeeded in a group that then had to be rolled
/// back runs again on its own.
pub type JobFn<T> = Box<dyn FnMut(&mut Writer) -> Result<T, StoreError> + Send>;

struct Task<T> {
    f: JobFn<T>,
    weight: usize,
    result: Option<Result<T, StoreError>>,
    reply: oneshot::Sender<Result<T, StoreError>>,
}

impl<T: Send + 'static> Job for Task<T> {
    fn weight(&self) -> usize {
        self.weight
    }

    fn run(&mut self, w: &mut Writer) -> bool {
        let result = (self.f)(w);
        let ok = result.is_ok();
        self.result = Some(result);
        ok
    }

    fn finish(self: Box<Self>, commit: &Result<(), String>) {
        let answer = match (commit, self.result) {
            (Ok(()), Some(r)) => r,
            (_, Some(Err(e))) => Err(e),
            (Err(e), _) => Err(StoreError::Commit(e.clone())),
            (Ok(()), None) => Err(StoreError::WriterGone(" before running the job".into())),
        };
        // The caller may have given up waiting; nothing to do then.
        let _ = self.reply.send(answer);
    }
}

pub type Sender = mpsc::Sender<Box<dyn Job>>;

/// Queues `f` on the writer and waits for its committed result.
pub async fn submit<T: Send + 'static>(
    tx: &Sender,
    weight: usize,
    f: JobFn<T>,
) -> Result<T, StoreError> {
    let (reply, answer) = oneshot::channel();
    let task: Box<dyn Job> = Box::new(Task {
        f,
        weight,
        result: None,
        reply,
    });
    tx.send(task)
        .await
        .map_err(|_| StoreError::WriterGone(String::new()))?;
    answer
        .await
        .map_err(|_| StoreError::WriterGone(" while running the job".into()))?
}

/// The writer thread's loop; returns when every sender is dropped.
pub fn run(mut w: Writer, mut rx: mpsc::Receiver<Box<dyn Job>>, max_group_events: usize) {
    while let Some(first) = rx.blocking_recv() {
        let mut weight = first.weight();
        let mut group = vec![first];
        while weight < max_group_events {
            match rx.try_recv() {
                Ok(job) => {
                    weight += job.weight();
                    group.push(job);
                }
                Err(_) => break,
            }
        }
        run_group(&mut w, group);
        if w.wal_big.swap(false, Ordering::Relaxed) {
            // Between groups no write is in flight, so this completes the checkpoint and the
            // next transaction starts the WAL afresh.
            if let Err(e) = w
                .conn
                .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
            {
                tracing::warn!(error = %e, "wal checkpoint failed");
            }
        }
    }
}

/// WAL pages beyond which the writer is asked to finish a checkpoint itself.
const WAL_BIG_PAGES: i64 = 16_384;

/// Copies WAL pages into the database on its own connection and thread, so the writer does
/// not stop for it (SQLite's automatic checkpoint runs inside the committing writer and took
/// a sixth of its time). Runs until `stop`'s sender is dropped.
pub fn checkpointer(path: PathBuf, wal_big: Arc<AtomicBool>, stop: std_mpsc::Receiver<()>) {
    let conn = match rusqlite::Connection::open_with_flags(
        &path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    ) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "checkpointer cannot open the database");
            // Fall back to the writer doing every checkpoint.
            wal_big.store(true, Ordering::Relaxed);
            return;
        }
    };
    let _ = conn.busy_timeout(Duration::from_millis(100));
    while let Err(std_mpsc::RecvTimeoutError::Timeout) =
        stop.recv_timeout(Duration::from_millis(100))
    {
        match conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
            Ok((r.get::<_, i64>(1)?, r.get::<_, i64>(2)?))
        }) {
            Ok((log, done)) if log > WAL_BIG_PAGES && done < log => {
                wal_big.store(true, Ordering::Relaxed);
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "wal checkpoint failed"),
        }
    }
}

/// Runs the group optimistically in one transaction. Jobs validate their input before they
/// are queued, so one failing is rare; then the group is rolled back and each job runs again
/// in a transaction of its own, so that one bad job fails alone. (Savepoints per job would
/// give the same isolation, but copying every touched page into a statement journal cost
/// more than this rare rerun.)
fn run_group(w: &mut Writer, mut group: Vec<Box<dyn Job>>) {
    let together = transaction(w, |w| {
        let mut all_ok = true;
        for job in group.iter_mut() {
            all_ok &= job.run(w);
        }
        all_ok
    });
    match together {
        Some(commit) => {
            for job in group {
                job.finish(&commit);
            }
        }
        None => {
            for mut job in group {
                let commit = transaction(w, |w| job.run(w)).unwrap_or(Ok(()));
                job.finish(&commit);
            }
        }
    }
}

/// Runs `body` in a transaction: `Some(commit result)` when the body succeeded, `None` (and
/// rolled back) when it failed.
fn transaction(
    w: &mut Writer,
    body: impl FnOnce(&mut Writer) -> bool,
) -> Option<Result<(), String>> {
    w.created.clear();
    if let Err(e) = w.conn.execute_batch("BEGIN IMMEDIATE") {
        return Some(Err(e.to_string()));
    }
    if !body(w) {
        let _ = w.conn.execute_batch("ROLLBACK");
        // Buckets noted by the rolled-back work do not exist.
        w.created.clear();
        return None;
    }
    match w.conn.execute_batch("COMMIT") {
        Ok(()) => {
            w.buckets.extend(w.created.drain(..));
            Some(Ok(()))
        }
        Err(e) => {
            let _ = w.conn.execute_batch("ROLLBACK");
            w.buckets.clear();
            tracing::error!(error = %e, "store commit failed");
            Some(Err(e.to_string()))
        }
    }
}
