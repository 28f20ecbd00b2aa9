//! `steward baseline <csv|jsonl> --out baseline.json`: the training data's
//! per-feature distributions, which the drift monitor compares traffic with.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use steward_drift::{BaselineBuilder, Binning, BuildOptions, Distribution, InputFormat};

pub struct BaselineArgs<'a> {
    pub data: &'a Path,
    pub out: &'a Path,
    pub features: &'a [String],
    pub exclude: &'a [String],
    pub categorical: &'a [String],
    /// `quantile` or `fixed`.
    pub binning: &'a str,
    pub bins: usize,
}

pub fn baseline(args: &BaselineArgs<'_>) -> Result<(), String> {
    let binning = match args.binning {
        "quantile" => Binning::Quantile,
        "fixed" => Binning::Fixed,
        other => return Err(format!("--binning is `quantile` or `fixed`, not `{other}`")),
    };
    if !(2..=1000).contains(&args.bins) {
        return Err(format!("--bins must be 2..=1000, not {}", args.bins));
    }
    let file =
        File::open(args.data).map_err(|e| format!("cannot read {}: {e}", args.data.display()))?;
    let mut builder = BaselineBuilder::new(BuildOptions {
        format: InputFormat::from_path(&args.data.to_string_lossy()),
        features: args.features.to_vec(),
        exclude: args.exclude.to_vec(),
        categorical: args.categorical.to_vec(),
        binning,
        bins: args.bins,
    });
    let in_file = |e: steward_drift::BaselineError| format!("{}: {e}", args.data.display());
    builder
        .read(BufReader::with_capacity(256 * 1024, file))
        .map_err(in_file)?;
    let baseline = builder.finish().map_err(in_file)?;
    std::fs::write(args.out, baseline.to_json() + "\n")
        .map_err(|e| format!("cannot write {}: {e}", args.out.display()))?;
    println!(
        "{}: baseline of {} rows, {} features → {}",
        args.data.display(),
        baseline.rows,
        baseline.features.len(),
        args.out.display()
    );
    for f in &baseline.features {
        let shape = match &f.distribution {
            Distribution::Numerical { counts, .. } => format!("numerical, {} bins", counts.len()),
            Distribution::Categorical { categories } => {
                format!("categorical, {} values", categories.len())
            }
        };
        println!("  {}: {shape}, {} missing", f.name, f.missing);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_a_baseline_the_monitor_reads() {
        let dir = std::env::temp_dir().join(format!("steward-baseline-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let data = dir.join("train.csv");
        let out = dir.join("baseline.json");
        std::fs::write(&data, "id,amount,country,label\na,1,DE,0\nb,5,FR,1\n").unwrap();
        let exclude = ["id".to_string(), "label".to_string()];
        baseline(&BaselineArgs {
            data: &data,
            out: &out,
            features: &[],
            exclude: &exclude,
            categorical: &[],
            binning: "quantile",
            bins: 10,
        })
        .unwrap();
        let written = steward_drift::Baseline::from_json(&std::fs::read(&out).unwrap()).unwrap();
        assert_eq!(written.rows, 2);
        assert_eq!(written.features.len(), 2);

        let err = baseline(&BaselineArgs {
            data: &data,
            out: &out,
            features: &[],
            exclude: &[],
            categorical: &[],
            binning: "random",
            bins: 10,
        })
        .unwrap_err();
        assert!(err.contains("quantile"), "{err}");
        std::fs::remove_dir_all(&dir).ok();
    }
}
