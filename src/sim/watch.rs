//! The simulator's clouds read an import's objects for as long as the import runs, as real clouds do: see
//! [`watch_imports`].

use std::sync::Arc;

use crate::app::Sim;
use crate::cloud::SimCloud;
use crate::objects::{object_of_url, Lookup};

/// The objects an image is being imported from: its system disk's `source` (a URL, or `bucket/object` for the
/// Alibaba family) and its data disks' (`bucket/object`).
fn objects_of(cloud: SimCloud, image: &crate::state::Image) -> Vec<(String, String)> {
    let one = |source: &str| {
        object_of_url(cloud, source).or_else(|| {
            source
                .split_once('/')
                .map(|(b, k)| (b.to_string(), k.to_string()))
        })
    };
    std::iter::once(image.source.as_str())
        .chain(image.data_disks.iter().map(|d| d.source.as_str()))
        .filter_map(one)
        .collect()
}

/// An image still importing: cloud, region, id and the objects it reads.
type Importing = (SimCloud, String, String, Vec<(String, String)>);

/// A real import reads its objects for as long as it runs: one deleted meanwhile fails the image. So while an
/// object store is configured, every quarter second the objects of each image still importing are looked up, and
/// an image whose object is gone (not: a store that does not answer) ends in its cloud's failed state.
pub(crate) fn watch_imports(sim: Arc<Sim>) {
    let Some(store) = sim.objects.clone() else {
        return;
    };
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_millis(250));
        loop {
            tick.tick().await;
            let now = crate::clock::now_ms();
            let importing: Vec<Importing> = sim
                .store()
                .all()
                .filter(|i| {
                    !i.fails && matches!(i.phase(now), crate::state::Phase::Importing { .. })
                })
                .map(|i| {
                    (
                        i.cloud,
                        i.region.clone(),
                        i.id.clone(),
                        objects_of(i.cloud, i),
                    )
                })
                .collect();
            for (cloud, region, id, objects) in importing {
                if let Lookup::NoObject(o) | Lookup::NoBucket(o) = store.lookup(&objects).await {
                    tracing::info!(%cloud, %region, %id, object = %o,
                        "an object the import reads is gone; the import fails");
                    sim.fail_import(cloud, &region, &id);
                }
            }
        }
    });
}
