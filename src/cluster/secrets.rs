//! Secrets every replica must share. The store's pseudonym key: audit hashes cover
//! customer pseudonyms made with it (store/audit.rs), so replicas with different keys
//! would build different audit chains from the same log. The desk-session key of the
//! Zendesk app: a session one replica signs must verify on the others behind the load
//! balancer. The first replica to start writes a fresh key to the log's
//! `<name>.meta.<secret>` subject, "only if the subject is empty"; every replica then
//! reads the one that won. (The log's readers can read them: give NATS accounts to kulanz
//! alone, docs/cluster.md.)

use super::ClusterConfig;
use crate::store::Store;
use async_nats::jetstream::message::PublishMessage as Publish;
use async_nats::jetstream::Context;

/// Subjects under this are not commands; the applier steps over them.
pub fn is_meta(prefix: &str, subject: &str) -> bool {
    subject
        .strip_prefix(prefix)
        .is_some_and(|rest| rest.starts_with(".meta."))
}

/// The cluster's secret `name` (32 random bytes): made by the first replica that asks,
/// with "only if the subject is empty", and read back by every replica.
pub async fn shared_secret(
    js: &Context,
    cfg: &ClusterConfig,
    name: &str,
) -> anyhow::Result<[u8; 32]> {
    // Like the stream's creation: bounded retries while a starting NATS cluster settles.
    let deadline = tokio::time::Instant::now() + super::stream::START_PATIENCE;
    loop {
        match make_or_read(js, cfg, name).await {
            Ok(key) => return Ok(key),
            Err(e) if tokio::time::Instant::now() < deadline => {
                tracing::warn!(error = %e, secret = name, "the cluster's secret is not reachable yet; retrying");
                tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            }
            Err(e) => return Err(e),
        }
    }
}

async fn make_or_read(js: &Context, cfg: &ClusterConfig, name: &str) -> anyhow::Result<[u8; 32]> {
    let subject = format!("{}.meta.{name}", cfg.prefix());
    let mut fresh = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut fresh);
    let publish = Publish::build()
        .payload(hex::encode(fresh).into_bytes().into())
        .expected_last_subject_sequence(0);
    match js.send_publish(subject.clone(), publish).await?.await {
        Ok(_) => {}
        // Another replica made it first.
        Err(e) if super::replicator::is_wrong_last_sequence(&e) => {}
        Err(e) => anyhow::bail!("cannot record the cluster's {name}: {e}"),
    }
    let stream = js.get_stream(cfg.stream_name()).await?;
    let msg = stream.get_last_raw_message_by_subject(&subject).await?;
    let key = hex::decode(&msg.payload)
        .map_err(|e| anyhow::anyhow!("the cluster's {name} is not hex: {e}"))?;
    <[u8; 32]>::try_from(key.as_slice())
        .map_err(|_| anyhow::anyhow!("the cluster's {name} is not 32 bytes"))
}

/// Make the cluster's pseudonym key this store's. A store that already holds decisions
/// under another key belongs to another cluster (or was a single node): refused.
pub async fn adopt_pseudonym_key(
    js: &Context,
    cfg: &ClusterConfig,
    store: &Store,
) -> anyhow::Result<()> {
    let key = shared_secret(js, cfg, "pseudonym_key").await?;
    store.adopt_pseudonym_key(&key)?;
    Ok(())
}
