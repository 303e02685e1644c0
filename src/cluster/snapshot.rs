//! Snapshots, and the log's retention (docs/cluster.md "Snapshots and retention").
//!
//! Every `every` entries, one replica writes its whole store (the backup format,
//! store/backup.rs) to the object store bucket `<name>-snapshots`, as the object `latest`.
//! Which replica: the replicas claim the snapshot on the log's `<name>.meta.snapshot`
//! subject with "only if the last claim is still the one I saw", so one claim wins; the
//! winner takes the snapshot when its applier reaches the claim, so the snapshot holds
//! exactly the log up to the claim's position, with no other write in between.
//!
//! Once a snapshot is stored, the log is purged below the previous snapshot's position:
//! the log keeps between one and two snapshot intervals, and a replica less than one
//! interval behind still catches up from the log alone. A replica further behind (or new,
//! or wiped) restores the latest snapshot at start and applies the log after it.
//!
//! An erasure asks for a snapshot at once: every replica that applies it live asks, and
//! one claim wins, so it does not depend on the replica that took the DELETE staying up.
//! That snapshot purges the log below its own position, so the erased customer's rows in
//! batch entries (imports, orders, NPS, decisions) leave the log and the old snapshot as
//! soon as it is stored.

use super::ClusterConfig;
use crate::store::Store;
use async_nats::jetstream::message::PublishMessage as Publish;
use async_nats::jetstream::object_store::{self, ObjectMetadata, ObjectStore};
use async_nats::jetstream::Context;
use serde::{Deserialize, Serialize};
use std::io::{Seek, SeekFrom};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

/// The object holding the latest snapshot; a new one replaces it.
const LATEST: &str = "latest";
/// The meta subject's last token where replicas claim a snapshot.
const CLAIM: &str = "snapshot";
/// The subject families of commands (cluster/entry.rs): what retention purges. The
/// cluster's secrets (`meta`) are kept.
const FAMILIES: [&str; 4] = ["w", "outcome", "approval", "customer"];

/// A claim on the log: "I take the snapshot at this claim's position".
#[derive(Serialize, Deserialize)]
struct Claim {
    replica: String,
    /// Random per process: two replicas given the same id still tell their claims apart.
    token: String,
    /// Asked for by an erasure: purge the log below this snapshot, not the one before.
    erasure: bool,
}

/// The latest stored snapshot, as its object's metadata says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Latest {
    /// The log position the snapshot holds everything up to.
    pub position: u64,
    /// The log holds no entry below this once the snapshot's purge has run.
    pub purged_below: u64,
}

/// This replica's part in taking snapshots.
pub struct Snapshots {
    js: Context,
    cfg: ClusterConfig,
    bucket: ObjectStore,
    /// Entries between snapshots; 0: never (the log keeps everything).
    every: u64,
    token: String,
    /// The position of the last claim the applier saw (0: none yet).
    last_claim: AtomicU64,
    /// A claim of ours is on its way; no second until it is seen or refused.
    pending: AtomicBool,
    /// An erasure on this replica waits for a snapshot that purges it from the log.
    erasure: AtomicBool,
}

impl Snapshots {
    /// Open (or create) the snapshot bucket with the log's replicas and storage, and
    /// learn the last claim.
    pub async fn open(
        js: &Context,
        cfg: &ClusterConfig,
        replicas: usize,
    ) -> anyhow::Result<Arc<Snapshots>> {
        let name = format!("{}-snapshots", cfg.name);
        let bucket = match js.get_object_store(&name).await {
            Ok(b) => b,
            Err(_) => js
                .create_object_store(object_store::Config {
                    bucket: name.clone(),
                    description: Some("kulanz snapshots (docs/cluster.md)".into()),
                    storage: async_nats::jetstream::stream::StorageType::File,
                    num_replicas: replicas,
                    ..Default::default()
                })
                .await
                .map_err(|e| anyhow::anyhow!("cannot create the snapshot bucket `{name}`: {e}"))?,
        };
        // The snapshot replaces the log's prefix: it must be as durable as the log.
        let info = js
            .get_stream(format!("OBJ_{name}"))
            .await?
            .info()
            .await?
            .config
            .clone();
        super::stream::check(&info, replicas)?;
        let stream = js.get_stream(cfg.stream_name()).await?;
        let last_claim = match stream
            .get_last_raw_message_by_subject(&claim_subject(cfg))
            .await
        {
            Ok(m) => m.sequence,
            Err(_) => 0,
        };
        let mut token = [0u8; 16];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut token);
        Ok(Arc::new(Snapshots {
            js: js.clone(),
            cfg: cfg.clone(),
            bucket,
            every: cfg.snapshot_every,
            token: hex::encode(token),
            last_claim: AtomicU64::new(last_claim),
            pending: AtomicBool::new(false),
            erasure: AtomicBool::new(false),
        }))
    }

    /// The latest snapshot stored, if any.
    pub async fn latest(&self) -> anyhow::Result<Option<Latest>> {
        match self.bucket.info(LATEST).await {
            Ok(info) => {
                let num = |k: &str| info.metadata.get(k).and_then(|v| v.parse::<u64>().ok());
                match (num("position"), num("purged_below")) {
                    (Some(position), Some(purged_below)) => Ok(Some(Latest {
                        position,
                        purged_below,
                    })),
                    _ => anyhow::bail!("the latest snapshot's metadata has no position"),
                }
            }
            Err(e) if e.kind() == object_store::InfoErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// At start, before the applier runs: restore the latest snapshot when this replica
    /// is new (nothing applied yet) or further behind than the log keeps. The store is a
    /// cache of the log, so a replica behind the log's retention is emptied first. The
    /// snapshot is downloaded completely before anything is removed.
    pub async fn restore_if_needed(&self, store: &Store) -> anyhow::Result<Option<u64>> {
        let applied = store.cluster_applied()?;
        let Some(latest) = self.latest().await? else {
            return Ok(None);
        };
        let behind = applied + 1 < latest.purged_below;
        if applied != 0 && !behind {
            return Ok(None);
        }
        let started = std::time::Instant::now();
        let mut object = self.bucket.get(LATEST).await?;
        let position = object
            .info()
            .metadata
            .get("position")
            .and_then(|p| p.parse::<u64>().ok())
            .ok_or_else(|| anyhow::anyhow!("the latest snapshot has no position"))?;
        let file = tempfile::tempfile()?;
        let mut out = tokio::fs::File::from_std(file.try_clone()?);
        let bytes = tokio::io::copy(&mut object, &mut out).await?;
        out.sync_all().await?;
        drop(out);
        let s = store.clone();
        let copied = tokio::task::spawn_blocking(move || {
            let mut file = file;
            file.seek(SeekFrom::Start(0))?;
            s.wipe_replica()?;
            let copied = s.restore(file)?;
            s.checkpoint_cluster(position)?;
            Ok::<_, anyhow::Error>(copied)
        })
        .await??;
        tracing::info!(
            position,
            applied_before = applied,
            bytes,
            entries = copied.entries,
            millis = started.elapsed().as_millis() as u64,
            "restored the latest snapshot"
        );
        Ok(Some(position))
    }

    /// Called by the applier after each entry: claim the next snapshot when it is due.
    pub fn maybe_claim(self: &Arc<Self>, position: u64) {
        let erasure = self.erasure.load(Ordering::Acquire);
        let last = self.last_claim.load(Ordering::Acquire);
        let due = erasure || (self.every > 0 && position >= last + self.every);
        if !due || self.pending.swap(true, Ordering::AcqRel) {
            return;
        }
        let claim = Claim {
            replica: self.cfg.replica_id.clone(),
            token: self.token.clone(),
            erasure,
        };
        let this = self.clone();
        tokio::spawn(async move {
            let Ok(payload) = serde_json::to_vec(&claim) else {
                this.pending.store(false, Ordering::Release);
                return;
            };
            let publish = Publish::build()
                .payload(payload.into())
                .expected_last_subject_sequence(last);
            let sent = async {
                this.js
                    .send_publish(claim_subject(&this.cfg), publish)
                    .await?
                    .await
            };
            if let Err(e) = sent.await {
                // Another replica claimed it (its claim arrives through the log), or NATS
                // is away: the next applied entry tries again.
                tracing::debug!(error = %e, "snapshot claim not taken");
                this.pending.store(false, Ordering::Release);
            }
        });
    }

    /// An erasure was applied here: ask for a snapshot that purges it from the log.
    pub fn erasure_applied(self: &Arc<Self>, position: u64) {
        self.erasure.store(true, Ordering::Release);
        self.maybe_claim(position);
    }

    /// Whether `subject` is where snapshots are claimed.
    pub fn is_claim(&self, subject: &str) -> bool {
        subject == claim_subject(&self.cfg)
    }

    /// The applier reached a claim at `position`. If it is ours, take the snapshot now:
    /// the applier waits, so the store holds exactly the log up to `position`. The upload
    /// and the purge run in the background.
    pub fn claimed(self: &Arc<Self>, store: &Store, position: u64, payload: &[u8]) {
        self.last_claim.store(position, Ordering::Release);
        let Ok(claim) = serde_json::from_slice::<Claim>(payload) else {
            tracing::warn!(position, "a snapshot claim that cannot be read; skipped");
            return;
        };
        if claim.erasure {
            self.erasure.store(false, Ordering::Release);
        }
        if claim.token != self.token {
            // Another replica's: a claim of ours still on its way is refused by the log.
            return;
        }
        self.pending.store(false, Ordering::Release);
        let started = std::time::Instant::now();
        let taken = tokio::task::block_in_place(|| {
            let mut file = tempfile::tempfile()?;
            let copied = store.backup(&file)?;
            file.seek(SeekFrom::Start(0))?;
            Ok::<_, anyhow::Error>((file, copied))
        });
        let (file, copied) = match taken {
            Ok(t) => t,
            Err(e) => {
                tracing::warn!(error = %e, position, "taking a snapshot failed");
                return;
            }
        };
        let paused_ms = started.elapsed().as_millis() as u64;
        let this = self.clone();
        tokio::spawn(async move {
            let result = this.store(file, position, claim.erasure).await;
            match result {
                Ok((bytes, purged_below)) => tracing::info!(
                    position,
                    bytes,
                    entries = copied.entries,
                    paused_ms,
                    purged_below,
                    millis = started.elapsed().as_millis() as u64,
                    "snapshot stored"
                ),
                Err(e) => tracing::warn!(error = %e, position, "storing a snapshot failed"),
            }
        });
    }

    /// Upload the snapshot taken at `position`, then purge the log below the previous
    /// snapshot (or below this one, for an erasure). Returns the bytes stored and where
    /// the log now starts.
    async fn store(
        &self,
        file: std::fs::File,
        position: u64,
        erasure: bool,
    ) -> anyhow::Result<(usize, u64)> {
        let previous = self.latest().await.ok().flatten();
        if previous.is_some_and(|p| p.position >= position) {
            anyhow::bail!("a newer snapshot is stored already");
        }
        let purged_below = if erasure {
            position
        } else {
            previous.map_or(0, |p| p.position)
        };
        let meta = ObjectMetadata {
            name: LATEST.into(),
            description: Some(format!("kulanz store at log position {position}")),
            metadata: [
                ("position".to_string(), position.to_string()),
                ("purged_below".to_string(), purged_below.to_string()),
                ("replica".to_string(), self.cfg.replica_id.clone()),
                ("format".to_string(), "kulanz-backup v1".to_string()),
            ]
            .into_iter()
            .collect(),
            ..Default::default()
        };
        let mut file = tokio::fs::File::from_std(file);
        let info = self.bucket.put(meta, &mut file).await?;
        if purged_below > 1 {
            let stream = self.js.get_stream(self.cfg.stream_name()).await?;
            for family in FAMILIES {
                stream
                    .purge()
                    .filter(format!("{}.{family}.>", self.cfg.prefix()))
                    .sequence(purged_below)
                    .await?;
            }
            // Only the last claim matters (the next claim expects it).
            stream
                .purge()
                .filter(claim_subject(&self.cfg))
                .keep(1)
                .await?;
        }
        Ok((info.size, purged_below))
    }
}

fn claim_subject(cfg: &ClusterConfig) -> String {
    format!("{}.meta.{CLAIM}", cfg.prefix())
}
