use harness::engine::*;
fn main() {
    let only = std::env::var("ONLY").ok();
    for s in scenarios::ALL.iter().filter(|s| only.as_deref().is_none_or(|o| o == s.name)) {
        for ex in [Explorer::Random, Explorer::Pct { depth: None }] {
            let run = RunConfig { explorer: ex.clone(), seed: 1, budget: Budget { iterations: Some(std::env::var("N").map(|n| n.parse().unwrap()).unwrap_or(20000)), time: None }, exec: ExecConfig::default(), stop: StopPolicy::FirstFatal, shard: (0, 1) };
            let st = explore(&s.scenario(s.default_workload), &run, None).unwrap();
            let firsts: Vec<String> = st.first.iter().map(|(k, h)| format!("{k}@{}", h.executions)).collect();
            println!("{:26} {:7} exp={:?} got={:?} execs={} rate={:.0}/s {:?}", s.name, ex.name(), s.expected.sc, st.verdict(), st.executions, st.rate(), firsts);
            if let Some((sig, rec)) = st.distinct.first() { if std::env::var("DUMP").is_ok() { dump(rec) } if ex == Explorer::Random { println!("   {sig} | {}", rec.findings[0].headline()); } }
        }
    }
}
#[allow(dead_code)]
fn dump(rec: &ExecutionRecord) {
    for e in &rec.events { if !e.minor || std::env::var("MINOR").is_ok() { println!("{:>3} {:10} {:60} {}", e.task, rec.tasks[e.task], e.text, e.site); } }
}
