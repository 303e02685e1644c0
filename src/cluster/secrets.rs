//! What every replica must share to reach the same state: the store's pseudonym key.
//! Audit hashes cover customer pseudonyms made with it (store/audit.rs), so replicas with
//! different keys would build different audit chains from the same log. The first
//! replica to start writes a fresh key to the log's `<name>.meta.pseudonym_key` subject,
//! "only if the subject is empty"; every replica then reads the one that won.

use super::ClusterConfig;
use crate::store::Store;
use async_nats::jetstream::context::PublishErrorKind;
use async_nats::jetstream::message::PublishMessage as Publish;
use async_nats::jetstream::Context;

/// Subjects under this are not commands; the applier steps over them.
pub fn is_meta(prefix: &str, subject: &str) -> bool {
    subject
        .strip_prefix(prefix)
        .is_some_and(|rest| rest.starts_with(".meta."))
}

/// Make the cluster's pseudonym key this store's. A store that already holds decisions
/// under another key belongs to another cluster (or was a single node): refused.
pub async fn adopt_pseudonym_key(
    js: &Context,
    cfg: &ClusterConfig,
    store: &Store,
) -> anyhow::Result<()> {
    let subject = format!("{}.meta.pseudonym_key", cfg.prefix());
    let mut fresh = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut fresh);
    let publish = Publish::build()
        .payload(hex::encode(fresh).into_bytes().into())
        .expected_last_subject_sequence(0);
    match js.send_publish(subject.clone(), publish).await?.await {
        Ok(_) => {}
        Err(e) if e.kind() == PublishErrorKind::WrongLastSequence => {}
        Err(e) => anyhow::bail!("cannot record the cluster's pseudonym key: {e}"),
    }
    let stream = js.get_stream(cfg.stream_name()).await?;
    let msg = stream.get_last_raw_message_by_subject(&subject).await?;
    let key = hex::decode(&msg.payload)
        .map_err(|e| anyhow::anyhow!("the cluster's pseudonym key is not hex: {e}"))?;
    store.adopt_pseudonym_key(&key)?;
    Ok(())
}
