//! `store`: search latency, ANN recall and index size of the store, on
//! a synthetic table (random unit vectors around random topics, generated
//! code-like text) or on a project's real index. No model is loaded: vector queries are random unit
//! vectors (synthetic) or stored chunk vectors (real), so only the store is
//! timed.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use mvs_store::{
    AnnKind, ChunkRecord, FileRecord, FileStatus, SearchFilter, SearchMode, SearchRequest, SharedIndex, Store,
};

/// Arguments of `store`.
#[derive(Debug, clap::Args)]
pub struct StoreArgs {
    /// Chunks in the synthetic table.
    #[arg(long, default_value_t = 100_000)]
    rows: usize,
    /// Where the synthetic table lives; kept between runs and reused when it
    /// already holds --rows chunks (default: a directory under the temp dir).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Measure a project's real index instead of a synthetic table.
    #[arg(long, conflicts_with_all = ["rows", "dir"])]
    project_root: Option<PathBuf>,
    /// Queries per mode.
    #[arg(long, default_value_t = 200)]
    queries: usize,
    /// Skip the recall check (it runs an exact search per query: slow on
    /// big tables).
    #[arg(long)]
    no_recall: bool,
    /// ANN index to build before measuring (`none`: vector queries scan
    /// every vector, bypassing any ANN index).
    #[arg(long, value_enum, default_value_t = AnnChoice::IvfHnswSq)]
    ann: AnnChoice,
    /// Also publish the table to this shared index (`s3://bucket/prefix`;
    /// endpoint and credentials from the `AWS_*` variables) and measure
    /// searches reading it there, after the local ones, with the same
    /// queries.
    #[arg(long)]
    index_uri: Option<String>,
}

/// The vector index a run measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum AnnChoice {
    /// No ANN index: every vector query scans.
    None,
    /// IVF + HNSW over scalar-quantised vectors.
    IvfHnswSq,
    /// IVF + product quantisation, re-ranked.
    IvfPq,
}

impl AnnChoice {
    fn kind(self) -> Option<AnnKind> {
        match self {
            AnnChoice::None => None,
            AnnChoice::IvfHnswSq => Some(AnnKind::IvfHnswSq),
            AnnChoice::IvfPq => Some(AnnKind::IvfPq),
        }
    }
}

const DIMENSION: usize = 384;
/// Chunks per synthetic file.
const CHUNKS_PER_FILE: usize = 20;
/// Synthetic files per commit.
const FILES_PER_COMMIT: usize = 500;
/// Seed of the synthetic table.
const SEED: u64 = 20261127;
/// Results per query, as agents ask by default.
const LIMIT: usize = 10;

/// `store`.
pub async fn store(args: StoreArgs) -> anyhow::Result<()> {
    let (store, queries, label) = match &args.project_root {
        Some(root) => {
            let project = mvs_index::Project::new(root)?;
            let store = mvs_index::open_index(&project).await?;
            let queries = real_queries(&store, args.queries).await?;
            (store, queries, format!("index of {}", project.root().display()))
        }
        None => {
            let dir = args
                .dir
                .clone()
                .unwrap_or_else(|| std::env::temp_dir().join(format!("mvs-bench-store-{}", args.rows)));
            let store = synthetic_store(&dir, args.rows).await?;
            (
                store,
                synthetic_queries(args.queries),
                format!("synthetic table in {}", dir.display()),
            )
        }
    };
    let rows = store.stats().await?.chunks;
    println!("{label}: {rows} chunks");
    if let Some(kind) = args.ann.kind()
        && store.ann_index().await? != Some(kind)
    {
        let started = Instant::now();
        store.build_ann_index(kind).await?;
        println!("ANN index {kind:?} built in {:.1} s", started.elapsed().as_secs_f64());
    }
    let bytes = dir_size(store.dir());
    println!(
        "on disk: {:.1} MB, {:.0} bytes per chunk (ANN: {:?})",
        bytes as f64 / 1e6,
        bytes as f64 / rows.max(1) as f64,
        store.ann_index().await?
    );
    if args.ann.kind().is_some() && !args.no_recall {
        let recall = recall_at_10(&store, &queries).await?;
        println!("recall@10 of the ANN index against exact search: {recall:.3}");
    }
    let exact = args.ann == AnnChoice::None;
    println!("local disk:");
    latencies(&store, &queries, exact).await?;
    if let Some(uri) = &args.index_uri {
        let shared = SharedIndex::new(uri)?;
        let started = Instant::now();
        let published = shared.publish(&store, "bench").await?;
        println!(
            "published to {uri} ({}) in {:.1} s",
            published.generation,
            started.elapsed().as_secs_f64()
        );
        let started = Instant::now();
        let reader = shared
            .open_reader()
            .await?
            .context("nothing published after publishing")?;
        println!(
            "reader opened in {:.2} s; shared index:",
            started.elapsed().as_secs_f64()
        );
        latencies(&reader, &queries, exact).await?;
    }
    Ok(())
}

/// Prints warm search latency per mode: 5 warm-up queries (they load index
/// pages and plan caches), then every query timed.
async fn latencies(store: &Store, queries: &[BenchQuery], exact: bool) -> anyhow::Result<()> {
    println!("{:8} {:>8} {:>8} {:>8}", "mode", "p50 ms", "p95 ms", "max ms");
    for mode in [SearchMode::Vector, SearchMode::Keyword, SearchMode::Hybrid] {
        let mut times = Vec::with_capacity(queries.len());
        for query in queries.iter().take(5) {
            store.search(&request(query, mode, exact)).await?;
        }
        for query in queries {
            let started = Instant::now();
            store.search(&request(query, mode, exact)).await?;
            times.push(started.elapsed().as_secs_f64() * 1e3);
        }
        times.sort_by(f64::total_cmp);
        println!(
            "{:8} {:>8.1} {:>8.1} {:>8.1}",
            format!("{mode:?}").to_lowercase(),
            percentile(&times, 0.50),
            percentile(&times, 0.95),
            times.last().copied().unwrap_or_default()
        );
    }
    Ok(())
}

/// A query: its text (keyword lane) and its vector (vector lane).
struct BenchQuery {
    text: String,
    vector: Vec<f32>,
}

fn request(query: &BenchQuery, mode: SearchMode, exact: bool) -> SearchRequest {
    SearchRequest {
        text: query.text.clone(),
        vector: Some(query.vector.clone()),
        mode,
        limit: LIMIT,
        filter: SearchFilter::default(),
        exact,
        keyword_weight: None,
        min_score: 0.0,
    }
}

/// Mean overlap of the ANN top 10 with the exact top 10.
async fn recall_at_10(store: &Store, queries: &[BenchQuery]) -> anyhow::Result<f64> {
    let ids = |hits: Vec<mvs_store::SearchHit>| -> std::collections::HashSet<String> {
        hits.into_iter().map(|hit| hit.chunk.chunk_id).collect()
    };
    let mut total = 0.0;
    for query in queries {
        let exact = ids(store.search(&request(query, SearchMode::Vector, true)).await?);
        let approximate = ids(store.search(&request(query, SearchMode::Vector, false)).await?);
        total += exact.intersection(&approximate).count() as f64 / exact.len().max(1) as f64;
    }
    Ok(total / queries.len().max(1) as f64)
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

fn dir_size(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|entry| match entry.file_type() {
            Ok(kind) if kind.is_dir() => dir_size(&entry.path()),
            _ => entry.metadata().map_or(0, |m| m.len()),
        })
        .sum()
}

/// Queries from a real index: stored vectors of chunks spread over the
/// table, and their names as keyword text.
async fn real_queries(store: &Store, count: usize) -> anyhow::Result<Vec<BenchQuery>> {
    let records = store.file_records().await?;
    let indexed: Vec<&str> = records
        .iter()
        .filter(|r| r.status == FileStatus::Indexed)
        .map(|r| r.path.as_str())
        .collect();
    let step = (indexed.len() / count.max(1)).max(1);
    let sampled: Vec<&str> = indexed.iter().step_by(step).take(count).copied().collect();
    let chunks = store.chunks_of_files(&sampled).await?;
    anyhow::ensure!(!chunks.is_empty(), "the index holds no chunks to query with");
    let step = (chunks.len() / count.max(1)).max(1);
    Ok(chunks
        .into_iter()
        .step_by(step)
        .take(count)
        .map(|(chunk, vector)| BenchQuery {
            text: chunk.name,
            vector,
        })
        .collect())
}

/// splitmix64: a small deterministic generator, so every run builds and
/// queries the same table.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn gaussian(&mut self) -> f32 {
        let (u1, u2) = (self.unit().max(1e-12), self.unit());
        ((-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()) as f32
    }

    /// A uniformly random direction: normalised Gaussian coordinates.
    fn direction(&mut self) -> Vec<f32> {
        let mut v: Vec<f32> = (0..DIMENSION).map(|_| self.gaussian()).collect();
        mvs_embed::normalize(&mut v);
        v
    }
}

/// Topics of the synthetic vectors.
const TOPICS: usize = 1024;
/// Spread around a topic: a row's cosine to its topic is about 0.8 and to a
/// neighbour about 0.65, as between related chunks of real code.
const TOPIC_SPREAD: f32 = 0.75;

/// Random unit vectors grouped around random topic directions. Uniform
/// directions would be a poor stand-in for embeddings: in 384 dimensions
/// they are all nearly orthogonal, so "nearest" means little and no ANN
/// index can find it without scanning everything.
struct VectorSource {
    topics: Vec<Vec<f32>>,
}

impl VectorSource {
    fn new(rng: &mut Rng) -> Self {
        Self {
            topics: (0..TOPICS).map(|_| rng.direction()).collect(),
        }
    }

    fn next(&self, rng: &mut Rng) -> Vec<f32> {
        let topic = &self.topics[rng.below(TOPICS)];
        let scale = TOPIC_SPREAD / (DIMENSION as f32).sqrt();
        let mut v: Vec<f32> = topic.iter().map(|t| t + scale * rng.gaussian()).collect();
        mvs_embed::normalize(&mut v);
        v
    }
}

/// Words identifiers are made of.
const WORDS: &[&str] = &[
    "parse", "config", "http", "client", "request", "response", "token", "buffer", "stream", "cache", "index",
    "vector", "query", "search", "file", "path", "reader", "writer", "lock", "error", "result", "handler", "route",
    "session", "user", "account", "payment", "order", "item", "list", "map", "tree", "node", "graph", "edge", "schema",
    "table", "row", "column", "batch", "queue", "worker", "task", "job", "event", "signal", "timer", "socket",
    "packet", "frame", "codec", "encode", "decode", "hash", "digest", "key", "value", "store", "load", "save", "open",
    "close", "read", "write", "send", "receive", "connect", "retry", "backoff", "limit", "rate", "window", "chunk",
    "split", "merge", "sort", "filter", "group", "join", "render", "layout", "style", "theme",
];

fn identifier(rng: &mut Rng) -> String {
    let parts: Vec<&str> = (0..2 + rng.below(2)).map(|_| WORDS[rng.below(WORDS.len())]).collect();
    match rng.below(3) {
        0 => parts.join("_"),
        1 => {
            let mut out = parts[0].to_string();
            for part in &parts[1..] {
                out.push_str(&part[..1].to_uppercase());
                out.push_str(&part[1..]);
            }
            out
        }
        _ => parts
            .iter()
            .map(|p| format!("{}{}", &p[..1].to_uppercase(), &p[1..]))
            .collect(),
    }
}

/// A function-like chunk of about 300 bytes.
fn synthetic_chunk(rng: &mut Rng, file: &str, ordinal: usize) -> ChunkRecord {
    let name = identifier(rng);
    let (arg, ty, local, call) = (identifier(rng), identifier(rng), identifier(rng), identifier(rng));
    let signature = format!("fn {name}({arg}: &{ty}) -> Result<{ty}>");
    let content = format!(
        "/// {} the {} of a {}.\n{signature} {{\n    let {local} = {call}({arg})?;\n    \
         if {local}.is_empty() {{\n        return Err(Error::{}({arg}.len()));\n    }}\n    Ok({local}.into())\n}}\n",
        WORDS[rng.below(WORDS.len())],
        WORDS[rng.below(WORDS.len())],
        WORDS[rng.below(WORDS.len())],
        identifier(rng),
    );
    ChunkRecord {
        chunk_id: format!("{file}#{name}#{ordinal}"),
        file_path: file.to_string(),
        language: "rust".into(),
        kind: "function".into(),
        qualified_name: name.clone(),
        name,
        signature,
        doc: None,
        parent_id: None,
        start_line: (ordinal * 10 + 1) as u32,
        end_line: (ordinal * 10 + 8) as u32,
        start_byte: 0,
        end_byte: content.len() as u64,
        content_hash: blake3::hash(content.as_bytes()).to_hex().to_string(),
        content,
        embedding_hash: None,
        part: None,
        cell: None,
    }
}

/// Keyword queries like an agent's: one or two words, or an identifier.
fn synthetic_queries(count: usize) -> Vec<BenchQuery> {
    // The table's topics (same seed), new points around them.
    let vectors = VectorSource::new(&mut Rng(SEED));
    let mut rng = Rng(0x0005_eed0_f9e7);
    (0..count)
        .map(|i| BenchQuery {
            text: match i % 3 {
                0 => identifier(&mut rng),
                1 => WORDS[rng.below(WORDS.len())].to_string(),
                _ => format!("{} {}", WORDS[rng.below(WORDS.len())], WORDS[rng.below(WORDS.len())]),
            },
            vector: vectors.next(&mut rng),
        })
        .collect()
}

/// Opens the synthetic table in `dir`, generating it unless it already
/// holds `rows` chunks.
async fn synthetic_store(dir: &Path, rows: usize) -> anyhow::Result<Store> {
    const MODEL: &str = "synthetic-topics-384";
    if let Some(store) = Store::open_existing(dir).await?
        && store.meta().model_id == MODEL
        && store.stats().await?.chunks == rows
    {
        return Ok(store);
    }
    Store::remove(dir)?;
    let store = Store::open(dir, MODEL, DIMENSION)
        .await
        .with_context(|| format!("cannot create {}", dir.display()))?;
    let mut rng = Rng(SEED);
    let vectors = VectorSource::new(&mut rng);
    let started = Instant::now();
    let files = rows.div_ceil(CHUNKS_PER_FILE);
    let mut written = 0;
    for first in (0..files).step_by(FILES_PER_COMMIT) {
        let (mut records, mut chunks, mut row_vectors) = (Vec::new(), Vec::new(), Vec::new());
        for f in first..(first + FILES_PER_COMMIT).min(files) {
            let path = format!("src/module_{}/file_{f}.rs", f / 100);
            let count = CHUNKS_PER_FILE.min(rows - written);
            for ordinal in 0..count {
                chunks.push(synthetic_chunk(&mut rng, &path, ordinal));
                row_vectors.push(vectors.next(&mut rng));
            }
            written += count;
            records.push(FileRecord {
                path,
                size: 0,
                mtime_ns: 0,
                content_hash: String::new(),
                language: Some("rust".into()),
                status: FileStatus::Indexed,
                reason: None,
                chunks: count as u32,
                indexed_at_ms: 0,
            });
        }
        store.replace_files(&records, &chunks, &row_vectors).await?;
        eprint!("\rgenerated {written} / {rows} chunks");
    }
    eprintln!();
    println!(
        "generated {rows} chunks in {:.1} s; building the full-text index",
        started.elapsed().as_secs_f64()
    );
    let started = Instant::now();
    store.refresh_indices().await?;
    println!("indices refreshed in {:.1} s", started.elapsed().as_secs_f64());
    // Searched as the server searches: a reader's caches, not a writer's.
    drop(store);
    Store::open_existing(dir)
        .await?
        .with_context(|| format!("{} vanished", dir.display()))
}
