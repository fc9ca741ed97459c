//! The request log behind `GET /_sim/requests`: the most recent requests with their outcome,
//! and running counts per cloud and action, so tests can assert what a client actually did.

use std::collections::{BTreeMap, VecDeque};

use serde::Serialize;

use crate::cloud::SimCloud;

const KEEP: usize = 10_000;

/// One handled request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub(crate) struct Entry {
    /// Sequence number, from 1.
    pub seq: u64,
    /// When it arrived (`YYYY-MM-DDThh:mm:ssZ`).
    pub time: String,
    /// Backend.
    pub cloud: SimCloud,
    /// API action (empty when it could not be determined).
    pub action: String,
    /// Region (empty when none was given).
    pub region: String,
    /// `ok`, `error:<Code>`, `auth:<Code>`, `throttled`, `fault:<status>` or `fault:drop`.
    pub outcome: String,
    /// HTTP status sent (0 for a dropped connection).
    pub status: u16,
}

/// Recent entries and per-cloud/per-action counts.
#[derive(Debug, Default)]
pub(crate) struct Journal {
    next: u64,
    entries: VecDeque<Entry>,
    counts: BTreeMap<String, BTreeMap<String, u64>>,
}

/// The JSON body of `GET /_sim/requests`.
#[derive(Serialize)]
pub(crate) struct JournalView<'a> {
    /// Recent entries, oldest first.
    pub entries: Vec<&'a Entry>,
    /// Counts: cloud -> action -> requests.
    pub counts: &'a BTreeMap<String, BTreeMap<String, u64>>,
}

impl Journal {
    /// Records one request.
    pub(crate) fn record(
        &mut self,
        time: String,
        cloud: SimCloud,
        action: &str,
        region: &str,
        outcome: String,
        status: u16,
    ) {
        self.next += 1;
        *self
            .counts
            .entry(cloud.name().to_string())
            .or_default()
            .entry(action.to_string())
            .or_default() += 1;
        self.entries.push_back(Entry {
            seq: self.next,
            time,
            cloud,
            action: action.to_string(),
            region: region.to_string(),
            outcome,
            status,
        });
        while self.entries.len() > KEEP {
            self.entries.pop_front();
        }
    }

    /// The view served by the admin API.
    pub(crate) fn view(&self) -> JournalView<'_> {
        JournalView {
            entries: self.entries.iter().collect(),
            counts: &self.counts,
        }
    }

    /// Forgets everything.
    pub(crate) fn clear(&mut self) {
        *self = Journal::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_and_counts() {
        let mut j = Journal::default();
        j.record(
            "t".into(),
            SimCloud::Ucloud,
            "DescribeImage",
            "cn-bj2",
            "ok".into(),
            200,
        );
        j.record(
            "t".into(),
            SimCloud::Ucloud,
            "DescribeImage",
            "cn-bj2",
            "throttled".into(),
            200,
        );
        j.record(
            "t".into(),
            SimCloud::Tencentcloud,
            "ImportImage",
            "ap-guangzhou",
            "ok".into(),
            200,
        );
        let v = j.view();
        assert_eq!(v.entries.len(), 3);
        assert_eq!(v.entries[2].seq, 3);
        assert_eq!(v.counts["ucloud"]["DescribeImage"], 2);
        assert_eq!(v.counts["tencentcloud"]["ImportImage"], 1);
        j.clear();
        assert!(j.view().entries.is_empty());
    }
}
