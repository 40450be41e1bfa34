/**
 * The command-line interface: commands, options, help text and examples,
 * declared with commander. Each action loads its command module on demand, so
 * `bp --help` and `bp info` start without loading the training stack.
 */
import { Argument, Command, Option } from 'commander';
import { BACKENDS, DATASETS, GRAPH_FORMATS, LOSSES, OPTIMIZERS, oneOf } from './choices.js';
import { fraction, nonNegativeInt, positiveInt, positiveNumber } from './parse-args.js';
import { err as errColors } from './style.js';

/** The version printed by `bp --version` and `bp info`. */
export const VERSION = '0.1.0';

function examples(lines: string[]): string {
  return '\nExamples:\n' + lines.map((l) => `  $ ${l}`).join('\n') + '\n';
}

/**
 * Builds the `bp` program. `setExitCode` receives the status an action wants
 * to end with (e.g. 130 after Ctrl-C) when it is not plain success.
 */
export function buildProgram(setExitCode: (code: number) => void): Command {
  const program = new Command('bp')
    .description('Train, evaluate and explain neural networks built with bp: backpropagation you can read, run and trust.')
    .version(VERSION, '-V, --version', 'print the version')
    .option('--verbose', 'show stack traces of errors')
    .helpOption('-h, --help', 'show help')
    .showHelpAfterError(errColors.dim('(add --help for usage and examples)'))
    .showSuggestionAfterError(true)
    .configureOutput({ outputError: (str, write) => write(errColors.red(str)) })
    .exitOverride()
    .addHelpText(
      'after',
      examples([
        'bp train mnist                      # the Keras MLP on MNIST, then the test accuracy',
        'bp train xor --epochs 500 --lr 0.5',
        'bp predict runs/mnist --index 0     # a test digit as terminal art, with the top 3 guesses',
        'bp explain                          # one backprop step, every number shown',
        'bp train names --model gpt && bp sample runs/names',
        'bp info',
      ]),
    );

  const commonOut = (cmd: Command) => cmd.exitOverride().showHelpAfterError(errColors.dim(`(add --help for usage and examples)`));

  commonOut(
    program
      .command('train')
      .description('train a model on a dataset; writes the model, a checkpoint per epoch and a report to --out')
      .addArgument(new Argument('[dataset]', 'what to learn (leave out with --resume)').choices(DATASETS).argParser(oneOf(DATASETS)))
      .option('--model <name|spec.json>', 'mlp, cnn, gpt (for names), or a model.json architecture file', 'mlp')
      .option('--epochs <n>', 'passes over the training data (default: per dataset)', positiveInt)
      .option('--batch-size <n>', 'examples per step (default: per dataset)', positiveInt)
      .option('--lr <x>', 'learning rate (default: per dataset and optimizer)', positiveNumber)
      .addOption(new Option('--optimizer <name>', 'optimizer (default: per dataset)').choices(OPTIMIZERS).argParser(oneOf(OPTIMIZERS)))
      .addOption(
        new Option('--loss <name>', 'cross-entropy of the predicted classes, or mse against one-hot labels')
          .choices(LOSSES)
          .argParser(oneOf(LOSSES))
          .default('cross-entropy'),
      )
      .addOption(new Option('--backend <name>', 'where the math runs').choices(BACKENDS).argParser(oneOf(BACKENDS)).default('cpu'))
      .option('--seed <n>', 'seed of every random draw (init, shuffling, dropout, synthetic data)', nonNegativeInt, 42)
      .option('--limit <n>', 'use only the first N training and test examples', positiveInt)
      .option(
        '--validation-split <f>',
        'fraction of training data held out for validation (default: 0.1 MNIST, 0.2 synthetic, 0 XOR)',
        fraction,
      )
      .option('--data-dir <dir>', 'directory with the IDX files (MNIST, Fashion-MNIST)')
      .option('--out <dir>', 'where to write model, checkpoints and report (default: runs/<dataset>, numbered if taken)')
      .option(
        '--resume <dir>',
        'continue the run in <dir> from its last checkpoint, with its saved settings (--epochs and --lr may change)',
      )
      .option('--overwrite', 'replace the run already in --out (without it, a non-empty --out is refused)')
      .option('--json', 'print one JSON object per epoch and a final one, instead of the progress display')
      .addHelpText(
        'after',
        examples([
          'bp train mnist',
          'bp train mnist --model cnn --epochs 3',
          'bp train fashion-mnist --data-dir ~/data/fashion --optimizer adamw',
          'bp train spirals --epochs 200 --json > log.jsonl',
          'bp train names --model gpt          # a character-level GPT on 8,400 first names',
          'bp train mnist --out runs/mlp   # then, after Ctrl-C or a crash:',
          'bp train --resume runs/mlp',
        ]),
      )
      .action(async (dataset: string | undefined, opts, cmd: Command) => {
        const { runTrain } = await import('./commands/train.js');
        setExitCode(await runTrain(dataset, opts, cmd));
      }),
  );

  commonOut(
    program
      .command('eval')
      .description("evaluate a saved model on a dataset's test split")
      .argument('<model-dir>', 'a directory written by bp train --out')
      .addArgument(
        new Argument('[dataset]', 'dataset to evaluate on (default: the one the run trained on, from its run.json)')
          .choices(DATASETS)
          .argParser(oneOf(DATASETS)),
      )
      .option('--data-dir <dir>', 'directory with the IDX files (MNIST, Fashion-MNIST)')
      .option('--limit <n>', 'use only the first N test examples', positiveInt)
      .option('--batch-size <n>', 'examples per forward pass', positiveInt, 256)
      .addOption(new Option('--backend <name>', 'where the math runs').choices(BACKENDS).argParser(oneOf(BACKENDS)).default('cpu'))
      .option('--json', 'print the result as one JSON object')
      .addHelpText(
        'after',
        examples(['bp eval runs/mnist', 'bp eval runs/mnist mnist', 'bp eval runs/fashion fashion-mnist --data-dir ~/data/fashion --json']),
      )
      .action(async (modelDir: string, dataset: string | undefined, opts) => {
        const { runEval } = await import('./commands/eval.js');
        setExitCode(await runEval(modelDir, dataset, opts));
      }),
  );

  commonOut(
    program
      .command('predict')
      .description('classify one image (a PNG file, or a test image by index), drawn in the terminal with the top 3 guesses')
      .argument('<model-dir>', 'a directory written by bp train --out')
      .argument('[image]', 'a PNG image (any size; converted to 28x28 grayscale)')
      .option('--index <n>', 'take test image number N of the dataset instead of a file', nonNegativeInt)
      .addOption(
        new Option('--dataset <name>', 'dataset for --index (default: the one the model was trained on)')
          .choices(DATASETS)
          .argParser(oneOf(DATASETS)),
      )
      .option('--data-dir <dir>', 'directory with the IDX files (MNIST, Fashion-MNIST)')
      .option('--invert', 'invert the PNG (for dark digits on a light background, as most drawings are)')
      .option('--json', 'print the result as one JSON object')
      .addHelpText('after', examples(['bp predict runs/mnist --index 7', 'bp predict runs/mnist my-digit.png --invert']))
      .action(async (modelDir: string, image: string | undefined, opts) => {
        const { runPredict } = await import('./commands/predict.js');
        setExitCode(await runPredict(modelDir, image, opts));
      }),
  );

  commonOut(
    program
      .command('sample')
      .description('print text generated by a GPT trained with bp train names --model gpt (one name per line)')
      .argument('<run>', 'a directory written by bp train names --model gpt')
      .option('--count <n>', 'how many samples', positiveInt, 10)
      .option('--temperature <x>', 'below 1 sharper and safer, above 1 more adventurous', positiveNumber, 1)
      .option('--top-k <n>', 'draw only among the k likeliest characters (default: all)', positiveInt)
      .option('--seed <n>', 'seed of the draws: the same seed prints the same samples', nonNegativeInt, 42)
      .option('--max-length <n>', 'cut a sample after this many characters', positiveInt, 32)
      .option('--json', 'print the samples as one JSON object')
      .addHelpText(
        'after',
        examples([
          'bp sample runs/names',
          'bp sample runs/names --count 20 --temperature 0.8 --top-k 5 --seed 7',
          'bp sample runs/names --json',
        ]),
      )
      .action(async (run: string, opts) => {
        const { runSample } = await import('./commands/sample.js');
        setExitCode(await runSample(run, opts));
      }),
  );

  commonOut(
    program
      .command('explain')
      .description('walk one backprop step of a tiny 2-2-1 network with real numbers computed by bp')
      .option('--lr <x>', 'learning rate of the update', positiveNumber, 0.5)
      .addOption(
        new Option('--graph <format>', 'print only the recorded computation graph, with values and gradients')
          .choices(GRAPH_FORMATS)
          .argParser(oneOf(GRAPH_FORMATS)),
      )
      .option('--json', 'print the step (or the graph) as one JSON object')
      .addHelpText('after', examples(['bp explain', 'bp explain --graph mermaid', 'bp explain --graph dot | dot -Tsvg > graph.svg']))
      .action(async (opts) => {
        const { runExplain } = await import('./commands/explain.js');
        setExitCode(await runExplain(opts));
      }),
  );

  commonOut(
    program
      .command('bench')
      .description('measure op and matmul throughput and an MNIST MLP epoch, per available backend')
      .addOption(new Option('--backend <name>', 'measure only this backend').choices(BACKENDS).argParser(oneOf(BACKENDS)))
      .option('--quick', 'smaller sizes and a shorter epoch, for a fast look')
      .option('--json', 'print the results as one JSON object')
      .addHelpText('after', examples(['bp bench', 'bp bench --quick --json']))
      .action(async (opts) => {
        const { runBench } = await import('./commands/bench.js');
        setExitCode(await runBench(opts));
      }),
  );

  commonOut(
    program
      .command('export')
      .description('write a trained model for other tools: ONNX for ONNX Runtime, or safetensors weights for PyTorch')
      .argument('<run>', 'a directory written by bp train --out')
      .addOption(new Option('--format <format>', 'what to write').choices(['onnx', 'safetensors']).makeOptionMandatory())
      .option('--output <file>', 'where to write (default: <run>/model.onnx or <run>/weights.safetensors)')
      .option('--opset <n>', 'ONNX opset version, 17 to 21 (default 17)', positiveInt)
      .option('--overwrite', 'replace an existing --output file')
      .option('--json', 'print the result as one JSON object')
      .addHelpText(
        'after',
        examples(['bp export runs/mnist --format onnx', 'bp export runs/mnist --format safetensors --output mnist.safetensors']),
      )
      .action(async (run: string, opts) => {
        const { runExport } = await import('./commands/export.js');
        setExitCode(await runExport(run, opts));
      }),
  );

  commonOut(
    program
      .command('info')
      .description(
        "version, backends, the CPU backend's kernels, the gpu.js mode the GPU backend would use here, and where MNIST was found",
      )
      .option('--json', 'print the information as one JSON object')
      .addHelpText('after', examples(['bp info', 'bp info --json   # for scripts and bug reports']))
      .action(async (opts) => {
        const { runInfo } = await import('./commands/info.js');
        setExitCode(await runInfo(opts));
      }),
  );

  return program;
}
