//! `--shard K/N`: split one run's seed space over N workers or machines.

/// Parse `K/N` (1 ≤ K ≤ N) into the engine's `RunConfig::shard`,
/// `(offset, stride) = (K - 1, N)`: shard K runs execution indices
/// `K-1, K-1+N, K-1+2N, …`, so the N shards of a run cover its seed space
/// once between them and never repeat each other's executions.
pub fn parse_shard(s: &str) -> Result<(u64, u64), String> {
    let bad = || format!("--shard wants K/N with 1 <= K <= N, got '{s}'");
    let (k, n) = s.split_once('/').ok_or_else(bad)?;
    let k: u64 = k.trim().parse().map_err(|_| bad())?;
    let n: u64 = n.trim().parse().map_err(|_| bad())?;
    if k == 0 || n == 0 || k > n {
        return Err(bad());
    }
    Ok((k - 1, n))
}

#[cfg(test)]
mod tests {
    use super::parse_shard;

    #[test]
    fn shards_are_one_based() {
        assert_eq!(parse_shard("1/1"), Ok((0, 1)));
        assert_eq!(parse_shard("3/4"), Ok((2, 4)));
        for bad in ["0/4", "5/4", "1/0", "1", "a/b", "", "1/2/3"] {
            assert!(parse_shard(bad).is_err(), "{bad}");
        }
    }
}
