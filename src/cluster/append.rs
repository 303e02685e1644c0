//! Appending a command to a cluster's log from outside a replica: `kulanz keys add
//! --cluster` and `keys revoke --cluster`, which give a new cluster its first admin key
//! (no replica has a key to call its API with yet). The entry is the one a replica would
//! write; every replica applies it from the log.

use super::{entry, ClusterConfig};
use crate::store::Command;

/// Append `cmd` to the log of cluster `cfg` and wait for a quorum's acknowledgement; the
/// entry's position. The stream must exist: a CLI does not create a cluster.
pub async fn append(cfg: &ClusterConfig, cmd: &Command) -> anyhow::Result<u64> {
    let client = cfg.connect().await?;
    let js = async_nats::jetstream::ContextBuilder::new()
        .timeout(super::WRITE_TIMEOUT)
        .build(client);
    js.get_stream(cfg.stream_name()).await.map_err(|e| {
        anyhow::anyhow!(
            "no log `{}` on these NATS servers ({e}); start a replica with --cluster-name {} first",
            cfg.stream_name(),
            cfg.name
        )
    })?;
    let route = entry::route(cfg.prefix(), cmd);
    let payload = entry::encode(cmd)?;
    let msg_id = format!("{}-{}", cfg.replica_id, ulid::Ulid::new());
    let message = entry::message(
        payload,
        &msg_id,
        &cfg.replica_id,
        route.first_only.is_some(),
    );
    let ack = js
        .send_publish(route.subject, message)
        .await?
        .await
        .map_err(|e| anyhow::anyhow!("the log did not take the entry: {e}"))?;
    Ok(ack.sequence)
}
