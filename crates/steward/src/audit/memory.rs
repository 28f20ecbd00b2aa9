//! An in-memory audit store for unit tests of handlers and views; it keeps
//! the same keys and order as the DynamoDB one.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use super::{Appended, AuditError, AuditRecord, AuditStore, AuditSubject, Cursor, Page, Query};

#[derive(Debug, Default)]
pub struct MemoryAuditStore {
    partitions: Mutex<BTreeMap<String, BTreeMap<String, AuditRecord>>>,
    groups: Mutex<BTreeSet<String>>,
}

impl MemoryAuditStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// How many items the store holds, over all partitions.
    pub fn item_count(&self) -> usize {
        let partitions = self.partitions.lock().expect("audit store lock");
        partitions.values().map(BTreeMap::len).sum()
    }
}

impl AuditStore for MemoryAuditStore {
    async fn append(&self, record: &AuditRecord) -> Result<Appended, AuditError> {
        let mut partitions = self.partitions.lock().expect("audit store lock");
        let mut appended = Appended::default();
        for subject in &record.subjects {
            let partition = partitions.entry(subject.partition_key()).or_default();
            match partition.entry(record.sort_key()) {
                std::collections::btree_map::Entry::Occupied(_) => appended.already_recorded += 1,
                std::collections::btree_map::Entry::Vacant(slot) => {
                    slot.insert(record.clone());
                    appended.written += 1;
                }
            }
            if let AuditSubject::Group { name } = subject {
                self.groups
                    .lock()
                    .expect("audit store lock")
                    .insert(name.clone());
            }
        }
        Ok(appended)
    }

    async fn page(&self, subject: &AuditSubject, query: &Query) -> Result<Page, AuditError> {
        let partitions = self.partitions.lock().expect("audit store lock");
        let Some(partition) = partitions.get(&subject.partition_key()) else {
            return Ok(Page {
                records: vec![],
                next: None,
            });
        };
        let (from, to) = query.sk_bounds();
        let in_range = |sk: &String| {
            from.as_ref().is_none_or(|f| sk >= f) && to.as_ref().is_none_or(|t| sk <= t)
        };
        let after_cursor = |sk: &String| match &query.cursor {
            None => true,
            Some(c) if query.newest_first => sk.as_str() < c.last_sort_key(),
            Some(c) => sk.as_str() > c.last_sort_key(),
        };
        let mut matching: Vec<(&String, &AuditRecord)> = partition
            .iter()
            .filter(|(sk, _)| in_range(sk) && after_cursor(sk))
            .collect();
        if query.newest_first {
            matching.reverse();
        }
        let size = query.page_size();
        let more = matching.len() > size;
        matching.truncate(size);
        let next = more
            .then(|| matching.last().map(|(sk, _)| Cursor::after(sk.as_str())))
            .flatten();
        Ok(Page {
            records: matching.into_iter().map(|(_, r)| r.clone()).collect(),
            next,
        })
    }

    async fn groups(&self) -> Result<Vec<String>, AuditError> {
        Ok(self
            .groups
            .lock()
            .expect("audit store lock")
            .iter()
            .cloned()
            .collect())
    }
}
