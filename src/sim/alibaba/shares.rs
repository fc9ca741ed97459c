//! Image sharing in the Alibaba family: ModifyImageSharePermission and DescribeImageSharePermission of ECS (and
//! Apsara Stack's ECS API) and of ENS.
//!
//! Sources: alibabacloud-go/ecs-20140526 (`AddAccount.N` / `RemoveAccount.N`, N 1 to 10; at most 50 accounts per
//! image, `QuotaExceed.ShareImageUser`; DescribeImageSharePermission `PageSize` at most 100, `Accounts.Account[]
//! .AliyunId`; DeleteImage of a shared image: 403 `ImageUseShared`), alibabacloud-go/ens-20171110 (`AddAccounts`
//! comma-separated, `RemoveAccounts` one account, `Accounts.Account[].AliyunUid`, string counters). Not documented,
//! and guessed here (docs/simulator.md): adding a shared account again or removing an unshared one is accepted.

use serde_json::{json, Map, Value};

use super::{ali_err, missing, not_found, optional, paging, required, Ctx, Out};
use crate::app::Sim;
use crate::clock;
use crate::state::Phase;

/// Accounts per image (ECS).
const ECS_MAX_ACCOUNTS: usize = 50;

/// The `Name.1` .. `Name.10` values of an ECS repeat list.
fn repeat_list<'a>(p: &'a super::Params, name: &str) -> Vec<&'a str> {
    (1..=10)
        .filter_map(|n| optional(p, &format!("{name}.{n}")))
        .collect()
}

/// Account IDs are numbers.
fn check_accounts(accounts: &[&str]) -> Result<(), super::AliError> {
    match accounts
        .iter()
        .find(|a| a.is_empty() || !a.bytes().all(|b| b.is_ascii_digit()))
    {
        Some(a) => Err(ali_err(
            404,
            "InvalidAccount.NotFound",
            format!("The specified account {a} does not exist."),
        )),
        None => Ok(()),
    }
}

/// ECS ModifyImageSharePermission.
pub(crate) fn ecs_modify(sim: &Sim, ctx: &Ctx<'_>) -> Out {
    let p = ctx.params;
    let id = required(p, "ImageId")?;
    if ctx.region.is_empty() {
        return Err(missing("RegionId"));
    }
    let add = repeat_list(p, "AddAccount");
    let remove = repeat_list(p, "RemoveAccount");
    check_accounts(&add)?;
    check_accounts(&remove)?;
    {
        let mut store = sim.store();
        let img = store
            .get_mut(ctx.cloud, &ctx.region, id)
            .ok_or_else(not_found)?;
        if !matches!(img.phase(clock::now_ms()), Phase::Available) {
            return Err(ali_err(
                403,
                "IncorrectImageStatus",
                "The current status of the image does not support this operation.",
            ));
        }
        let mut shares = img.shares.clone();
        shares.extend(add.iter().map(|a| a.to_string()));
        for a in &remove {
            shares.remove(*a);
        }
        if shares.len() > ECS_MAX_ACCOUNTS {
            return Err(ali_err(
                403,
                "QuotaExceed.ShareImageUser",
                "The number of users that the image is shared with exceeds the quota.",
            ));
        }
        img.shares = shares;
    }
    sim.persist();
    Ok(Map::new())
}

/// ECS DescribeImageSharePermission.
pub(crate) fn ecs_describe(sim: &Sim, ctx: &Ctx<'_>) -> Out {
    let p = ctx.params;
    let id = required(p, "ImageId")?;
    let (page, size) = paging(p, 10, 100)?;
    let store = sim.store();
    let img = store
        .get(ctx.cloud, &ctx.region, id)
        .ok_or_else(not_found)?;
    let accounts: Vec<Value> = img
        .shares
        .iter()
        .map(|a| json!({"AliyunId": a, "SharedTime": clock::iso_z(img.created_ms)}))
        .collect();
    let mut m = Map::new();
    m.insert("ImageId".into(), json!(id));
    m.insert("RegionId".into(), json!(ctx.region));
    m.insert("TotalCount".into(), json!(accounts.len()));
    m.insert("PageNumber".into(), json!(page));
    m.insert("PageSize".into(), json!(size));
    m.insert("Accounts".into(), page_of(accounts, page, size, "Account"));
    m.insert("ShareGroups".into(), json!({"ShareGroup": []}));
    Ok(m)
}

/// One page of a list, wrapped as `{"<item>": [...]}`.
fn page_of(items: Vec<Value>, page: usize, size: usize, item: &str) -> Value {
    let skip = page.saturating_sub(1).saturating_mul(size);
    let items: Vec<Value> = items.into_iter().skip(skip).take(size).collect();
    let mut m = Map::new();
    m.insert(item.to_string(), Value::Array(items));
    Value::Object(m)
}

/// ENS ModifyImageSharePermission.
pub(crate) fn ens_modify(sim: &Sim, ctx: &Ctx<'_>) -> Out {
    let p = ctx.params;
    let id = required(p, "ImageId")?;
    let add: Vec<&str> = optional(p, "AddAccounts")
        .map(|a| a.split(',').map(str::trim).collect())
        .unwrap_or_default();
    let remove: Vec<&str> = optional(p, "RemoveAccounts").into_iter().collect();
    if remove.first().is_some_and(|r| r.contains(',')) {
        return Err(ali_err(
            400,
            "InvalidParameter.RemoveAccounts",
            "RemoveAccounts takes one account.",
        ));
    }
    check_accounts(&add)?;
    check_accounts(&remove)?;
    {
        let mut store = sim.store();
        let region = store.region_of(ctx.cloud, id).ok_or_else(not_found)?;
        let img = store
            .get_mut(ctx.cloud, &region, id)
            .ok_or_else(not_found)?;
        img.shares.extend(add.iter().map(|a| a.to_string()));
        for a in &remove {
            img.shares.remove(*a);
        }
    }
    sim.persist();
    let mut m = Map::new();
    m.insert("Code".into(), json!(0));
    Ok(m)
}

/// ENS DescribeImageSharePermission.
pub(crate) fn ens_describe(sim: &Sim, ctx: &Ctx<'_>) -> Out {
    let p = ctx.params;
    let id = required(p, "ImageId")?;
    let (page, size) = paging(p, 10, 100)?;
    let store = sim.store();
    let region = store.region_of(ctx.cloud, id).ok_or_else(not_found)?;
    let img = store.get(ctx.cloud, &region, id).ok_or_else(not_found)?;
    let accounts: Vec<Value> = img
        .shares
        .iter()
        .map(|a| json!({ "AliyunUid": a }))
        .collect();
    let mut m = Map::new();
    m.insert("Code".into(), json!(0));
    m.insert("ImageId".into(), json!(id));
    m.insert("TotalCount".into(), json!(accounts.len().to_string()));
    m.insert("PageNumber".into(), json!(page.to_string()));
    m.insert("PageSize".into(), json!(size.to_string()));
    m.insert("Accounts".into(), page_of(accounts, page, size, "Account"));
    Ok(m)
}
