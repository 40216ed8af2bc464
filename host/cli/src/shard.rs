//! `--shard I/N`: N replicas of allsync split a config's jobs between them
//! with no coordination, each job going to one shard by a stable hash of
//! its name (the same on every machine and in every allsync version).

use std::fmt;
use std::str::FromStr;

/// One of `count` shards, counted from 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// Which shard, from 0 to `count - 1`.
    pub index: u64,
    /// How many shards there are.
    pub count: u64,
}

impl Shard {
    /// Whether the job named `job` is this shard's.
    pub fn has(&self, job: &str) -> bool {
        let digest = allsync_runtime::sha256_hex(job.as_bytes());
        let first = u64::from_str_radix(&digest[..16], 16).expect("hex digits");
        first % self.count == self.index
    }
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let usage = || format!("`{text}` is not a shard: write I/N, e.g. 0/3 (I counts from 0)");
        let (index, count) = text.split_once('/').ok_or_else(usage)?;
        let index: u64 = index.trim().parse().map_err(|_| usage())?;
        let count: u64 = count.trim().parse().map_err(|_| usage())?;
        if count == 0 {
            return Err(format!("`{text}`: there must be at least one shard"));
        }
        if index >= count {
            return Err(format!(
                "`{text}`: shards count from 0, so with {count} they are 0/{count} to {}/{count}",
                count - 1
            ));
        }
        Ok(Shard { index, count })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_job_belongs_to_exactly_one_shard() {
        let jobs: Vec<String> = (0..500).map(|n| format!("job-{n}")).collect();
        for count in 1..=7 {
            let shards: Vec<Shard> = (0..count).map(|index| Shard { index, count }).collect();
            for job in &jobs {
                let owners = shards.iter().filter(|shard| shard.has(job)).count();
                assert_eq!(owners, 1, "{job} with {count} shards");
            }
        }
    }

    #[test]
    fn jobs_spread_over_the_shards() {
        let count = 4;
        let sizes: Vec<usize> = (0..count)
            .map(|index| {
                (0..1000)
                    .filter(|n| Shard { index, count }.has(&format!("team-{n}")))
                    .count()
            })
            .collect();
        assert!(
            sizes.iter().all(|size| (180..=320).contains(size)),
            "{sizes:?}"
        );
    }

    #[test]
    fn a_job_stays_in_its_shard_from_version_to_version_and_machine_to_machine() {
        // The first 8 bytes of sha256(name), modulo N: these must never change,
        // or replicas of two versions would run a job twice or not at all.
        let owner = |job: &str| (0..3).find(|&index| Shard { index, count: 3 }.has(job));
        assert_eq!(owner("engineers"), Some(2));
        assert_eq!(owner("on-call"), Some(1));
        assert_eq!(owner("everyone"), Some(1));
    }

    #[test]
    fn a_shard_is_written_i_of_n_counting_from_zero() {
        assert_eq!("1/3".parse(), Ok(Shard { index: 1, count: 3 }));
        assert!("3/3".parse::<Shard>().unwrap_err().contains("0/3 to 2/3"));
        assert!("1/0".parse::<Shard>().unwrap_err().contains("at least one"));
        assert!("one/3".parse::<Shard>().unwrap_err().contains("I/N"));
    }
}
