/**
 * grokscope's command line: `npm run cli -- <command> [flags]`.
 *
 *   train    train headless (same code as the page's worker); flags are the URL's keys
 *   analyze  the paper's measures of a checkpoint (safetensors or PyTorch), as JSON
 *   bench    training speed per backend (also `npm run bench`)
 *   inspect  what a file is, checked by the page's own reader (exit 0), or why it is refused (exit 2)
 */
import { SafetensorsError } from '../files/safetensors/safetensors.ts';
import { analyzeCommand } from './analyze.ts';
import { UsageError, parseArgs } from './node/args.ts';
import { benchCommand } from './bench/bench.ts';
import { inspectCommand } from './inspect.ts';
import { extractVary, mergeCommand, sweepCommand } from './sweep.ts';
import { trainCommand } from './train.ts';
import { sequenceSweepCommand, sequenceTaskOf, sequenceTrainCommand } from './train-sequence.ts';
import { splitCommand } from './split.ts';
import { precisionCommand } from './precision.ts';

const USAGE = `usage: npm run cli -- <command> [flags]

commands:
  train     Train headless and write {config, history} as JSON.
            --preset NAME      a paper experiment (mainline, quick, no-wd, p53, frac60, frac10, p401, two-layer, dropout, grokfast, slingshots)
            --p --frac --seed --task --dm --heads --mlp --layers --act --vout
            --lr --wd --b1 --b2 --warm --epochs --drop --l1 --gf --gfa --og --loss --norm --initscale --attnrate --lossprec
                               any configuration key of the page's URL
            --orthograd        ⊥Grad on (the same as --og 1; Prieto et al. 2025)
            --loss stablemax   train on StableMax's cross-entropy (default softmax)
            --lossprec f32     the loss gradient in plain float32 (induces slingshots, App. D.2)
            --backend wasm|cpu (default wasm)
            --every N          checkpoint every N epochs (default epochs/100)
            --out FILE         write the JSON there (default: standard output)
            --quiet            no progress output
            --until-acc X      stop at the first checkpoint with test accuracy ≥ X (e.g. 0.99)
            --split python     draw the split as the paper authors' code does (CPython's shuffle)
            --init FILE        start from a checkpoint's weights and train_indices (.safetensors,
                               a PyTorch .pth, or a folder of .pth files of one run)
                               (fresh Adam moments and warm-up; flags override its config)
            --save FILE        write the final weights as a safetensors checkpoint
            --record FILE      write the whole run (history, snapshots, split) as a run file the
                               page opens (.gz compresses); --record-snapshots N keeps at most N
                               snapshots, --record-dtype f16 halves them, --record-name names it

  train --task digits5|repeat|skip3
            The appendix's other tasks (App. D.3, Figs. 29–34): 5-digit addition (1 layer with MLP,
            18 positions), repeated subsequences (2-layer attention-only: induction heads) and skip
            trigrams (1-layer attention-only, 8 tokens), AdamW as the mainline. Writes {task, config,
            history}: train/test loss, per-token test accuracy, digits5's loss per answer digit,
            repeat's previous-token and induction score per head, skip3's attention to the token ≥ 10.
            --data N|inf       training examples (digits5 700, repeat and skip3 512), or a fresh
                               batch every update
            --batch N          examples per update (repeat 128; 0: the whole set; inf: 128)
            --epochs N (1000) --every M --seed S --lr --wd --b1 --b2 --test-size N --out FILE --quiet
            --appendix RUN     the page's run of Figs. 29–34 (skip3-inf, skip3-512, digits5-inf,
                               digits5-700, repeat-inf, repeat-512): its task, data, epochs, cadence

  sweep --task digits5|repeat|skip3 --seeds 0,1,2 --data 64,128,512
            Every seed × data size of an appendix task, each run as train --task alone; stacked in
            one update on a GPU, one by one on the CPU. Writes {task, config, layout, runs}.

  sweep     Train many runs batched: a base configuration (any train flag) and one or two varied keys.
            --vary KEY=V1,V2,…  a key and its values (whole numbers also as a range, seed=0-4); twice
                               for a phase diagram; or --sweep "wd:0,0.1,1;seed:0-4" (the URL's form)
            --epochs N --every M   as for train
            --out DIR          writes DIR/sweep.json {"runs": [{"config", "file"}]} and each run's
                               JSON as train --out writes it (DIR/runs/run-NNNN.json)
            --record           also each run's run file (DIR/runs/run-NNNN.grokrun.gz)
            --shard I/N        train only the I-th of N disjoint slices (0-based); default from
                               JOB_COMPLETION_INDEX/JOB_COMPLETIONS (Kubernetes Indexed Job) or
                               SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT (Slurm array)
            --batch N          at most N runs in one batched update (default 8; fewer if memory demands)
            --llc              also each run's LLC at its final weights, in its run JSON ("llc") and
                               the log; the --llc-* settings as for analyze

  merge DIR --out FILE
            Pack a sweep (sweep.json and every finished run) into one JSON file (.gz compresses).

  analyze FILE
            Print the paper's measures of a checkpoint as one JSON object (with allLoss/allAcc over
            all P² pairs). FILE: .safetensors, a PyTorch .pth (the authors' or TransformerLens'),
            or a folder of .pth files of one run. The authors' saved runs of the appendix tasks
            (App. D.3): their model's test loss, per-token accuracy and task measure on fresh
            problems (--test-size N, default 1,000, repeat 256; --seed S, default 0).
            --key-freqs 14,35,41   use these key frequencies instead of the default rule
            --split --seed --frac  the split, for a file that does not carry its own
            --backend wasm|cpu
            --llc              also the local learning coefficient (devinterp's SGLD estimator): chains
                               from the checkpoint, LLC = nβ·(mean draw loss − L(w*)), with each
                               chain's loss trace, the chains' spread, whether it settled
                               ("settled": the traces stopped drifting, "settleRule") and the time
            --llc-eps E (5e-5) --llc-gamma G (1000) --llc-nbeta B (batch / ln batch)
            --llc-chains C (4) --llc-draws D (100) --llc-batch N (128) --llc-seed S (0)
                               (the chains' seed is --llc-seed: --seed names the split of a
                               file that does not carry one)

  inspect FILE
            Check a file the page can import (run file or safetensors weights, gzipped or not)
            with the page's own reader: print what it is (kind, configuration, epochs,
            snapshots; a run's recorded loss recomputed) and exit 0, or print one line saying
            why the page refuses it and exit 2.

  split FILE --out DIR
            Lay a run file out for a static host: DIR/recording.json (the manifest),
            DIR/head.grokrun.gz (config, history, last snapshot: the curves draw from it) and
            DIR/snapshots.bin (the other snapshots, fetched with HTTP Range requests as needed).
            --story-step X     only the snapshots the views need: one is kept when a view's
                               measure (accuracy, Gini, ‖W_L‖'s share per frequency) moved by X

  precision FILE [--json]
            How far the paper's measures move when a float32 run file's snapshots are stored in
            float16 (as the shipped recordings are): per measure the largest difference over the
            snapshots, flagged over 1e-3; neurons whose frequency changes; whether K stays.

  bench     Time training per backend (default: the mainline; any configuration flag applies):
            ms/epoch (median of timed blocks), analytic GFLOP/epoch and achieved GFLOP/s, one
            full checkpoint analysis, the tensor count before/after, the fast path vs general.
            --backends wasm,cpu   Node's backends (default wasm; cpu takes ~15 s an epoch)
            --browser             run in headless Chromium instead (default webgpu,webgl,wasm;
                                  builds and serves the site)
            --blocks N (5)  --block-ms MS (1000)  --no-general  --no-analysis  --json
            --analysis-only       time only a checkpoint's analysis (for slow backends)
            --first-visit         the first seconds of a visit in headless Chromium, fresh profile:
                                  Train usable, first checkpoint after Train, first curve of
                                  ?run=reference and the bytes before it
            --llc                 time one LLC estimate with the defaults, against an epoch

examples:
  npm run cli -- train --preset mainline --epochs 500 --every 100 --out run.json
  npm run cli -- train --preset mainline --epochs 20000 --save grokked.safetensors
  npm run cli -- analyze grokked.safetensors --key-freqs 14,35,41
  npm run cli -- sweep --p 23 --dm 32 --mlp 128 --vary wd=0,1 --vary seed=0-2 --epochs 300 --every 50 --out sweep-dir
  npm run cli -- merge sweep-dir --out sweep.json
  npm run cli -- inspect public/runs/reference.grokrun.gz
  npm run cli -- split public/runs/reference.grokrun.gz --out public/runs/reference
  npm run bench -- --json
  npm run bench -- --evidence             the evidence pass (§4) against the heavy pass, same run
  npm run bench -- --browser --backends webgpu,wasm --p 53
`;

const BOOLEAN_FLAGS = new Set(['quiet', 'help', 'json', 'browser', 'no-general', 'no-analysis', 'analysis-only', 'evidence', 'first-visit', 'llc']);

async function main(argv: string[]): Promise<number> {
  // The appendix's sequence tasks (App. D.3) have their own trainer and flags.
  if (argv[0] === 'train' && sequenceTaskOf(argv) && !argv.includes('--help')) {
    await sequenceTrainCommand(argv);
    return 0;
  }
  if (argv[0] === 'sweep' && sequenceTaskOf(argv) && !argv.includes('--help')) {
    await sequenceSweepCommand(argv);
    return 0;
  }
  const { rest, vary } = argv[0] === 'sweep' ? extractVary(argv) : { rest: argv, vary: [] };
  const args = parseArgs(rest, argv[0] === 'sweep' ? new Set([...BOOLEAN_FLAGS, 'record']) : BOOLEAN_FLAGS);
  if (args.command === null || args.command === 'help' || args.flags.has('help')) {
    process.stdout.write(USAGE);
    return args.command === null && !args.flags.has('help') ? 2 : 0;
  }
  switch (args.command) {
    case 'train':
      await trainCommand(args);
      return 0;
    case 'bench':
      await benchCommand(args);
      return 0;
    case 'sweep':
      await sweepCommand(args, vary);
      return 0;
    case 'merge':
      mergeCommand(args);
      return 0;
    case 'analyze':
      process.stdout.write(`${JSON.stringify(await analyzeCommand(args), null, 1)}\n`);
      return 0;
    case 'split':
      process.stdout.write(`${(await splitCommand(args)).join('\n')}\n`);
      return 0;
    case 'precision':
      process.stdout.write(`${(await precisionCommand(args)).join('\n')}\n`);
      return 0;
    case 'inspect': {
      const result = await inspectCommand(args);
      (result.code === 0 ? process.stdout : process.stderr).write(`${result.lines.join('\n')}\n`);
      return result.code;
    }
    default:
      throw new UsageError(`unknown command "${args.command}"`);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof UsageError) {
      process.stderr.write(`error: ${err.message}\n\n${USAGE}`);
      process.exit(2);
    }
    // A file refused by its reader is bad input, as a bad flag is (no usage: the flags were right).
    if (err instanceof SafetensorsError) {
      process.stderr.write(`error: ${err.message.replace(/\s+/g, ' ').slice(0, 1000)}\n`);
      process.exit(2);
    }
    process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
