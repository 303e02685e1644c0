//! `serve --demo`: seed the seed-scenario customers (S1, S3–S6) and a few hundred
//! generated ones into an empty store, create a key with every scope, and print example
//! requests. S2's customer is deliberately unknown.

use crate::domain::customer::CustomerRecordDto;
use crate::service::customers::normalise;
use crate::service::keys::{self, Scope};
use crate::store::customers::StoredCustomer;
use crate::store::{Command, Store};
use chrono::{DateTime, SecondsFormat, Utc};
use std::collections::BTreeMap;

/// The seed scenarios' customers, shared with the policy's example cases.
pub const SCENARIO_CUSTOMERS: &str = include_str!("demo_customers.json");

/// How many generated customers join the scenario ones.
pub const GENERATED: usize = 500;

/// What seeding did.
pub struct Demo {
    pub seeded: usize,
    pub secret: String,
}

/// The scenario customers by id.
pub fn scenario_customers() -> anyhow::Result<BTreeMap<String, CustomerRecordDto>> {
    Ok(serde_json::from_str(SCENARIO_CUSTOMERS)?)
}

/// A deterministic spread of customers, from one-off buyers to regulars.
fn generated(i: usize) -> CustomerRecordDto {
    let orders = (i * 7919) % 40 + 1;
    let avg = 20 + (i * 104_729) % 180;
    let revenue = orders * avg;
    let year = 2016 + (i % 10);
    let tiers = ["none", "bronze", "silver", "gold", "platinum"];
    let tier = tiers[(i / 3) % tiers.len()];
    let eur = |a: usize| crate::money::MoneyDto {
        amount: format!("{a}.00"),
        currency: "EUR".into(),
    };
    CustomerRecordDto {
        currency: "EUR".into(),
        lifetime_revenue: eur(revenue),
        orders: Some(orders as i64),
        first_order_at: Some(format!("{year}-0{}-1{}", 1 + i % 9, i % 10)),
        last_order_at: Some(format!("2026-{:02}-0{}", 1 + i % 10, 1 + i % 9)),
        predicted_value: None,
        revenue_12m: None,
        tier: Some(tier.into()),
        peak_tier: Some(tier.into()),
        referrals: Some((i % 5) as i64),
        nps: i
            .is_multiple_of(4)
            .then(|| crate::domain::customer::NpsDto {
                score: (i % 11) as i64,
                at: "2026-09-01".into(),
            }),
        goodwill_12m: Some(eur((i * 31) % 90)),
        claims_90d: Some((i % 4) as i64),
    }
}

/// The name of the demo's full-scope key.
pub const DEMO_KEY: &str = "demo";

/// Seed when the store holds no customers; replace the demo key with a fresh one (only
/// its hash is stored, so the old secret cannot be shown again).
pub fn seed(store: &Store, now: DateTime<Utc>) -> anyhow::Result<Demo> {
    let mut seeded = 0;
    if store.customer_count() == 0 {
        let updated_at = now.to_rfc3339_opts(SecondsFormat::Secs, true);
        let mut customers = Vec::new();
        let all = scenario_customers()?
            .into_iter()
            .chain((1..=GENERATED).map(|i| (format!("c-demo-{i:04}"), generated(i))));
        for (id, dto) in all {
            let record = normalise(dto).map_err(|e| anyhow::anyhow!("demo customer {id}: {e}"))?;
            customers.push((
                id,
                StoredCustomer {
                    record,
                    updated_at: updated_at.clone(),
                },
            ));
        }
        seeded = customers.len();
        store.apply(Command::PutCustomers { customers })?;
    }
    // One demo key at a time: the previous start's key is revoked (its secret was only
    // ever printed), so restarts do not pile up full-scope keys.
    keys::revoke_local(store, DEMO_KEY)?;
    let secret = keys::add(store, DEMO_KEY, Scope::ALL.to_vec(), None, now)?.secret;
    Ok(Demo { seeded, secret })
}

/// What `--demo` prints: the key and three ready requests.
pub fn banner(addr: &str, demo: &Demo) -> String {
    let key = &demo.secret;
    let base = format!("http://{addr}");
    let s1 = r#"{"ticket_id":"ZD-48213","customer_id":"c-10442","agent":{"id":"a-17","role":"agent"},"complaint":{"category":"cancellation_refund","severity":"medium","channel":"social","fault":"unclear","amount_at_stake":{"amount":"100.00","currency":"EUR"}}}"#;
    let s6 = r#"{"ticket_id":"ZD-48600","customer_id":"c-60606","agent":{"id":"a-17","role":"agent"},"complaint":{"category":"damaged_item","severity":"high","channel":"phone","fault":"ours","amount_at_stake":{"amount":"450.00","currency":"EUR"}}}"#;
    format!(
        "\nkulanz demo is running on {base}\n\
         seeded {} demo customers (seed scenarios: c-10442 S1, c-30303 S3, c-40404 S4, c-50505 S5, c-60606 S6)\n\n\
         API key with every scope (decide, ingest, admin):\n  {key}\n\n\
         Try:\n\
         # S1: a €10,000+ customer's cancelled night\n\
         curl -s -X POST {base}/v1/decisions -H 'Authorization: Bearer {key}' -H 'Content-Type: application/json' \\\n  -d '{s1}'\n\n\
         # S6: a claim above the agent's authority\n\
         curl -s -X POST {base}/v1/decisions -H 'Authorization: Bearer {key}' -H 'Content-Type: application/json' \\\n  -d '{s6}'\n\n\
         # The customer record behind S1\n\
         curl -s {base}/v1/customers/c-10442 -H 'Authorization: Bearer {key}'\n",
        demo.seeded
    )
}
