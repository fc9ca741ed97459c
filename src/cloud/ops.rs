//! Steps several clients take the same way: paging through a name lookup, and a delete whose failure is settled
//! by describing the image.

use std::collections::BTreeMap;
use std::future::Future;

use super::http::Failure;
use super::{CloudError, ErrorKind, Image};

/// Page size of listings (every API takes up to 100).
pub(super) const PAGE: usize = 100;
/// At most this many pages are read (5000 images of one name).
pub(super) const MAX_PAGES: usize = 50;

/// Request parameters from `(name, value)` pairs.
pub(super) fn params<const N: usize>(pairs: [(&str, &str); N]) -> BTreeMap<String, String> {
    pairs
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// One page of a listing: the images on it and the total the API reports.
#[derive(Debug, Default)]
pub(super) struct Page {
    /// The images on this page.
    pub images: Vec<Image>,
    /// How many images the whole listing has, as the API says (0 when it does not).
    pub total: usize,
}

impl Page {
    /// A page of `images` from an answer that says the listing's size as `TotalCount` (every family does).
    pub(super) fn of(images: Vec<Image>, answer: &serde_json::Value) -> Self {
        Self {
            images,
            total: super::json::u64_field(answer, "TotalCount").unwrap_or(0) as usize,
        }
    }
}

/// The images called exactly `name`, reading pages `0, 1, ...` of [`PAGE`] with `fetch` until one is short or the
/// total is reached. The clouds' name filters are fuzzy or absent, so the exact match is made here.
pub(super) async fn find_by_name<F, Fut>(name: &str, fetch: F) -> Result<Vec<Image>, CloudError>
where
    F: FnMut(usize) -> Fut,
    Fut: Future<Output = Result<Page, CloudError>>,
{
    collect_pages(PAGE, |i| i.name == name, fetch).await
}

/// The images `keep` accepts from a listing read `page_size` at a time with `fetch` (pages `0, 1, ...`), until a
/// page is short or the total the API reports is reached, at most [`MAX_PAGES`] pages. For APIs whose filters
/// match partially (the exact match is `keep`) and whose page size is not [`PAGE`].
pub(super) async fn collect_pages<F, Fut>(
    page_size: usize,
    keep: impl Fn(&Image) -> bool,
    mut fetch: F,
) -> Result<Vec<Image>, CloudError>
where
    F: FnMut(usize) -> Fut,
    Fut: Future<Output = Result<Page, CloudError>>,
{
    let mut out = Vec::new();
    for page in 0..MAX_PAGES {
        let Page { images, total } = fetch(page).await?;
        let n = images.len();
        out.extend(images.into_iter().filter(|i| keep(i)));
        if n < page_size || (page + 1) * page_size >= total {
            break;
        }
    }
    Ok(out)
}

/// Describes `ids` `limit` at a time with `describe` (which gets one chunk), keeping only the images asked for.
/// Where one bad or unknown id fails a whole list (`one_id_fault`), the ids of that list are asked one by one, and
/// an id that fails alone is simply not there.
pub(super) async fn describe_in_chunks<F, Fut>(
    ids: &[String],
    limit: usize,
    one_id_fault: fn(&CloudError) -> bool,
    describe: F,
) -> Result<Vec<Image>, CloudError>
where
    F: Fn(Vec<String>) -> Fut,
    Fut: Future<Output = Result<Vec<Image>, CloudError>>,
{
    let mut out = Vec::new();
    for chunk in ids.chunks(limit.max(1)) {
        match describe(chunk.to_vec()).await {
            Ok(images) => out.extend(images.into_iter().filter(|i| chunk.contains(&i.id))),
            Err(e) if one_id_fault(&e) => {
                if chunk.len() == 1 {
                    continue;
                }
                for id in chunk {
                    match describe(vec![id.clone()]).await {
                        Ok(images) => out.extend(images.into_iter().filter(|i| &i.id == id)),
                        Err(e) if one_id_fault(&e) => {}
                        Err(e) => return Err(e),
                    }
                }
            }
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

/// Deletes with `delete` (the delete call). Not-found counts as deleted. A failure of a kind `confirm` names, where
/// the cloud has no documented "no such image" code, is settled by `describe` (the image asked for by id): not
/// listed is gone.
pub(super) async fn delete_confirmed<D, DF, T, L, LF>(
    delete: D,
    confirm: fn(&ErrorKind) -> bool,
    describe: L,
) -> Result<(), CloudError>
where
    D: FnOnce() -> DF,
    DF: Future<Output = Result<T, Failure>>,
    L: FnOnce() -> LF,
    LF: Future<Output = Result<Vec<Image>, CloudError>>,
{
    match delete().await.map_err(Failure::into_error) {
        Ok(_) => Ok(()),
        Err(e) if e.kind == ErrorKind::NotFound => Ok(()),
        Err(e) if confirm(&e.kind) => match describe().await {
            Ok(found) if found.is_empty() => Ok(()),
            _ => Err(e),
        },
        Err(e) => Err(e),
    }
}

/// A delete whose answer is the whole truth: done, or not-found (gone already), or the error.
pub(super) async fn delete_answered<D, DF, T>(delete: D) -> Result<(), CloudError>
where
    D: FnOnce() -> DF,
    DF: Future<Output = Result<T, Failure>>,
{
    delete_confirmed(delete, |_| false, || async { Ok(Vec::new()) }).await
}

/// For [`describe_in_chunks`]: no error is one id's fault.
pub(super) fn no_id_fault(_: &CloudError) -> bool {
    false
}

/// For [`describe_in_chunks`]: the cloud answers a list naming an unknown id with `NotFound`.
pub(super) fn not_found(e: &CloudError) -> bool {
    e.kind == ErrorKind::NotFound
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::Cloud;

    fn named(name: &str, n: usize) -> Vec<Image> {
        (0..n)
            .map(|i| Image {
                id: format!("{name}-{i}"),
                name: if i % 2 == 0 {
                    name.into()
                } else {
                    "other".into()
                },
                ..Image::default()
            })
            .collect()
    }

    #[tokio::test]
    async fn pages_until_short_or_total() {
        let mut asked = Vec::new();
        let found = find_by_name("web", |page| {
            asked.push(page);
            async move {
                Ok(Page {
                    images: named("web", if page < 2 { PAGE } else { 3 }),
                    total: 1000,
                })
            }
        })
        .await
        .unwrap();
        assert_eq!(asked, [0, 1, 2]);
        assert_eq!(found.len(), 50 + 50 + 2);
        let mut asked = 0;
        find_by_name("web", |_| {
            asked += 1;
            async {
                Ok(Page {
                    images: named("web", PAGE),
                    total: PAGE,
                })
            }
        })
        .await
        .unwrap();
        assert_eq!(asked, 1);
    }

    #[tokio::test]
    async fn failed_deletes_are_settled_by_a_look() {
        let err = |kind| -> Result<(), Failure> {
            Err(Failure::Definite(CloudError::new(
                Cloud::UCloud,
                kind,
                "Delete",
                "X",
                "m",
                None,
            )))
        };
        let gone = || async { Ok(Vec::new()) };
        let there = || async { Ok(named("x", 1)) };
        let any = |_: &ErrorKind| true;
        let never = |_: &ErrorKind| false;
        assert!(delete_confirmed(|| async { Ok(()) }, never, there)
            .await
            .is_ok());
        assert!(
            delete_confirmed(|| async { err(ErrorKind::NotFound) }, never, there)
                .await
                .is_ok()
        );
        assert!(
            delete_confirmed(|| async { err(ErrorKind::Other) }, never, gone)
                .await
                .is_err()
        );
        assert!(
            delete_confirmed(|| async { err(ErrorKind::Other) }, any, gone)
                .await
                .is_ok()
        );
        assert!(
            delete_confirmed(|| async { err(ErrorKind::Other) }, any, there)
                .await
                .is_err()
        );
    }
}
