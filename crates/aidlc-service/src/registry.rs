//! Registry decisions a person makes: promoting a version to an alias (by default the protected
//! one production follows) through the governed alias service `aidlc models alias` uses, so a
//! protected alias moves only for a version whose latest evaluation passed, or with an explicit
//! override whose reason is written to the audit log.

use aidlc_store::{
    AliasChange, AliasPolicy, AuditContext, RegistryStore, RegistryVersion, RegistryVersionSearch,
    StoreError,
};

/// What a promotion asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Promotion<'a> {
    pub model: &'a str,
    pub version: i64,
    /// The alias to move; `None` is the policy's first protected alias (`champion`).
    pub alias: Option<&'a str>,
    /// Move a protected alias even without a passing evaluation report; the reason in the
    /// audit context is then the override reason.
    pub override_gate: bool,
}

/// Every version of a model, oldest first, read page by page.
pub async fn all_versions<S: RegistryStore>(
    store: &S,
    model: &str,
) -> Result<Vec<RegistryVersion>, StoreError> {
    let mut out = Vec::new();
    let mut offset = 0;
    loop {
        let page = store
            .search_registry_versions(&RegistryVersionSearch {
                model: Some(model.to_string()),
                run_id: None,
                max_results: 1000,
                offset,
            })
            .await?;
        out.extend(page.items);
        match page.next_offset {
            Some(o) => offset = o,
            None => break,
        }
    }
    out.sort_by_key(|v| v.version);
    Ok(out)
}

/// The alias a promotion moves when none is named.
pub fn default_alias(policy: &AliasPolicy) -> &str {
    policy.protected.first().map_or("champion", String::as_str)
}

/// Moves the alias to the version, audited with `ctx.reason` (a promotion must give one).
///
/// The governed alias service treats any reason as an override, so without `override_gate`
/// the version's eligibility is checked here first: the reason typed for an ordinary promotion
/// never lets a failed version through. The store decides again in its own transaction; a
/// failing report recorded in between would make it an audited `alias.set_override`, never a
/// silent move.
pub async fn promote<S: RegistryStore + Sync>(
    store: &S,
    policy: &AliasPolicy,
    ctx: &AuditContext,
    req: &Promotion<'_>,
) -> Result<AliasChange, StoreError> {
    let alias = req.alias.unwrap_or_else(|| default_alias(policy));
    if ctx.reason.as_deref().is_none_or(|r| r.trim().is_empty()) {
        return Err(StoreError::Invalid(format!(
            "promoting {}/{} to `{alias}` needs a reason (it goes to the audit log)",
            req.model, req.version
        )));
    }
    if store
        .get_registry_version(req.model, req.version)
        .await?
        .is_none()
    {
        return Err(StoreError::NotFound {
            kind: "model version",
            id: format!("{}/{}", req.model, req.version),
        });
    }
    if policy.is_protected(alias) && !req.override_gate {
        let mut reports = store.evaluation_reports(req.model, req.version).await?;
        reports.sort_by(|a, b| {
            a.created_at_ms
                .cmp(&b.created_at_ms)
                .then_with(|| a.id.cmp(&b.id))
        });
        let why = match reports.last() {
            Some(r) if r.data.passed => None,
            Some(r) => Some(format!("its latest evaluation report ({}) failed", r.id)),
            None => Some("it has no evaluation report".to_string()),
        };
        if let Some(why) = why {
            return Err(StoreError::Refused(format!(
                "alias `{alias}` of model `{}` is protected: version {} cannot take it because {why}; \
                 evaluate it (and pass its gates) or promote with an override",
                req.model, req.version
            )));
        }
    }
    store
        .set_governed_alias(ctx, policy, req.model, alias, req.version)
        .await
}
